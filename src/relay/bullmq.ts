/**
 * BullMQ (Redis) for the relay: `bullmqPublisher` hands attempts off as jobs, `bullmqProcessor` performs them.
 *
 * ```ts
 * import { Queue, Worker } from 'bullmq';
 * import { bullmqProcessor, bullmqPublisher } from 'async-task-ts/bullmq';
 * const queue = new Queue('async-task', { connection });
 * await asyncTask.relay({ to: bullmqPublisher({ queue }) }).start();               // one or a few processes
 * new Worker('async-task', bullmqProcessor(asyncTask), { connection, concurrency: 10 }); // any number
 * ```
 */
import { type ConnectionOptions, type Job, type JobsOptions, type Queue, Worker, type WorkerOptions } from 'bullmq';
import { type ConsumeOptions, type ConsumeOutcome, type Performer, performRelayMessage } from './consume.js';
import type { RelayMessage } from './message.js';
import type { RelayPublisher } from './publisher.js';

/** The queue name the CLI and the examples use. */
export const DEFAULT_BULLMQ_QUEUE = 'async-task';

export interface BullmqPublisherOptions {
  /** The application's BullMQ queue (it stays the application's to close). */
  queue: Queue;
  /** The jobs' name. Default: `perform`. */
  jobName?: string;
  /**
   * Extra options for every job. Default: removed once completed or failed, so the dedupe id is free again
   * for a later hand-off of the same run (BullMQ keeps a deduplication id while its job exists).
   */
  jobOptions?: Omit<JobsOptions, 'deduplication' | 'jobId'>;
}

/**
 * Publishes one job per attempt, in one `addBulk` round trip per batch, with BullMQ's deduplication id set
 * to the message's `<attemptId>:<run>`: while that job waits or runs, a second hand-off of the same run
 * (the relay's lease lapsed during a backlog) adds nothing.
 */
export function bullmqPublisher({
  queue,
  jobName = 'perform',
  jobOptions = {},
}: BullmqPublisherOptions): RelayPublisher {
  return {
    name: 'bullmq',
    async publish(messages) {
      await queue.addBulk(
        messages.map((message) => ({
          name: jobName,
          data: message,
          opts: {
            removeOnComplete: true,
            removeOnFail: true,
            ...jobOptions,
            deduplication: { id: message.dedupeId },
          },
        })),
      );
    },
  };
}

/**
 * A BullMQ processor that performs the attempt a job names, under the contract. It resolves (BullMQ then
 * completes the job) once the attempt's outcome is committed, or when there is nothing to do: the attempt
 * is no longer pending (a duplicate), not due, or gone. It throws only when the outcome could not be
 * written; the job then fails (or is retried by its `attempts`), and the relay hands the attempt off again
 * once its lease lapses. BullMQ's abort signal (worker closing) reaches the target as `ctx.signal`.
 */
export function bullmqProcessor(
  asyncTask: Performer,
  options: ConsumeOptions = {},
): (job: Job<RelayMessage>, token?: string, signal?: AbortSignal) => Promise<ConsumeOutcome> {
  return async (job, _token, signal) => {
    const { outcome } = await performRelayMessage(asyncTask, job.data, {
      ...options,
      ...(signal ? { signal } : {}),
    });
    return outcome;
  };
}

export interface BullmqConsumerOptions extends Omit<WorkerOptions, 'connection'> {
  connection: ConnectionOptions;
  /** Default: `async-task`. */
  queueName?: string;
  /** Passed to each perform: cut a target off after this long (a failed run). Default: none. */
  timeoutMs?: number;
}

/** A BullMQ `Worker` running {@link bullmqProcessor}; close it with `await consumer.close()`. */
export function bullmqConsumer(asyncTask: Performer, options: BullmqConsumerOptions): Worker<RelayMessage> {
  const { queueName = DEFAULT_BULLMQ_QUEUE, timeoutMs, ...workerOptions } = options;
  return new Worker<RelayMessage, ConsumeOutcome>(
    queueName,
    bullmqProcessor(asyncTask, timeoutMs === undefined ? {} : { timeoutMs }),
    workerOptions,
  );
}
