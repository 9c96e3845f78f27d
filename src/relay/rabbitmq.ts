/**
 * RabbitMQ (amqplib) for the relay: `rabbitmqPublisher` hands attempts off as persistent messages on a
 * durable queue, with publisher confirms; `rabbitmqConsumer` performs them and acks after the outcome.
 *
 * ```ts
 * import amqp from 'amqplib';
 * import { rabbitmqConsumer, rabbitmqPublisher } from 'async-task-ts/rabbitmq';
 * const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
 * await asyncTask.relay({ to: rabbitmqPublisher({ channel: await connection.createConfirmChannel() }) }).start();
 * await rabbitmqConsumer(asyncTask, { channel: await connection.createChannel(), prefetch: 10 }); // any number
 * ```
 */
import { once } from 'node:events';
import type { Channel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { type ConsumeOptions, type ConsumeOutcome, type Performer, performRelayMessage } from './consume.js';
import { encodeMessage } from './message.js';
import type { RelayPublisher } from './publisher.js';

/** The queue name the CLI and the examples use. */
export const DEFAULT_RABBITMQ_QUEUE = 'async-task';

/** Declared by both sides (a durable queue); declare it yourself beforehand for other arguments (e.g. quorum). */
const QUEUE_OPTIONS: Options.AssertQueue = { durable: true };

export interface RabbitmqPublisherOptions {
  /** A confirm channel (`connection.createConfirmChannel()`): a batch counts as handed off once the broker confirms it. */
  channel: ConfirmChannel;
  /** Default: `async-task`. */
  queue?: string;
  /** Declare the queue (durable) before the first publish. Default: true. */
  assertQueue?: boolean;
}

/**
 * Publishes one persistent message per attempt to the queue and waits for the broker's confirms. The
 * dedupe id goes in `messageId`: core RabbitMQ does not drop duplicates itself (a deduplication plugin can,
 * by that id), so a second hand-off of the same run may be delivered; the consumer finds the attempt no
 * longer pending and acks it.
 */
export function rabbitmqPublisher({
  channel,
  queue = DEFAULT_RABBITMQ_QUEUE,
  assertQueue = true,
}: RabbitmqPublisherOptions): RelayPublisher {
  let declared: Promise<unknown> | undefined;
  return {
    name: 'rabbitmq',
    async publish(messages) {
      if (assertQueue) {
        declared ??= channel.assertQueue(queue, QUEUE_OPTIONS).catch((error) => {
          declared = undefined;
          throw error;
        });
        await declared;
      }
      for (const message of messages) {
        const buffered = channel.sendToQueue(queue, Buffer.from(encodeMessage(message)), {
          persistent: true,
          messageId: message.dedupeId,
          contentType: 'application/json',
          type: 'async-task.perform',
        });
        if (!buffered) await once(channel, 'drain');
      }
      await channel.waitForConfirms();
    },
  };
}

export interface RabbitmqConsumerOptions extends ConsumeOptions {
  /** A channel of its own (`connection.createChannel()`). */
  channel: Channel;
  /** Default: `async-task`. */
  queue?: string;
  /** Messages performed at once by this consumer (the channel's prefetch). Default: 10. */
  prefetch?: number;
  /** Declare the queue (durable) before consuming. Default: true. */
  assertQueue?: boolean;
  /** After an outcome could not be written (database down), wait this long before requeueing the message. Default: 1,000 ms. */
  requeueDelayMs?: number;
  /** Told of every message performed (for metrics and tests). */
  onOutcome?: (outcome: ConsumeOutcome) => void;
}

export interface RabbitmqConsumer {
  readonly consumerTag: string;
  /** Stops receiving, waits for the attempts running here to finish and be acked. The channel stays open. */
  close(): Promise<void>;
}

/**
 * Consumes relay messages with manual acks: each is acked only after its attempt's outcome is committed (or
 * there is nothing to do). A message whose outcome could not be written is requeued after a pause. If this
 * process dies, RabbitMQ redelivers its unacked messages; the row's lock and status check keep effects once.
 */
export async function rabbitmqConsumer(
  asyncTask: Performer,
  options: RabbitmqConsumerOptions,
): Promise<RabbitmqConsumer> {
  const {
    channel,
    queue = DEFAULT_RABBITMQ_QUEUE,
    prefetch = 10,
    assertQueue = true,
    requeueDelayMs = 1000,
    onOutcome,
    ...consumeOptions
  } = options;
  if (assertQueue) await channel.assertQueue(queue, QUEUE_OPTIONS);
  await channel.prefetch(prefetch);
  const running = new Set<Promise<void>>();
  const handle = async (delivery: ConsumeMessage) => {
    try {
      const { outcome } = await performRelayMessage(asyncTask, delivery.content, consumeOptions);
      channel.ack(delivery);
      onOutcome?.(outcome);
    } catch (error) {
      consumeOptions.logger?.error('relay consumer: could not perform; requeueing', { error: String(error) });
      await new Promise((resolve) => setTimeout(resolve, requeueDelayMs));
      channel.nack(delivery, false, true);
    }
  };
  const { consumerTag } = await channel.consume(
    queue,
    (delivery) => {
      if (!delivery) return; // cancelled by the broker
      const task = handle(delivery).catch(() => {}); // a closed channel: the broker redelivers
      running.add(task);
      void task.finally(() => running.delete(task));
    },
    { noAck: false },
  );
  return {
    consumerTag,
    async close() {
      await channel.cancel(consumerTag).catch(() => {});
      await Promise.all(running);
    },
  };
}
