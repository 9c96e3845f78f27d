/**
 * NATS JetStream for the relay: `natsPublisher` hands attempts off to a work-queue stream with JetStream's
 * message-id deduplication; `natsConsumer` performs them from a durable pull consumer, acking after the outcome.
 *
 * ```ts
 * import { connect } from '@nats-io/transport-node';
 * import { jetstream, jetstreamManager } from '@nats-io/jetstream';
 * import { ensureNatsStream, natsConsumer, natsPublisher } from 'async-task-ts/nats';
 * const nc = await connect({ servers: '127.0.0.1:4222' });
 * await ensureNatsStream(await jetstreamManager(nc));
 * await asyncTask.relay({ to: natsPublisher({ js: jetstream(nc) }) }).start();
 * await natsConsumer(asyncTask, { js: jetstream(nc), concurrency: 10 }); // any number, on any machines
 * ```
 */
import {
  AckPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { type ConsumeOptions, type ConsumeOutcome, type Performer, performRelayMessage } from './consume.js';
import { encodeMessage } from './message.js';
import type { RelayPublisher } from './publisher.js';

export const DEFAULT_NATS_STREAM = 'ASYNC_TASK';
export const DEFAULT_NATS_SUBJECT = 'async-task.perform';
export const DEFAULT_NATS_CONSUMER = 'async-task';

const nanos = (ms: number) => ms * 1_000_000;

export interface NatsStreamOptions {
  /** Default: `ASYNC_TASK`. */
  stream?: string;
  /** Default: `async-task.perform`. */
  subject?: string;
  /**
   * JetStream drops a message whose id it saw within this window. Make it longer than the relay's `leaseMs`,
   * so a second hand-off of a run still waiting in the stream is dropped. Default: 120,000 ms.
   */
  duplicateWindowMs?: number;
}

/**
 * Creates the work-queue stream if it does not exist (file storage; a message leaves it when acked). An
 * existing stream is left as it is: configure replicas and limits yourself for production.
 */
export async function ensureNatsStream(jsm: JetStreamManager, options: NatsStreamOptions = {}): Promise<void> {
  const name = options.stream ?? DEFAULT_NATS_STREAM;
  try {
    await jsm.streams.info(name);
    return;
  } catch {
    // Not found: create it.
  }
  try {
    await jsm.streams.add({
      name,
      subjects: [options.subject ?? DEFAULT_NATS_SUBJECT],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: nanos(options.duplicateWindowMs ?? 120_000),
    });
  } catch (error) {
    // Another process created it meanwhile.
    await jsm.streams.info(name).catch(() => {
      throw error;
    });
  }
}

export interface NatsPublisherOptions {
  js: JetStreamClient;
  /** Default: `async-task.perform`. */
  subject?: string;
}

/**
 * Publishes one message per attempt with `msgID` = its dedupe id (`Nats-Msg-Id`) and waits for every
 * PubAck: the batch counts as handed off once the stream stored it.
 */
export function natsPublisher({ js, subject = DEFAULT_NATS_SUBJECT }: NatsPublisherOptions): RelayPublisher {
  return {
    name: 'nats',
    async publish(messages) {
      await Promise.all(
        messages.map((message) => js.publish(subject, encodeMessage(message), { msgID: message.dedupeId })),
      );
    },
  };
}

export interface NatsConsumerOptions extends ConsumeOptions, NatsStreamOptions {
  js: JetStreamClient;
  /** A JetStreamManager to create the durable consumer (and stream) if missing. Default: they must exist. */
  jsm?: JetStreamManager;
  /** The durable consumer's name. Default: `async-task`. */
  consumer?: string;
  /** Attempts performed at once by this process. Default: 10. */
  concurrency?: number;
  /** JetStream redelivers a message not acked within this (when creating the consumer). Default: 30,000 ms. */
  ackWaitMs?: number;
  /** After an outcome could not be written (database down), redeliver after this long. Default: 1,000 ms. */
  nakDelayMs?: number;
  /** Told of every message performed (for metrics and tests). */
  onOutcome?: (outcome: ConsumeOutcome) => void;
}

export interface NatsConsumer {
  /** Stops pulling, waits for the attempts running here to finish and be acked. The connection stays open. */
  close(): Promise<void>;
}

/**
 * Performs relay messages from a durable pull consumer with explicit acks: each is acked once its outcome
 * is committed (or there is nothing to do), and marked in progress while it runs so JetStream does not
 * redeliver it meanwhile. If this process dies, JetStream redelivers after `ack_wait`.
 */
export async function natsConsumer(asyncTask: Performer, options: NatsConsumerOptions): Promise<NatsConsumer> {
  const {
    js,
    jsm,
    stream = DEFAULT_NATS_STREAM,
    subject,
    duplicateWindowMs,
    consumer: durable = DEFAULT_NATS_CONSUMER,
    concurrency = 10,
    ackWaitMs = 30_000,
    nakDelayMs = 1000,
    onOutcome,
    ...consumeOptions
  } = options;
  if (jsm) {
    await ensureNatsStream(jsm, {
      stream,
      ...(subject === undefined ? {} : { subject }),
      ...(duplicateWindowMs === undefined ? {} : { duplicateWindowMs }),
    });
    await jsm.consumers.add(stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(ackWaitMs),
      max_ack_pending: -1,
    });
  }
  const pull = await js.consumers.get(stream, durable);
  const messages = await pull.consume({ max_messages: concurrency });
  const running = new Set<Promise<void>>();
  const handle = async (message: JsMsg) => {
    // Keep JetStream from redelivering a long run to another consumer.
    const working = setInterval(() => message.working(), Math.max(1000, Math.floor(ackWaitMs / 3)));
    try {
      const { outcome } = await performRelayMessage(asyncTask, message.data, consumeOptions);
      message.ack();
      onOutcome?.(outcome);
    } catch (error) {
      consumeOptions.logger?.error('relay consumer: could not perform; redelivering later', { error: String(error) });
      message.nak(nakDelayMs);
    } finally {
      clearInterval(working);
    }
  };
  const loop = (async () => {
    for await (const message of messages) {
      const task = handle(message).catch(() => {});
      running.add(task);
      void task.finally(() => running.delete(task));
      if (running.size >= concurrency) await Promise.race(running);
    }
  })();
  return {
    async close() {
      await messages.close();
      await loop.catch(() => {});
      await Promise.all(running);
    },
  };
}
