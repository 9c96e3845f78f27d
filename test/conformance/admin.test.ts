import { expect, it } from 'vitest';
import { AttemptNotFoundError, InvalidOptionsError, InvalidStateError } from '../../src/index.js';
import { forEachDialect } from '../support/suite.js';

forEachDialect('expire, fail, retry, find, list, drain, migrate', (env) => {
  for (const action of ['expire', 'fail'] as const) {
    const status = action === 'expire' ? 'expired' : 'failed';

    it(`${action} from pending sets ${status} and completed_at`, async () => {
      const { db, make } = await env();
      const asyncTask = await make();
      const attempt = await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 1 }));
      const done = await asyncTask[action](attempt.id);
      expect(done.status).toBe(status);
      expect(done.completedAt).toBeInstanceOf(Date);
      expect(done.numAttempts).toBe(0);
    });

    it(`${action} from anything but pending raises InvalidStateError`, async () => {
      const { db, make } = await env();
      const asyncTask = await make();
      const attempt = await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 1 }));
      await asyncTask.perform(attempt.id);
      await expect(asyncTask[action](attempt.id)).rejects.toBeInstanceOf(InvalidStateError);
      const other = await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 2 }));
      await asyncTask.expire(other.id);
      await expect(asyncTask[action](other.id)).rejects.toBeInstanceOf(InvalidStateError);
      expect((await asyncTask.find(other.id))?.status).toBe('expired');
    });
  }

  it('retry moves failed and expired attempts back to pending, due now; anything else is InvalidStateError', async () => {
    const { db, make, calls } = await env();
    const asyncTask = await make();
    const a = await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 1 }));
    const b = await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 2 }));
    await expect(asyncTask.retry(a.id)).rejects.toBeInstanceOf(InvalidStateError);
    await asyncTask.fail(a.id);
    await asyncTask.expire(b.id);
    for (const id of [a.id, b.id]) {
      const retried = await asyncTask.retry(id);
      expect(retried).toMatchObject({ status: 'pending', completedAt: null });
      expect(retried.scheduledAt!.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    }
    expect(await asyncTask.drain()).toMatchObject({ performed: 2, succeeded: 2 });
    expect(calls).toHaveLength(2);
    await expect(asyncTask.retry(a.id)).rejects.toBeInstanceOf(InvalidStateError);
  });

  it('unknown ids: find gives null, the others AttemptNotFoundError', async () => {
    const { make } = await env();
    const asyncTask = await make();
    expect(await asyncTask.find('123456')).toBeNull();
    expect(await asyncTask.find('not-a-number')).toBeNull();
    for (const id of ['123456', 'abc', '-1', '1; DROP TABLE x']) {
      await expect(asyncTask.perform(id)).rejects.toBeInstanceOf(AttemptNotFoundError);
      await expect(asyncTask.expire(id)).rejects.toMatchObject({ code: 'ATTEMPT_NOT_FOUND' });
      await expect(asyncTask.retry(id)).rejects.toMatchObject({ code: 'ATTEMPT_NOT_FOUND' });
    }
  });

  it('list filters by status, target, method and token, newest first, with a keyset cursor', async () => {
    const { db, make } = await env();
    const asyncTask = await make();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: i }))).id);
    }
    const echo = await db.inTransaction((tx) =>
      asyncTask.enqueue(tx, 'OrderClient', 'echo', { x: 1 }, { idempotenceToken: 'tok' }),
    );
    await asyncTask.perform(ids[0]!);

    const page1 = await asyncTask.list({ method: 'fulfill', limit: 2 });
    expect(page1.attempts.map((a) => a.id)).toEqual([ids[4], ids[3]]);
    const page2 = await asyncTask.list({ method: 'fulfill', limit: 2, cursor: page1.nextCursor! });
    expect(page2.attempts.map((a) => a.id)).toEqual([ids[2], ids[1]]);
    const page3 = await asyncTask.list({ method: 'fulfill', limit: 2, cursor: page2.nextCursor! });
    expect(page3.attempts.map((a) => a.id)).toEqual([ids[0]]);
    expect(page3.nextCursor).toBeNull();

    expect((await asyncTask.list({ status: 'succeeded' })).attempts.map((a) => a.id)).toEqual([ids[0]]);
    expect((await asyncTask.list({ idempotenceToken: 'tok' })).attempts.map((a) => a.id)).toEqual([echo.id]);
    expect((await asyncTask.list({ target: 'Other' })).attempts).toEqual([]);
    expect((await asyncTask.list()).attempts).toHaveLength(6);
    await expect(asyncTask.list({ limit: 0 })).rejects.toBeInstanceOf(InvalidOptionsError);
    await expect(asyncTask.list({ status: 'weird' as never })).rejects.toBeInstanceOf(InvalidOptionsError);
    await expect(asyncTask.list({ cursor: "1' OR 1=1" })).rejects.toBeInstanceOf(InvalidOptionsError);
  });

  it('drain performs every due attempt, oldest due first, and reports counts', async () => {
    const { db, make, calls } = await env();
    const asyncTask = await make({ retry: { maxAttempts: 1 } });
    await db.inTransaction(async (tx) => {
      await asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 2 });
      await asyncTask.enqueue(
        tx,
        'OrderClient',
        'fulfill',
        { orderId: 1 },
        { scheduledAt: new Date(Date.now() - 60_000) },
      );
      await asyncTask.enqueue(tx, 'OrderClient', 'explode', { message: 'no' });
      await asyncTask.enqueue(
        tx,
        'OrderClient',
        'fulfill',
        { orderId: 3 },
        { scheduledAt: new Date(Date.now() + 60_000) },
      );
    });
    expect(await asyncTask.drain()).toEqual({ performed: 3, succeeded: 2, retrying: 0, failed: 1 });
    expect(calls.map((c) => c.args)).toEqual([{ orderId: 1 }, { orderId: 2 }, { message: 'no' }]);
  });

  it('migrate is idempotent and safe when several processes run it at once', async () => {
    const { db, make } = await env();
    const all = await Promise.all([make(), make(), make()]);
    await all[0]!.migrate();
    const attempt = await db.inTransaction((tx) => all[1]!.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 1 }));
    expect((await all[2]!.perform(attempt.id)).outcome).toBe('succeeded');
  });
});
