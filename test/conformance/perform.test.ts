import { expect, it, vi } from 'vitest';
import { InvalidStateError } from '../../src/index.js';
import { forEachDialect, sleep } from '../support/suite.js';

forEachDialect('perform contract', (env) => {
  it('does nothing to an attempt that is not due yet: num_attempts unchanged', async () => {
    const { db, make, calls } = await env();
    const asyncTask = await make();
    const future = new Date(Date.now() + 60_000);
    const attempt = await db.inTransaction((tx) =>
      asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 1 }, { scheduledAt: future }),
    );
    const result = await asyncTask.perform(attempt.id);
    expect(result.outcome).toBe('not-due');
    const after = await asyncTask.find(attempt.id);
    expect(after?.numAttempts).toBe(0);
    expect(after?.status).toBe('pending');
    expect(calls).toHaveLength(0);
  });

  it('raises InvalidStateError for an attempt that is not pending', async () => {
    const { db, make } = await env();
    const asyncTask = await make();
    const attempt = await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 1 }));
    await asyncTask.perform(attempt.id);
    await expect(asyncTask.perform(attempt.id)).rejects.toBeInstanceOf(InvalidStateError);
    await expect(asyncTask.perform(attempt.id)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect((await asyncTask.find(attempt.id))?.numAttempts).toBe(1);
  });

  it('performs a due attempt: succeeded, num_attempts 1, completed_at set, target called with the args', async () => {
    const { db, make, calls } = await env();
    const asyncTask = await make();
    const attempt = await db.inTransaction((tx) =>
      asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 7, note: 'gift' }),
    );
    expect(attempt).toMatchObject({ status: 'pending', numAttempts: 0, completedAt: null, methodName: 'fulfill' });
    const result = await asyncTask.perform(attempt.id);
    expect(result.outcome).toBe('succeeded');
    expect(result.attempt).toMatchObject({ status: 'succeeded', numAttempts: 1 });
    expect(result.attempt.completedAt).toBeInstanceOf(Date);
    expect(calls).toEqual([{ method: 'fulfill', args: { orderId: 7, note: 'gift' }, numAttempts: 1 }]);
    expect(await db.countEffects('order-7')).toBe(1);
  });

  it('a throwing target: the hook sees the error, num_attempts is 1, the attempt stays pending for a retry', async () => {
    const { db, make } = await env();
    const onPerformError = vi.fn();
    const asyncTask = await make({ onPerformError });
    const attempt = await db.inTransaction((tx) =>
      asyncTask.enqueue(tx, 'OrderClient', 'explode', { message: 'boom' }),
    );
    const result = await asyncTask.perform(attempt.id);
    expect(result.outcome).toBe('retrying');
    expect(onPerformError).toHaveBeenCalledTimes(1);
    const [error, seen] = onPerformError.mock.calls[0] as [Error, { id: string; numAttempts: number }];
    expect(error.message).toBe('boom');
    expect(seen.id).toBe(attempt.id);
    const after = await asyncTask.find(attempt.id);
    expect(after).toMatchObject({ status: 'pending', numAttempts: 1, completedAt: null });
    expect(after?.lastError).toContain('boom');
    expect(after?.scheduledAt?.getTime()).toBeGreaterThan(Date.now());
  });

  it("the target's writes through ctx.tx vanish with a failure", async () => {
    const { db, make } = await env();
    const asyncTask = await make();
    const attempt = await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'explode', { message: 'x' }));
    await asyncTask.perform(attempt.id);
    expect(await db.countEffects('explode')).toBe(0);
  });

  it("the target's writes through ctx.tx commit together with succeeded", async () => {
    const { db, make } = await env();
    const asyncTask = await make();
    const attempt = await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 3 }));
    await asyncTask.perform(attempt.id);
    expect(await db.countEffects('order-3')).toBe(1);
    expect((await asyncTask.find(attempt.id))?.status).toBe('succeeded');
  });

  it('past maxAttempts the attempt is failed with completed_at and last_error', async () => {
    const { db, make } = await env();
    const asyncTask = await make({ retry: { maxAttempts: 2, backoff: () => 0 } });
    const attempt = await db.inTransaction((tx) =>
      asyncTask.enqueue(tx, 'OrderClient', 'explode', { message: 'again' }),
    );
    expect((await asyncTask.perform(attempt.id)).outcome).toBe('retrying');
    const second = await asyncTask.perform(attempt.id);
    expect(second.outcome).toBe('failed');
    expect(second.attempt).toMatchObject({ status: 'failed', numAttempts: 2 });
    expect(second.attempt.completedAt).toBeInstanceOf(Date);
    expect(second.attempt.lastError).toContain('again');
    await expect(asyncTask.perform(attempt.id)).rejects.toBeInstanceOf(InvalidStateError);
  });

  it('per-target retry overrides win over the default', async () => {
    const { db, make } = await env();
    const asyncTask = await make({
      retry: { maxAttempts: 5, overrides: { 'OrderClient.explode': { maxAttempts: 1 } } },
    });
    const attempt = await db.inTransaction((tx) =>
      asyncTask.enqueue(tx, 'OrderClient', 'explode', { message: 'once' }),
    );
    expect((await asyncTask.perform(attempt.id)).outcome).toBe('failed');
  });

  it('two connections performing the same attempt at once: the target runs once', async () => {
    const { db, make, calls } = await env();
    const first = await make();
    const second = await make();
    const attempt = await db.inTransaction((tx) => first.enqueue(tx, 'OrderClient', 'slow', { ms: 200 }));
    const results = await Promise.allSettled([first.perform(attempt.id), second.perform(attempt.id)]);
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(InvalidStateError);
    expect(calls.filter((call) => call.method === 'slow')).toHaveLength(1);
    expect(await db.countEffects('slow')).toBe(1);
    expect((await first.find(attempt.id))?.status).toBe('succeeded');
  });

  it('a hook that throws does not stop the retry policy', async () => {
    const { db, make } = await env();
    const asyncTask = await make({
      onPerformError: () => {
        throw new Error('hook broke');
      },
    });
    const attempt = await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'explode', { message: 'x' }));
    const result = await asyncTask.perform(attempt.id);
    expect(result.outcome).toBe('retrying');
    expect(result.attempt.lastError).toContain('x');
  });

  it('a target cut off at its timeout counts as a failure, and ctx.signal is aborted', async () => {
    const { db, make } = await env();
    const asyncTask = await make();
    const attempt = await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'slow', { ms: 2000 }));
    const started = Date.now();
    const result = await asyncTask.perform(attempt.id, { timeoutMs: 100 });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(result.outcome).toBe('retrying');
    expect(result.attempt.lastError).toContain('timed out after 100 ms');
    await sleep(2100);
    expect(await db.countEffects('slow')).toBe(0);
  });
});
