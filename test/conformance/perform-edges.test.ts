import { expect, it } from 'vitest';
import { createAsyncTask, type PerformContext } from '../../src/index.js';
import { forEachDialect } from '../support/suite.js';

forEachDialect('perform edge cases', (env, dialect) => {
  it('a target can enqueue follow-up attempts through ctx.tx; they commit with its success only', async () => {
    const { db } = await env();
    const followUps: number[] = [];
    const Chain = {
      async start(args: { n: number; failAfterEnqueue: boolean }, ctx: PerformContext<any>) {
        await asyncTask.enqueue(ctx.tx, 'Chain', 'next', { n: args.n + 1 });
        if (args.failAfterEnqueue) throw new Error('after enqueue');
      },
      async next(args: { n: number }) {
        followUps.push(args.n);
      },
    };
    const asyncTask = createAsyncTask({ db: db.driver(), targets: { Chain }, retry: { maxAttempts: 1 } });
    await asyncTask.migrate();
    await db.inTransaction(async (tx) => {
      await asyncTask.enqueue(tx, 'Chain', 'start', { n: 1, failAfterEnqueue: false });
      await asyncTask.enqueue(tx, 'Chain', 'start', { n: 10, failAfterEnqueue: true });
    });
    expect(await asyncTask.drain()).toEqual({ performed: 3, succeeded: 2, retrying: 0, failed: 1 });
    expect(followUps).toEqual([2]);
    await asyncTask.close();
  });

  it('perform() of an attempt whose target this registry lacks is refused with UNKNOWN_TARGET and leaves it untouched', async () => {
    const { db, make, calls } = await env();
    const full = await make();
    const attempt = await db.inTransaction((tx) => full.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 8 }));
    const without = createAsyncTask({ db: db.driver(), targets: { Other: { run() {} } }, retry: { backoff: () => 0 } });
    await expect(without.perform(attempt.id)).rejects.toMatchObject({ code: 'UNKNOWN_TARGET' });
    expect(await full.find(attempt.id)).toMatchObject({ status: 'pending', numAttempts: 0, lastError: null });
    expect((await full.perform(attempt.id)).outcome).toBe('succeeded');
    expect(calls).toHaveLength(1);
    await without.close();
  });

  it('a target that writes right after being cut off at its timeout writes nothing', async () => {
    const { db } = await env();
    let lateWrite: Promise<unknown> | undefined;
    const Late = {
      async hang(_args: Record<string, never>, ctx: PerformContext<any>) {
        ctx.signal.addEventListener('abort', () => {
          // Keep the connection busy so whatever the library sends next queues behind this query…
          if (dialect.name === 'postgres') ctx.tx.query('SELECT pg_sleep(0.1)').catch(() => {});
          // …and write a moment later, after the library has begun abandoning the transaction.
          setTimeout(() => {
            lateWrite = db.writeEffect(ctx.tx, 'late').catch(() => 'refused');
          }, 20);
        });
        await new Promise(() => {});
      },
    };
    const asyncTask = createAsyncTask({ db: db.driver(), targets: { Late } });
    await asyncTask.migrate();
    const attempt = await db.inTransaction((tx) => asyncTask.enqueue(tx, 'Late', 'hang', {}));
    expect((await asyncTask.perform(attempt.id, { timeoutMs: 50 })).outcome).toBe('retrying');
    await new Promise((resolve) => setTimeout(resolve, 60));
    await lateWrite;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await db.countEffects('late')).toBe(0);
    await asyncTask.close();
  });
});
