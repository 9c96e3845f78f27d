import { expect } from 'vitest';
import type { Attempt } from '../../../src/core/types.js';
import { type Cases, type Proc, sleep } from '../support/target.js';

const FULFILL = { target: 'Orders', method: 'fulfill' };
const ALL = ['succeeded', 'failed', 'expired'] as const;

async function succeeded(proc: Proc): Promise<Attempt> {
  const attempt = await proc.insert();
  const [held] = await proc.worker.attemptClaimDue({ limit: 1, owner: 'w', leaseMs: 60_000, methods: [FULFILL] });
  expect(held?.id).toBe(attempt.id);
  await proc.worker.attemptMarkSucceededClaims(null, 'w', [{ id: attempt.id, numAttempts: 1 }]);
  return attempt;
}

export const pruneCases: Cases = (setup, test) => {
  test('prune deletes completed attempts older than the age, in the given statuses, at most limit at a time; never pending', async () => {
    const { a } = await setup();
    const done = [await succeeded(a), await succeeded(a), await succeeded(a)];
    const failed = await a.insert();
    await a.store.attemptRecordFailure(failed.id, { lastError: 'x', retryInMs: null });
    const expired = await a.insert();
    await a.store.transaction((tx) => a.store.attemptComplete(tx, expired.id, 'expired'));
    const requeued = await a.insert();
    await a.store.attemptRecordFailure(requeued.id, { lastError: 'x', retryInMs: null });
    await a.store.transaction((tx) => a.store.attemptRequeue(tx, requeued.id));
    const retrying = await a.insert();
    await a.store.attemptRecordFailure(retrying.id, { lastError: 'x', retryInMs: 60_000 });
    const waiting = await a.insert();
    await a.worker.attemptClaimDue({ limit: 10, owner: 'held', leaseMs: 60_000, methods: [FULFILL] });
    const pending = [requeued, retrying, waiting];

    // Everything completed just now: younger than a minute.
    expect(await a.worker.attemptPruneCompleted({ statuses: ALL, olderThanMs: 60_000, limit: 100 })).toBe(0);
    await sleep(60);
    const prune = (statuses: typeof ALL | ['succeeded'] | ['failed', 'expired'], limit: number) =>
      a.worker.attemptPruneCompleted({ statuses, olderThanMs: 20, limit });
    expect(await prune(['succeeded'], 2)).toBe(2);
    expect(await prune(['succeeded'], 2)).toBe(1);
    expect(await prune(['succeeded'], 2)).toBe(0);
    for (const attempt of done) expect(await a.store.attemptFind(attempt.id)).toBeNull();
    expect((await a.store.attemptFind(failed.id))?.status).toBe('failed');
    expect((await a.store.attemptFind(expired.id))?.status).toBe('expired');

    expect(await prune(['failed', 'expired'], 100)).toBe(2);
    expect(await a.worker.attemptPruneCompleted({ statuses: ALL, olderThanMs: 0, limit: 1000 })).toBe(0);
    for (const attempt of pending) expect((await a.store.attemptFind(attempt.id))?.status).toBe('pending');
    expect(await a.store.attemptList({ limit: 100 })).toHaveLength(3);
  });
};
