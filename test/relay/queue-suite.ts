import { afterEach, describe, expect, it } from 'vitest';
import type { RelayMessage, RelayPublisher } from '../../src/index.js';
import {
  type ConsumerProcess,
  enqueueRolledBack,
  postgresSchema,
  type RelaySchema,
  reachable,
  startConsumerProcess,
  uniqueName,
  until,
} from './support.js';

export interface QueueUnderTest {
  /** `bullmq`, `rabbitmq`, `nats`: the consumer fixture's QUEUE. */
  readonly name: string;
  /** The variable naming the server's URL, and the default on loopback. */
  readonly urlVariable: string;
  readonly defaultUrl: string;
  readonly defaultPort: number;
  /** A publisher to a fresh queue (or stream) `queueName`, and how to close and remove it. */
  publisher(
    url: string,
    queueName: string,
  ): Promise<{ publisher: RelayPublisher; waiting(): Promise<number>; close(): Promise<void> }>;
  /** Whether the broker itself drops a second message with the same dedupe id. */
  readonly dropsDuplicates: boolean;
}

const keys = (prefix: string, count: number, extra: Record<string, unknown> = {}) =>
  Array.from({ length: count }, (_, i) => ({ key: `${prefix}-${i}`, ...extra }));

/** The relay's contract tests against one real broker, with consumers in processes of their own. */
export async function relayQueueSuite(queue: QueueUnderTest): Promise<void> {
  const url = process.env[queue.urlVariable] ?? queue.defaultUrl;
  const up = await reachable(url, queue.defaultPort);
  const title = up
    ? `relay to ${queue.name} (${url})`
    : `relay to ${queue.name}: skipped, no server at ${url} (set ${queue.urlVariable} to run)`;

  describe.skipIf(!up)(title, () => {
    const children: ConsumerProcess[] = [];
    const cleanups: (() => Promise<void>)[] = [];

    afterEach(async () => {
      for (const child of children.splice(0)) child.child.kill('SIGKILL');
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
    });

    async function setup(options: { leaseMs?: number; drop?: number } = {}) {
      const db = await postgresSchema();
      cleanups.push(() => db.close());
      const queueName = uniqueName('at');
      const target = await queue.publisher(url, queueName);
      cleanups.push(() => target.close());
      let toDrop = options.drop ?? 0;
      const dropped: RelayMessage[] = [];
      // A hand-off whose message never reaches the broker (lost after the relay recorded it).
      const lossy: RelayPublisher = {
        name: target.publisher.name,
        publish: async (messages) => {
          const kept = messages.filter((message) => {
            if (toDrop === 0) return true;
            toDrop--;
            dropped.push(message);
            return false;
          });
          if (kept.length > 0) await target.publisher.publish(kept);
        },
      };
      const relay = db.asyncTask.relay({ to: lossy, pollIntervalMs: 100, leaseMs: options.leaseMs ?? 30_000 });
      const published: RelayMessage[] = [];
      relay.on('publish', ({ messages }) => published.push(...messages));
      cleanups.push(() => relay.stop());
      const consumer = async (extra: Record<string, string> = {}) => {
        const child = await startConsumerProcess({
          ...db.env,
          QUEUE: queue.name,
          QUEUE_NAME: queueName,
          BROKER_URL: url,
          ...extra,
        });
        children.push(child);
        return child;
      };
      return { db, relay, published, dropped, consumer };
    }

    it(`a second hand-off of the same run ${queue.dropsDuplicates ? 'is dropped by the broker' : 'reaches the queue (the consumer ignores it)'}`, async () => {
      const target = await queue.publisher(url, uniqueName('at'));
      cleanups.push(() => target.close());
      const message = { attemptId: '42', run: 1, dedupeId: '42:1', target: 'Counter', method: 'bump' };
      await target.publisher.publish([message]);
      await target.publisher.publish([message, { ...message, run: 2, dedupeId: '42:2' }]);
      expect(await target.waiting()).toBe(queue.dropsDuplicates ? 2 : 3);
    });

    const allSucceeded = (db: RelaySchema, count: number) => async () =>
      (await db.count(`status = 'succeeded'`)) === count;

    it('every committed attempt is performed exactly once by consumers in three processes; rolled-back ones are never published', async () => {
      const { db, relay, published, consumer } = await setup();
      await Promise.all(['a', 'b', 'c'].map(() => consumer({ CONCURRENCY: '6' })));
      await relay.start();
      const rolledBack = await enqueueRolledBack(db, 50);
      await db.enqueue('bump', keys('k', 1000));
      expect(await enqueueRolledBack(db, 50)).toHaveLength(50);
      await until('all succeeded', allSucceeded(db, 1000), 90_000);
      const counters = await db.counters();
      expect(counters).toHaveLength(1000);
      expect(counters.filter((counter) => counter.n !== 1)).toEqual([]);
      expect(await db.count('num_attempts <> 1')).toBe(0);
      expect(await db.count('lease_owner IS NOT NULL')).toBe(0);
      const publishedIds = new Set(published.map((message) => message.attemptId));
      expect(publishedIds.size).toBe(1000);
      expect(rolledBack.filter((id) => publishedIds.has(id))).toEqual([]);
    }, 120_000);

    it('a consumer SIGKILLed mid-attempt loses nothing, and ctx.tx effects stay exactly once', async () => {
      const { db, relay, consumer } = await setup({ leaseMs: 2000 });
      await db.enqueue('bump', keys('t', 300, { ms: 20 }));
      const victim = await consumer({ CONCURRENCY: '4' });
      await relay.start();
      await until('victim is mid-run', async () => (await db.count(`status = 'succeeded'`)) >= 40, 60_000);
      victim.child.kill('SIGKILL');
      expect(await victim.exited).toBe('SIGKILL');
      await consumer({ CONCURRENCY: '4' });
      await until('all succeeded', allSucceeded(db, 300), 90_000);
      const counters = await db.counters();
      expect(counters).toHaveLength(300);
      expect(counters.filter((counter) => counter.n !== 1)).toEqual([]);
    }, 120_000);

    it('messages lost on the way are handed off again once the lease lapses, with the same dedupe id', async () => {
      const { db, relay, published, dropped, consumer } = await setup({ leaseMs: 1000, drop: 40 });
      await consumer({ CONCURRENCY: '4' });
      await relay.start();
      await db.enqueue('bump', keys('d', 200));
      await until('all succeeded', allSucceeded(db, 200), 60_000);
      expect(dropped).toHaveLength(40);
      for (const lost of dropped) {
        // The same run again, with the same dedupe id. (Under load a later run may be handed off too, when the
        // short lease lapses between a consumer counting the run and locking the row: a harmless duplicate.)
        const again = published.filter((message) => message.dedupeId === lost.dedupeId);
        expect(lost.dedupeId).toBe(`${lost.attemptId}:1`);
        expect(again.length).toBeGreaterThanOrEqual(2);
      }
      const counters = await db.counters();
      expect(counters).toHaveLength(200);
      expect(counters.filter((counter) => counter.n !== 1)).toEqual([]);
    }, 90_000);

    it('a failing target is retried through the database, one hand-off per run, until it fails', async () => {
      const { db, relay, published, consumer } = await setup();
      await consumer({ CONCURRENCY: '2', MAX_ATTEMPTS: '3' });
      await relay.start();
      await db.enqueue('fail', keys('f', 5));
      await until('all failed', async () => (await db.count(`status = 'failed'`)) === 5, 60_000);
      expect(await db.count('num_attempts <> 3')).toBe(0);
      // Each run was its own message (run 1, 2, 3); the failing runs' ctx.tx writes rolled back.
      const runs = published.map((message) => message.run).sort();
      expect(runs).toEqual([1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3]);
      expect(await db.counters()).toEqual([]);
    }, 90_000);
  });
}
