import { expect, it } from 'vitest';
import { forEachDialect } from '../support/suite.js';

forEachDialect('enqueueMany', (env) => {
  it('inserts every item in the caller transaction, in order; existing tokens return the existing attempt', async () => {
    const { db, make } = await env();
    const asyncTask = await make();
    const first = await db.inTransaction((tx) =>
      asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 0 }, { idempotenceToken: 'order-0' }),
    );
    const attempts = await db.inTransaction((tx) =>
      asyncTask.enqueueMany(
        tx,
        'OrderClient',
        'fulfill',
        [{ orderId: 0 }, { orderId: 1 }, { orderId: 2 }, { orderId: 3 }],
        { idempotenceTokens: ['order-0', undefined, 'order-2', undefined] },
      ),
    );
    expect(attempts).toHaveLength(4);
    expect(attempts[0]?.id).toBe(first.id);
    expect(attempts.map((attempt) => attempt.idempotenceToken)).toEqual(['order-0', null, 'order-2', null]);
    const decoded = await Promise.all(attempts.map((attempt) => asyncTask.decodeArgs(attempt)));
    expect(decoded).toEqual([{ orderId: 0 }, { orderId: 1 }, { orderId: 2 }, { orderId: 3 }]);
    expect(await db.countAttempts()).toBe(4);
  });

  it('a rollback removes them all', async () => {
    const { db, make } = await env();
    const asyncTask = await make();
    await expect(
      db.inTransaction(async (tx) => {
        await asyncTask.enqueueMany(tx, 'OrderClient', 'echo', [1, 2, 3]);
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(await db.countAttempts()).toBe(0);
  });
});
