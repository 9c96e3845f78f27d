import { expect } from 'vitest';
import { TransactionAbortedError } from '../../../src/core/errors.js';
import type { Attempt } from '../../../src/core/types.js';
import { type Cases, newAttempt, type Proc, sleep } from '../support/target.js';

const FULFILL = { target: 'Orders', method: 'fulfill' };
const claimOf = (attempt: Attempt) => ({ id: attempt.id, numAttempts: attempt.numAttempts });

function claim(proc: Proc, owner: string, limit = 10) {
  return proc.worker.attemptClaimDue({ limit, owner, leaseMs: 60_000, methods: [FULFILL] });
}

async function tokenCount(proc: Proc, token: string): Promise<number> {
  return (await proc.store.attemptList({ limit: 10, idempotenceToken: token })).length;
}

export const outcomeCases: Cases = (setup, test) => {
  test('markSucceededClaims writes only claims the owner still holds; inside a transaction it rolls back with it', async () => {
    const { a } = await setup();
    for (let index = 0; index < 3; index++) await a.insert();
    const [x, y, z] = (await claim(a, 'w1')).map(claimOf);
    expect(await a.worker.attemptMarkSucceededClaims(null, 'w2', [x!])).toEqual([]);
    expect(await a.worker.attemptMarkSucceededClaims(null, 'w1', [{ id: y!.id, numAttempts: 5 }])).toEqual([]);
    expect(await a.worker.attemptMarkSucceededClaims(null, 'w1', [])).toEqual([]);
    expect((await a.worker.attemptMarkSucceededClaims(null, 'w1', [y!, x!])).sort()).toEqual([x!.id, y!.id].sort());
    const done = await a.store.attemptFind(x!.id);
    expect(done).toMatchObject({ status: 'succeeded', numAttempts: 1, leaseOwner: null, leaseExpiresAt: null });
    expect(done?.completedAt).toBeInstanceOf(Date);
    expect(await a.worker.attemptMarkSucceededClaims(null, 'w1', [x!])).toEqual([]);

    await expect(
      a.store.transaction(async (tx) => {
        expect(await a.worker.attemptMarkSucceededClaims(tx, 'w1', [z!])).toEqual([z!.id]);
        throw new Error('group rolled back');
      }),
    ).rejects.toThrow('group rolled back');
    expect(await a.store.attemptFind(z!.id)).toMatchObject({ status: 'pending', leaseOwner: 'w1', numAttempts: 1 });
    expect(await a.store.transaction((tx) => a.worker.attemptMarkSucceededClaims(tx, 'w1', [z!]))).toEqual([z!.id]);
    expect((await a.store.attemptFind(z!.id))?.status).toBe('succeeded');
  });

  test('recordClaimFailure with a retry: pending, due later, not claimable before, the lease released', async () => {
    const { a } = await setup();
    const x = await a.insert();
    const [held] = await claim(a, 'w1');
    expect(
      await a.worker.attemptRecordClaimFailure(null, 'w2', claimOf(held!), { lastError: 'no', retryInMs: 60_000 }),
    ).toBeNull();
    expect(
      await a.worker.attemptRecordClaimFailure(
        null,
        'w1',
        { id: x.id, numAttempts: 2 },
        { lastError: 'no', retryInMs: 1 },
      ),
    ).toBeNull();
    const before = Date.now();
    const failed = await a.worker.attemptRecordClaimFailure(null, 'w1', claimOf(held!), {
      lastError: 'boom: 💥',
      retryInMs: 60_000,
    });
    expect(failed).toMatchObject({
      id: x.id,
      status: 'pending',
      numAttempts: 1,
      lastError: 'boom: 💥',
      leaseOwner: null,
      leaseExpiresAt: null,
      completedAt: null,
    });
    expect(failed!.scheduledAt!.getTime()).toBeGreaterThan(before + 55_000);
    expect(await a.store.attemptFind(x.id)).toEqual(failed);
    expect(await claim(a, 'w2')).toEqual([]);
    expect(await a.store.attemptListDueIds(10, [FULFILL])).toEqual([]);
    expect((await a.store.attemptFindWithDue(x.id))?.due).toBe(false);
    // The same claim is spent.
    expect(
      await a.worker.attemptRecordClaimFailure(null, 'w1', claimOf(held!), { lastError: 'again', retryInMs: null }),
    ).toBeNull();
  });

  test('recordClaimFailure with a short retry: claimable again once due, counted again', async () => {
    const { a } = await setup();
    const x = await a.insert();
    const [held] = await claim(a, 'w1');
    await a.store.transaction((tx) =>
      a.worker.attemptRecordClaimFailure(tx, 'w1', claimOf(held!), { lastError: 'soon', retryInMs: 300 }),
    );
    expect(await claim(a, 'w1')).toEqual([]);
    await sleep(400);
    const [again] = await claim(a, 'w2');
    expect(again).toMatchObject({ id: x.id, numAttempts: 2, leaseOwner: 'w2', lastError: 'soon' });
  });

  test('recordClaimFailure without a retry: failed, completedAt set; the write is refused afterwards', async () => {
    const { a } = await setup();
    const x = await a.insert();
    const [held] = await claim(a, 'w1');
    const failed = await a.worker.attemptRecordClaimFailure(null, 'w1', claimOf(held!), {
      lastError: 'fatal',
      retryInMs: null,
    });
    expect(failed).toMatchObject({ id: x.id, status: 'failed', lastError: 'fatal', leaseOwner: null, numAttempts: 1 });
    expect(failed?.completedAt).toBeInstanceOf(Date);
    expect(await a.store.attemptFind(x.id)).toEqual(failed);
    expect(await a.worker.attemptMarkSucceededClaims(null, 'w1', [claimOf(held!)])).toEqual([]);
  });

  test('countRun and recordFailure (the perform path): retry keeps it pending and due later; no retry fails it', async () => {
    const { a } = await setup();
    const x = await a.insert();
    const y = await a.insert();
    expect((await a.store.attemptCountRun(x.id))?.numAttempts).toBe(1);
    const before = Date.now();
    const retried = await a.store.attemptRecordFailure(x.id, { lastError: 'try later', retryInMs: 30_000 });
    expect(retried).toMatchObject({ status: 'pending', lastError: 'try later', numAttempts: 1, completedAt: null });
    expect(retried!.scheduledAt!.getTime()).toBeGreaterThan(before + 25_000);
    expect(await a.store.attemptListDueIds(10, [FULFILL])).toEqual([y.id]);
    expect(await a.store.attemptFindWithDue(x.id)).toEqual({ attempt: retried, due: false });

    const failed = await a.store.attemptRecordFailure(y.id, { lastError: 'never', retryInMs: null });
    expect(failed).toMatchObject({ status: 'failed', lastError: 'never', numAttempts: 0 });
    expect(failed?.completedAt).toBeInstanceOf(Date);
    expect(await a.store.attemptRecordFailure(y.id, { lastError: 'again', retryInMs: 10 })).toBeNull();
    expect(await a.store.attemptCountRun(y.id)).toBeNull();
    expect(await a.store.attemptFind(y.id)).toEqual(failed);
  });

  test('lock, complete, requeue and mark succeeded inside a transaction; a rolled-back one changes nothing', async () => {
    const { a } = await setup();
    const x = await a.insert();
    const future = await a.insert({ scheduledAt: new Date(Date.now() + 3_600_000) });
    expect(await a.store.transaction((tx) => a.store.attemptLock(tx, future.id))).toEqual({
      attempt: future,
      due: false,
    });
    expect(await a.store.transaction((tx) => a.store.attemptLock(tx, String(BigInt(future.id) + 1000n)))).toBeNull();

    const [held] = await claim(a, 'w1');
    const expired = await a.store.transaction(async (tx) => {
      expect(await a.store.attemptLock(tx, x.id)).toEqual({ attempt: held, due: true });
      return a.store.attemptComplete(tx, x.id, 'expired');
    });
    expect(expired).toMatchObject({ id: x.id, status: 'expired', leaseOwner: null, leaseExpiresAt: null });
    expect(expired.completedAt).toBeInstanceOf(Date);
    expect(await a.store.attemptFind(x.id)).toEqual(expired);
    expect(await a.worker.attemptMarkSucceededClaims(null, 'w1', [claimOf(held!)])).toEqual([]);

    const before = Date.now();
    const requeued = await a.store.transaction(async (tx) => {
      await a.store.attemptLock(tx, x.id);
      return a.store.attemptRequeue(tx, x.id);
    });
    expect(requeued).toMatchObject({ status: 'pending', completedAt: null, leaseOwner: null, numAttempts: 1 });
    expect(requeued.scheduledAt!.getTime()).toBeLessThan(before + 5_000);
    expect((await claim(a, 'w2')).map((attempt) => attempt.id)).toEqual([x.id]);

    const failed = await a.store.transaction((tx) => a.store.attemptComplete(tx, x.id, 'failed'));
    expect(failed).toMatchObject({ status: 'failed', leaseOwner: null });
    await a.store.transaction((tx) => a.store.attemptRequeue(tx, x.id));

    await expect(
      a.store.transaction(async (tx) => {
        await a.store.attemptLock(tx, x.id);
        expect((await a.store.attemptMarkSucceeded(tx, x.id)).status).toBe('succeeded');
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect((await a.store.attemptFind(x.id))?.status).toBe('pending');
    const succeeded = await a.store.transaction((tx) => a.store.attemptMarkSucceeded(tx, x.id));
    expect(succeeded).toMatchObject({ status: 'succeeded', leaseOwner: null });
    expect(succeeded.completedAt).toBeInstanceOf(Date);
    expect(await a.store.attemptFind(x.id)).toEqual(succeeded);
    // A completed attempt still locks and reads as it is (perform's "already done").
    expect(await a.store.transaction((tx) => a.store.attemptLock(tx, x.id))).toEqual({ attempt: succeeded, due: true });
  });

  test('lockClaims returns the claims the owner still holds, by id, and holds them until the transaction ends', async () => {
    const env = await setup();
    const { a } = env;
    const b = await env.another();
    for (let index = 0; index < 3; index++) await a.insert();
    const [x, y, z] = (await claim(a, 'w1')).map(claimOf);
    // y changes hands: w1's claim of it is stale.
    await a.worker.attemptReleaseClaims('w1', [y!], { uncount: false });
    await claim(a, 'w2');

    let outside: Promise<string[]> | undefined;
    let outsideDone = false;
    await a.store.transaction(async (tx) => {
      const locked = await a.worker.attemptLockClaims(tx, 'w1', [z!, y!, x!]);
      expect(locked.map((attempt) => attempt.id)).toEqual([x!.id, z!.id]);
      expect(locked.every((attempt) => attempt.leaseOwner === 'w1' && attempt.status === 'pending')).toBe(true);
      // Another process's outcome write on a locked claim waits for this transaction.
      outside = b.worker.attemptMarkSucceededClaims(null, 'w1', [x!]).then((written) => {
        outsideDone = true;
        return written;
      });
      await sleep(150);
      expect(outsideDone).toBe(false);
      expect(await a.worker.attemptMarkSucceededClaims(tx, 'w1', [x!, z!])).toEqual(
        expect.arrayContaining([x!.id, z!.id]),
      );
    });
    // It then finds the claim already written.
    expect(await outside).toEqual([]);
    expect((await a.store.attemptFind(x!.id))?.status).toBe('succeeded');
    expect(await a.store.transaction((tx) => a.worker.attemptLockClaims(tx, 'w1', [x!, z!]))).toEqual([]);
  });

  test('attemptScope: rolling back one attempt’s scope undoes only its writes', async () => {
    const { a } = await setup();
    for (let index = 0; index < 2; index++) await a.insert();
    const [x, y] = (await claim(a, 'w1')).map(claimOf);
    let failedStatement = false;
    await a.store.transaction(async (tx) => {
      expect(await a.worker.attemptLockClaims(tx, 'w1', [x!, y!])).toHaveLength(2);
      // x's target writes (an enqueue through its ctx.tx) and succeeds.
      const first = a.worker.attemptScope(tx);
      await first.begin();
      await a.store.attemptInsert(first.tx, newAttempt({ idempotenceToken: 'effect-x' }));
      await first.check();
      // y's target writes, then a statement of it fails (a NUL in text is refused by PostgreSQL), then it throws.
      const second = a.worker.attemptScope(tx);
      await second.begin();
      await a.store.attemptInsert(second.tx, newAttempt({ idempotenceToken: 'effect-y' }));
      failedStatement = await a.store
        .attemptInsert(second.tx, newAttempt({ idempotenceToken: 'effect-y2', methodArgs: 'nul\u0000byte' }))
        .then(
          () => false,
          () => true,
        );
      if (failedStatement) await expect(second.check()).rejects.toBeInstanceOf(TransactionAbortedError);
      await second.rollback();
      await second.probe();
      expect(await a.worker.attemptMarkSucceededClaims(tx, 'w1', [x!])).toEqual([x!.id]);
      expect(
        await a.worker.attemptRecordClaimFailure(tx, 'w1', y!, { lastError: 'y failed', retryInMs: null }),
      ).toMatchObject({ status: 'failed' });
    });
    if (a.store.dialect === 'postgres') expect(failedStatement).toBe(true);
    expect(await tokenCount(a, 'effect-x')).toBe(1);
    expect(await tokenCount(a, 'effect-y')).toBe(0);
    expect(await tokenCount(a, 'effect-y2')).toBe(0);
    expect((await a.store.attemptFind(x!.id))?.status).toBe('succeeded');
    expect(await a.store.attemptFind(y!.id)).toMatchObject({ status: 'failed', lastError: 'y failed' });
  });
};
