import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { internalsOf } from '../../../src/async-task/internals.js';
import { silentLogger } from '../../../src/core/types.js';
import { type AsyncTaskOptions, createAsyncTask, type PerformContext, type Worker } from '../../../src/index.js';
import { RecurringScheduler } from '../../../src/recurring/scheduler.js';
import type { Store } from '../../../src/store/store.js';

/** What one ORM's test file provides to the shared suite; `Tx` is the ORM's own transaction type. */
export interface AdapterHarness<Tx> {
  /** A new async-task driver over the ORM instance under test. */
  driver(): Store<Tx>;
  /** Runs `fn` in a transaction of the ORM: commits when it returns, rolls back when it throws. */
  inTransaction<T>(fn: (tx: Tx) => Promise<T> | T): Promise<T>;
  /** Writes one row through the ORM's own API, inside `tx`. */
  writeEffect(tx: Tx, key: string): Promise<void> | void;
  /** True when `tx` is the ORM's transaction handle (what targets must receive as `ctx.tx`). */
  isOrmHandle(tx: unknown): boolean;
  countEffects(key: string): Promise<number>;
  countAttempts(): Promise<number>;
  close(): Promise<void>;
}

export interface AdapterSuiteOptions {
  /** The ORM's transactions are synchronous (better-sqlite3): enqueue with enqueueSync. */
  sync?: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function untilSucceeded(
  asyncTask: { list(o: { status: 'succeeded' }): Promise<{ attempts: unknown[] }> },
  n: number,
) {
  const deadline = Date.now() + 10_000;
  while ((await asyncTask.list({ status: 'succeeded' })).attempts.length < n) {
    if (Date.now() > deadline) throw new Error('the worker did not perform the attempts in time');
    await sleep(20);
  }
}

/** The adapter contract: commit → attempt, rollback → none, idempotence, ctx.tx writes commit with success. */
export function adapterSuite<Tx>(
  title: string,
  open: () => Promise<AdapterHarness<Tx>>,
  suiteOptions: AdapterSuiteOptions = {},
  cleanup: () => Promise<void> = async () => {},
): void {
  describe(`adapter: ${title}`, () => {
    const opened: AdapterHarness<Tx>[] = [];
    const closers: (() => Promise<void>)[] = [];
    const workers: Worker[] = [];
    afterEach(async () => {
      await Promise.all(workers.splice(0).map((worker) => worker.stop({ timeoutMs: 1000 })));
      while (closers.length > 0) await closers.pop()?.();
      while (opened.length > 0) await opened.pop()?.close();
    });
    afterAll(cleanup);

    const setup = async (options: Partial<AsyncTaskOptions<any, Tx>> = {}) => {
      const harness = await open();
      opened.push(harness);
      const seen: { args: unknown; ormHandle: boolean }[] = [];
      const late = { writeRejected: false };
      const pinged: number[] = [];
      const targets = {
        Orders: {
          async fulfill(args: { orderId: number }, ctx: PerformContext<Tx>) {
            seen.push({ args, ormHandle: harness.isOrmHandle(ctx.tx) });
            await harness.writeEffect(ctx.tx, `order-${args.orderId}`);
          },
          async explode(args: { orderId: number }, ctx: PerformContext<Tx>) {
            await harness.writeEffect(ctx.tx, `order-${args.orderId}`);
            throw new Error('target failed');
          },
          async ping(args: { orderId: number }) {
            pinged.push(args.orderId);
          },
          // Ignores ctx.signal and writes after its timeout.
          async late(args: { orderId: number }, ctx: PerformContext<Tx>) {
            await sleep(300);
            try {
              await harness.writeEffect(ctx.tx, `order-${args.orderId}`);
            } catch {
              late.writeRejected = true;
            }
          },
        },
      };
      const asyncTask = createAsyncTask({ db: harness.driver(), targets, ...options });
      closers.push(() => asyncTask.close());
      await asyncTask.migrate();
      type Method = 'fulfill' | 'explode' | 'late' | 'ping';
      const enqueue = (
        tx: Tx,
        method: Method,
        orderId: number,
        enqueueOptions?: Parameters<typeof asyncTask.enqueue>[4],
      ) =>
        suiteOptions.sync
          ? asyncTask.enqueueSync(tx, 'Orders', method, { orderId }, enqueueOptions)
          : asyncTask.enqueue(tx, 'Orders', method, { orderId }, enqueueOptions);
      // One after another in one transaction; synchronously where the ORM's transactions are.
      const enqueueAll = (tx: Tx, method: Method, orderIds: number[]) => {
        if (suiteOptions.sync) return orderIds.map((orderId) => enqueue(tx, method, orderId));
        return orderIds.reduce<Promise<unknown>>(
          (previous, orderId) => previous.then(() => enqueue(tx, method, orderId)),
          Promise.resolve(),
        );
      };
      return { harness, asyncTask, seen, late, pinged, enqueue, enqueueAll };
    };

    it('commit: the attempt exists, and perform hands the target the ORM transaction whose writes commit with succeeded', async () => {
      const { harness, asyncTask, seen, enqueue } = await setup();
      const attempt = await harness.inTransaction((tx) => enqueue(tx, 'fulfill', 1));
      expect(attempt).toMatchObject({ status: 'pending', target: 'Orders', methodName: 'fulfill', numAttempts: 0 });
      expect(attempt.createdAt).toBeInstanceOf(Date);
      expect(await harness.countAttempts()).toBe(1);
      const result = await asyncTask.perform(attempt.id);
      expect(result.outcome).toBe('succeeded');
      expect(result.attempt).toMatchObject({ status: 'succeeded', numAttempts: 1 });
      expect(result.attempt.completedAt).toBeInstanceOf(Date);
      expect(seen).toEqual([{ args: { orderId: 1 }, ormHandle: true }]);
      expect(await harness.countEffects('order-1')).toBe(1);
    });

    it('rollback: no attempt', async () => {
      const { harness, enqueue } = await setup();
      await expect(
        harness.inTransaction((tx) => {
          const pending = enqueue(tx, 'fulfill', 2);
          if (suiteOptions.sync) throw new Error('roll back');
          return (pending as Promise<unknown>).then(() => {
            throw new Error('roll back');
          });
        }),
      ).rejects.toThrow('roll back');
      expect(await harness.countAttempts()).toBe(0);
    });

    it('the attempt and the application’s own writes in the same transaction commit together', async () => {
      const { harness, asyncTask, enqueue } = await setup();
      const attempt = await harness.inTransaction((tx) => {
        const written = harness.writeEffect(tx, 'app-write');
        if (suiteOptions.sync) return enqueue(tx, 'fulfill', 3);
        return Promise.resolve(written).then(() => enqueue(tx, 'fulfill', 3));
      });
      expect(await harness.countEffects('app-write')).toBe(1);
      expect(await asyncTask.find(attempt.id)).toMatchObject({ status: 'pending' });
    });

    it('idempotence: the same token returns the first attempt and creates nothing', async () => {
      const { harness, enqueue } = await setup();
      const first = await harness.inTransaction((tx) => enqueue(tx, 'fulfill', 4, { idempotenceToken: 'order-4' }));
      const again = await harness.inTransaction((tx) => enqueue(tx, 'fulfill', 99, { idempotenceToken: 'order-4' }));
      expect(again.id).toBe(first.id);
      expect(await harness.countAttempts()).toBe(1);
      const other = await harness.inTransaction((tx) => enqueue(tx, 'explode', 4, { idempotenceToken: 'order-4' }));
      expect(other.id).not.toBe(first.id);
      expect(await harness.countAttempts()).toBe(2);
    });

    it('a failing target: its writes through ctx.tx roll back, the attempt stays pending with last_error', async () => {
      const { harness, asyncTask, enqueue } = await setup();
      const attempt = await harness.inTransaction((tx) => enqueue(tx, 'explode', 5));
      const result = await asyncTask.perform(attempt.id);
      expect(result.outcome).toBe('retrying');
      expect(result.attempt.lastError).toContain('target failed');
      expect(await harness.countEffects('order-5')).toBe(0);
      expect(await asyncTask.find(attempt.id)).toMatchObject({ status: 'pending', numAttempts: 1 });
    });

    it('scheduledAt round-trips as a Date and a future attempt is not performed', async () => {
      const { harness, asyncTask, enqueue } = await setup();
      const scheduledAt = new Date(Date.now() + 3_600_000);
      const attempt = await harness.inTransaction((tx) => enqueue(tx, 'fulfill', 6, { scheduledAt }));
      expect(attempt.scheduledAt?.getTime()).toBe(scheduledAt.getTime());
      expect((await asyncTask.perform(attempt.id)).outcome).toBe('not-due');
      expect(await asyncTask.drain()).toMatchObject({ performed: 0 });
    });

    it('a target cut off at its timeout cannot write through ctx.tx after the rollback', async () => {
      const { harness, asyncTask, late, enqueue } = await setup();
      const attempt = await harness.inTransaction((tx) => enqueue(tx, 'late', 8));
      const result = await asyncTask.perform(attempt.id, { timeoutMs: 50 });
      expect(result.outcome).toBe('retrying');
      await sleep(500);
      expect(late.writeRejected).toBe(true);
      expect(await harness.countEffects('order-8')).toBe(0);
    });

    it('recurring: two schedulers enqueue one tick through the ORM driver; the last tick is read back', async () => {
      const recurring = {
        nightly: { cron: '0 3 * * *', target: 'Orders', method: 'fulfill', args: { orderId: 30 } },
      } as const;
      const { asyncTask, seen } = await setup({ recurring } as never);
      const other = await setup({ recurring } as never);
      let clock = new Date('2026-05-01T12:00:00Z');
      const schedulers = [asyncTask, other.asyncTask].map(
        (instance) =>
          new RecurringScheduler(internalsOf(instance), internalsOf(instance).schedules ?? [], {
            logger: silentLogger,
            onError: (error) => {
              throw error;
            },
            now: () => clock,
          }),
      );
      for (const scheduler of schedulers) await scheduler.poll();
      clock = new Date('2026-05-02T03:00:01Z');
      await Promise.all(schedulers.map((scheduler) => scheduler.poll()));
      const { attempts } = await asyncTask.list();
      expect(attempts.map((attempt) => attempt.idempotenceToken)).toEqual([
        'recurring:nightly:2026-05-02T03:00:00.000Z',
      ]);
      expect(await asyncTask.drain()).toMatchObject({ performed: 1, succeeded: 1 });
      expect(seen).toEqual([{ args: { orderId: 30 }, ormHandle: true }]);
      const [status] = await asyncTask.recurring.list();
      expect(status?.lastTick).toMatchObject({ at: new Date('2026-05-02T03:00:00Z'), status: 'succeeded' });
    });

    it('a transactional worker performs attempts enqueued through the ORM; ctx.tx writes commit', async () => {
      const { harness, asyncTask, seen, enqueueAll } = await setup();
      const worker = asyncTask.worker({ mode: 'transactional', concurrency: 2, pollIntervalMs: 100 });
      workers.push(worker);
      await worker.start();
      await harness.inTransaction((tx) => enqueueAll(tx, 'fulfill', [20, 21, 22, 23, 24]));
      await untilSucceeded(asyncTask, 5);
      await worker.stop();
      expect(seen.map((call) => call.ormHandle)).toEqual([true, true, true, true, true]);
      for (let orderId = 20; orderId < 25; orderId++) expect(await harness.countEffects(`order-${orderId}`)).toBe(1);
    });

    it('a leased worker performs attempts enqueued through the ORM (no transaction: ctx.tx is not for writes)', async () => {
      const { harness, asyncTask, pinged, enqueueAll } = await setup();
      const worker = asyncTask.worker({ mode: 'leased', concurrency: 2, pollIntervalMs: 100 });
      workers.push(worker);
      await worker.start();
      await harness.inTransaction((tx) => enqueueAll(tx, 'ping', [30, 31, 32]));
      await untilSucceeded(asyncTask, 3);
      await worker.stop();
      expect(pinged.sort()).toEqual([30, 31, 32]);
    });

    it('expire, retry and drain run through the ORM’s transactions', async () => {
      const { harness, asyncTask, enqueue } = await setup();
      const attempt = await harness.inTransaction((tx) => enqueue(tx, 'fulfill', 7));
      expect((await asyncTask.expire(attempt.id)).status).toBe('expired');
      expect((await asyncTask.retry(attempt.id)).status).toBe('pending');
      expect(await asyncTask.drain()).toMatchObject({ performed: 1, succeeded: 1 });
      expect(await harness.countEffects('order-7')).toBe(1);
      await asyncTask.migrate(); // idempotent through the ORM too
    });
  });
}
