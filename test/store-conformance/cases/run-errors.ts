import { expect } from 'vitest';
import type { Attempt } from '../../../src/core/types.js';
import { RUN_ERRORS_KEPT } from '../../../src/store/run-errors.js';
import { type Cases, type Proc, sleep } from '../support/target.js';

const FULFILL = { target: 'Orders', method: 'fulfill' };
const claimOf = (attempt: Attempt) => ({ id: attempt.id, numAttempts: attempt.numAttempts });

async function claimOne(proc: Proc, owner: string): Promise<Attempt> {
  const [held] = await proc.worker.attemptClaimDue({ limit: 1, owner, leaseMs: 60_000, methods: [FULFILL] });
  expect(held).toBeDefined();
  return held!;
}

const runsOf = async (proc: Proc, id: string, limit = 100) =>
  (await proc.dashboard.dashboardAttemptErrors(id, limit)).map((entry) => [entry.run, entry.error]);

export const runErrorCases: Cases = (setup, test) => {
  test('each failed run keeps its error under its run number, newest first, by every failure path', async () => {
    const { a } = await setup();
    const x = await a.insert();
    const before = Date.now();
    // Run 1: a worker's claim fails and is retried at once (outside a transaction, the leased way).
    const first = await claimOne(a, 'w1');
    expect(
      await a.worker.attemptRecordClaimFailure(null, 'w1', claimOf(first), { lastError: 'one', retryInMs: 0 }),
    ).not.toBeNull();
    // Run 2: perform()'s path: counted, then failed, retried.
    const counted = await a.store.attemptCountRun(x.id);
    expect(counted?.numAttempts).toBe(2);
    expect((await a.store.attemptRecordFailure(x.id, { lastError: 'two <b>', retryInMs: 0 }))?.status).toBe('pending');
    // Run 3: inside the group's transaction, for good.
    const third = await claimOne(a, 'w1');
    const failed = await a.store.transaction((tx) =>
      a.worker.attemptRecordClaimFailure(tx, 'w1', claimOf(third), { lastError: 'three', retryInMs: null }),
    );
    expect(failed).toMatchObject({ status: 'failed', numAttempts: 3, lastError: 'three' });

    const errors = await a.dashboard.dashboardAttemptErrors(x.id, 100);
    expect(errors.map((entry) => [entry.run, entry.error])).toEqual([
      [3, 'three'],
      [2, 'two <b>'],
      [1, 'one'],
    ]);
    for (const entry of errors) {
      expect(entry.failedAt).toBeInstanceOf(Date);
      expect(entry.failedAt.getTime()).toBeGreaterThan(before - 5_000);
      expect(entry.failedAt.getTime()).toBeLessThan(Date.now() + 5_000);
    }
    expect(errors[0]!.failedAt.getTime()).toBeGreaterThanOrEqual(errors[2]!.failedAt.getTime());
    expect(await runsOf(a, x.id, 2)).toEqual([
      [3, 'three'],
      [2, 'two <b>'],
    ]);

    // An operator's retry keeps them; the next run continues the numbering.
    await a.store.transaction((tx) => a.store.attemptRequeue(tx, x.id));
    const fourth = await claimOne(a, 'w1');
    expect(fourth.numAttempts).toBe(4);
    await a.worker.attemptRecordClaimFailure(null, 'w1', claimOf(fourth), { lastError: 'four', retryInMs: null });
    expect((await runsOf(a, x.id)).map(([run]) => run)).toEqual([4, 3, 2, 1]);
  });

  test('a succeeded run writes no error; an attempt that failed once then succeeded keeps that one', async () => {
    const { a } = await setup();
    const clean = await a.insert();
    const held = await claimOne(a, 'w1');
    expect(await a.worker.attemptMarkSucceededClaims(null, 'w1', [claimOf(held)])).toEqual([clean.id]);
    expect(await a.dashboard.dashboardAttemptErrors(clean.id, 100)).toEqual([]);

    const flaky = await a.insert();
    const once = await claimOne(a, 'w1');
    await a.worker.attemptRecordClaimFailure(null, 'w1', claimOf(once), { lastError: 'flaky', retryInMs: 0 });
    const again = await claimOne(a, 'w1');
    await a.store.transaction((tx) => a.worker.attemptMarkSucceededClaims(tx, 'w1', [claimOf(again)]));
    expect((await a.store.attemptFind(flaky.id))?.status).toBe('succeeded');
    expect(await runsOf(a, flaky.id)).toEqual([[1, 'flaky']]);
    expect(await a.dashboard.dashboardAttemptErrors('987654321', 100)).toEqual([]);
  });

  test('a failure refused (stale claim, another owner, not pending) or rolled back writes no error', async () => {
    const { a } = await setup();
    const x = await a.insert();
    const held = await claimOne(a, 'w1');
    expect(
      await a.worker.attemptRecordClaimFailure(null, 'w2', claimOf(held), { lastError: 'not mine', retryInMs: 0 }),
    ).toBeNull();
    expect(
      await a.worker.attemptRecordClaimFailure(
        null,
        'w1',
        { id: x.id, numAttempts: 7 },
        { lastError: 'stale', retryInMs: null },
      ),
    ).toBeNull();
    await expect(
      a.store.transaction(async (tx) => {
        await a.worker.attemptRecordClaimFailure(tx, 'w1', claimOf(held), { lastError: 'rolled back', retryInMs: 0 });
        throw new Error('group lost');
      }),
    ).rejects.toThrow('group lost');
    expect(await a.dashboard.dashboardAttemptErrors(x.id, 100)).toEqual([]);

    await a.worker.attemptRecordClaimFailure(null, 'w1', claimOf(held), { lastError: 'real', retryInMs: null });
    // Spent claim, and the attempt is no longer pending.
    expect(
      await a.worker.attemptRecordClaimFailure(null, 'w1', claimOf(held), { lastError: 'twice', retryInMs: null }),
    ).toBeNull();
    expect(await a.store.attemptRecordFailure(x.id, { lastError: 'late', retryInMs: null })).toBeNull();
    expect(await runsOf(a, x.id)).toEqual([[1, 'real']]);
  });

  test(`an attempt keeps the errors of its last ${RUN_ERRORS_KEPT} runs`, async () => {
    const { a } = await setup();
    const x = await a.insert();
    const other = await a.insert();
    await a.store.attemptCountRun(other.id);
    await a.store.attemptRecordFailure(other.id, { lastError: 'other', retryInMs: 60_000 });
    const runs = RUN_ERRORS_KEPT + 5;
    for (let run = 1; run <= runs; run++) {
      await a.store.attemptCountRun(x.id);
      await a.store.attemptRecordFailure(x.id, { lastError: `run ${run}`, retryInMs: run === runs ? null : 0 });
    }
    const kept = await runsOf(a, x.id);
    expect(kept).toHaveLength(RUN_ERRORS_KEPT);
    expect(kept[0]).toEqual([runs, `run ${runs}`]);
    expect(kept.at(-1)).toEqual([runs - RUN_ERRORS_KEPT + 1, `run ${runs - RUN_ERRORS_KEPT + 1}`]);
    expect(await runsOf(a, other.id)).toEqual([[1, 'other']]);
  });

  test("retention removes a pruned attempt's errors and no other's", async () => {
    const { a } = await setup();
    const gone = await a.insert();
    const stays = await a.insert();
    for (const attempt of [gone, stays]) {
      await a.store.attemptCountRun(attempt.id);
      await a.store.attemptRecordFailure(attempt.id, { lastError: 'first', retryInMs: 0 });
    }
    await a.store.attemptCountRun(gone.id);
    await a.store.attemptRecordFailure(gone.id, { lastError: 'last', retryInMs: null });
    await sleep(40);
    expect(await a.worker.attemptPruneCompleted({ statuses: ['failed'], olderThanMs: 10, limit: 10 })).toBe(1);
    expect(await a.store.attemptFind(gone.id)).toBeNull();
    expect(await a.dashboard.dashboardAttemptErrors(gone.id, 100)).toEqual([]);
    expect(await runsOf(a, stays.id)).toEqual([[1, 'first']]);
  });
};
