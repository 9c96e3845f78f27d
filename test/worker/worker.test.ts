import { afterEach, expect, it } from 'vitest';
import type { Worker } from '../../src/index.js';
import { forEachDialect, sleep } from '../support/suite.js';

/** Polls until `check` holds, or fails after `ms`. */
async function until(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

const workers: Worker[] = [];
afterEach(async () => {
  // A test that fails mid-way must not leave a worker claiming into the next test's database.
  await Promise.all(workers.splice(0).map((worker) => worker.stop({ timeoutMs: 1000 })));
});

forEachDialect('worker', (env) => {
  for (const mode of ['transactional', 'leased'] as const) {
    it(`${mode}: performs enqueued attempts once each and stops cleanly`, async () => {
      const { db, make, calls } = await env();
      const asyncTask = await make();
      const worker = asyncTask.worker({ mode, concurrency: 4, pollIntervalMs: 200 });
      workers.push(worker);
      const events: string[] = [];
      worker.on('attempt:succeeded', ({ attempt }) => events.push(attempt.id));
      await worker.start();
      expect(worker.state).toBe('running');
      const ids: string[] = [];
      for (let batch = 0; batch < 5; batch++) {
        await db.inTransaction(async (tx) => {
          for (let i = 0; i < 20; i++) {
            ids.push((await asyncTask.enqueue(tx, 'OrderClient', 'echo', { n: batch * 20 + i })).id);
          }
        });
      }
      await until(async () => (await asyncTask.list({ status: 'succeeded', limit: 1000 })).attempts.length === 100);
      await worker.stop();
      expect(worker.state).toBe('stopped');
      expect(calls).toHaveLength(100);
      expect(new Set(calls.map((call) => (call.args as { n: number }).n)).size).toBe(100);
      expect(new Set(events)).toEqual(new Set(ids));
      const { attempts } = await asyncTask.list({ limit: 1000 });
      for (const attempt of attempts) {
        expect(attempt).toMatchObject({ status: 'succeeded', numAttempts: 1, leaseOwner: null, leaseExpiresAt: null });
      }
    });
  }

  it('transactional: effects through ctx.tx commit with succeeded; a throwing target rolls back only its own', async () => {
    const { db, make } = await env();
    const asyncTask = await make({ retry: { maxAttempts: 1 } });
    await db.inTransaction(async (tx) => {
      await asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 1 });
      await asyncTask.enqueue(tx, 'OrderClient', 'explode', { message: 'boom' });
      await asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 2 });
    });
    const worker = asyncTask.worker({ concurrency: 1, maxAttemptsPerTransaction: 8 });
    workers.push(worker);
    await worker.start();
    await until(async () => (await asyncTask.list({ status: 'pending' })).attempts.length === 0);
    await worker.stop();
    expect(await db.countEffects('order-1')).toBe(1);
    expect(await db.countEffects('order-2')).toBe(1);
    expect(await db.countEffects('explode')).toBe(0);
    const failed = (await asyncTask.list({ status: 'failed' })).attempts;
    expect(failed).toHaveLength(1);
    expect(failed[0]?.lastError).toContain('boom');
    expect(failed[0]?.completedAt).toBeInstanceOf(Date);
  });

  it('leased: ctx.tx is not available and says so', async () => {
    const { db, make } = await env();
    const asyncTask = await make({ retry: { maxAttempts: 1 } });
    await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 9 }));
    const worker = asyncTask.worker({ mode: 'leased' });
    workers.push(worker);
    await worker.start();
    await until(async () => (await asyncTask.list({ status: 'failed' })).attempts.length === 1);
    await worker.stop();
    const [failed] = (await asyncTask.list({ status: 'failed' })).attempts;
    expect(failed?.lastError).toContain('ctx.tx is not available in the leased mode');
  });

  it('rejects bad options with a clear error', async () => {
    const { make } = await env();
    const asyncTask = await make();
    expect(() => asyncTask.worker({ concurrency: 0 })).toThrow(/concurrency must be an integer/);
    expect(() => asyncTask.worker({ mode: 'fast' as never })).toThrow(/mode must be/);
    expect(() => asyncTask.worker({ leaseMs: 1000, heartbeatMs: 1000 })).toThrow(/heartbeatMs/);
  });
});
