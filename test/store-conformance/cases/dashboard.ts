import { expect } from 'vitest';
import type { Attempt } from '../../../src/core/types.js';
import type { AttemptFilter, AttemptSearch } from '../../../src/store/dashboard-store.js';
import { type Cases, type Proc, sleep } from '../support/target.js';

const FULFILL = { target: 'Orders', method: 'fulfill' };
const at = (offsetMs: number) => new Date(Date.now() + offsetMs);

/** Seven attempts: Orders.fulfill 3 pending (one due later, one leased) and 2 succeeded; a failed refund; an expired charge. */
async function seed(a: Proc) {
  const start = Date.now();
  const overdue = await a.insert({ scheduledAt: new Date(Math.floor(start / 1000) * 1000 - 60_000 + 123) });
  const done = [await a.insert({ idempotenceToken: 'done-1' }), await a.insert()];
  const leased = await a.insert();
  const claimed = await a.worker.attemptClaimDue({ limit: 4, owner: 'w1', leaseMs: 60_000, methods: [FULFILL] });
  expect(claimed.map((attempt) => attempt.id)).toEqual([overdue, ...done, leased].map((attempt) => attempt.id));
  // overdue is given back (pending, due), the two done succeed, leased stays held by w1.
  await a.worker.attemptReleaseClaims('w1', [claimOf(claimed[0]!)], { uncount: true });
  await a.worker.attemptMarkSucceededClaims(null, 'w1', [claimOf(claimed[1]!), claimOf(claimed[2]!)]);
  const later = await a.insert({ scheduledAt: at(3_600_000) });
  const refund = await a.insert({ methodName: 'refund' });
  const failed = await a.store.attemptRecordFailure(refund.id, { lastError: 'no', retryInMs: null });
  const charge = await a.insert({ target: 'Billing', methodName: 'charge' });
  await a.store.transaction((tx) => a.store.attemptComplete(tx, charge.id, 'expired'));
  return {
    start,
    end: Date.now(),
    overdue: (await a.store.attemptFind(overdue.id))!,
    done,
    leased,
    later,
    failed: failed!,
    charge,
  };
}

const claimOf = (attempt: Attempt) => ({ id: attempt.id, numAttempts: attempt.numAttempts });

async function allPages(a: Proc, search: Omit<AttemptSearch, 'cursor'>): Promise<Attempt[]> {
  const found: Attempt[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 20; page++) {
    const result = await a.dashboard.dashboardAttemptSearch({ ...search, ...(cursor ? { cursor } : {}) });
    expect(result.attempts.length).toBeLessThanOrEqual(search.limit);
    found.push(...result.attempts);
    if (result.nextCursor === null) return found;
    cursor = result.nextCursor;
  }
  throw new Error('the search did not end');
}

export const dashboardCases: Cases = (setup, test) => {
  test('dashboard counts and searches agree with what was written', async () => {
    const { a } = await setup();
    const { start, end, overdue, failed } = await seed(a);
    const d = a.dashboard;
    expect(await d.dashboardStatusCounts(1000)).toEqual({
      counts: { pending: 3, succeeded: 2, failed: 1, expired: 1 },
      estimated: [],
    });
    // Past a cap, a count may be the planner's estimate, but never below the cap.
    const capped = await d.dashboardStatusCounts(1);
    for (const [status, exact] of Object.entries({ pending: 3, succeeded: 2, failed: 1, expired: 1 })) {
      const counted = capped.counts[status as keyof typeof capped.counts];
      if (capped.estimated.includes(status as never)) expect(counted).toBeGreaterThan(1);
      else expect(counted).toBe(exact);
    }
    expect(capped.estimated).not.toContain('failed');
    const count = (filter: Partial<AttemptFilter>) => d.dashboardAttemptCount({ timeField: 'created', ...filter });
    expect(await count({})).toBe(7);
    expect(await count({ status: 'pending' })).toBe(3);
    expect(await count({ target: 'Orders' })).toBe(6);
    expect(await count({ target: 'Orders', method: 'refund' })).toBe(1);
    expect(await count({ idempotenceToken: 'done-1' })).toBe(1);
    expect(await count({ from: new Date(start - 60_000), to: new Date(end + 60_000) })).toBe(7);
    expect(await count({ from: new Date(end + 60_000) })).toBe(0);
    expect(await count({ timeField: 'due', to: new Date(start - 30_000) })).toBe(1);

    const everything = (await a.store.attemptList({ limit: 100 })).map((attempt) => attempt.id);
    const newestFirst = await allPages(a, { timeField: 'created', order: 'desc', limit: 2 });
    expect(newestFirst.map((attempt) => attempt.id)).toEqual(everything);
    expect(newestFirst.find((attempt) => attempt.id === failed.id)).toEqual(failed);
    const ranged = await allPages(a, {
      timeField: 'created',
      order: 'asc',
      limit: 3,
      from: new Date(start - 60_000),
      to: new Date(end + 60_000),
    });
    expect(ranged.map((attempt) => attempt.id).sort()).toEqual([...everything].sort());
    const byDue = await allPages(a, { timeField: 'due', order: 'asc', limit: 2, status: 'pending' });
    expect(byDue).toHaveLength(3);
    expect(byDue[0]?.id).toBe(overdue.id);
    const dues = byDue.map((attempt) => (attempt.scheduledAt ?? attempt.createdAt).getTime());
    expect([...dues].sort((x, y) => x - y)).toEqual(dues);

    const firstIds = await d.dashboardAttemptIds({ timeField: 'created' }, null, 4);
    const restIds = await d.dashboardAttemptIds({ timeField: 'created' }, firstIds.at(-1)!, 100);
    expect([...firstIds, ...restIds]).toEqual([...everything].reverse());
    expect(await d.dashboardAttemptIds({ timeField: 'created', status: 'failed' }, null, 10)).toEqual([failed.id]);
  });

  test('dashboard: oldest due, lease holders, completions and per-method stats', async () => {
    const { a } = await setup();
    const { start, overdue, failed } = await seed(a);
    const d = a.dashboard;
    expect((await d.dashboardOldestDueAt())?.getTime()).toBe(overdue.scheduledAt!.getTime());

    const holders = await d.dashboardLeaseHolders();
    expect(holders).toMatchObject([{ owner: 'w1', running: 1 }]);
    expect(holders[0]!.leaseExpiresAt.getTime()).toBeGreaterThan(Date.now() + 30_000);

    const completions = await d.dashboardCompletions(new Date(start - 60_000));
    const perStatus = new Map<string, number>();
    for (const bucket of completions) {
      expect(bucket.minute.getTime() % 60_000).toBe(0);
      perStatus.set(bucket.status, (perStatus.get(bucket.status) ?? 0) + bucket.count);
    }
    expect(Object.fromEntries(perStatus)).toEqual({ succeeded: 2, failed: 1, expired: 1 });
    expect(await d.dashboardCompletions(new Date(Date.now() + 60_000))).toEqual([]);

    for (const since of [null, new Date(start - 60_000)]) {
      const stats = await d.dashboardTargetStats(since);
      const key = (entry: { target: string; method: string }) => `${entry.target}.${entry.method}`;
      expect(Object.fromEntries(stats.map((entry) => [key(entry), entry.counts]))).toEqual({
        'Orders.fulfill': { pending: 3, succeeded: 2, failed: 0, expired: 0 },
        'Orders.refund': { pending: 0, succeeded: 0, failed: 1, expired: 0 },
        'Billing.charge': { pending: 0, succeeded: 0, failed: 0, expired: 1 },
      });
      expect(stats.find((entry) => entry.method === 'refund')?.lastFailureAt?.getTime()).toBe(
        failed.completedAt!.getTime(),
      );
      expect(stats.find((entry) => entry.method === 'fulfill')?.lastFailureAt).toBeNull();
    }
  });

  test('dashboard run now: only pending attempts due later become due', async () => {
    const { a } = await setup();
    const { later, overdue, done, failed } = await seed(a);
    const ids = [later.id, overdue.id, done[0]!.id, failed.id, String(BigInt(later.id) + 1000n)];
    expect(await a.dashboard.dashboardRunNow(ids)).toEqual([later.id]);
    await sleep(5);
    expect((await a.store.attemptFindWithDue(later.id))?.due).toBe(true);
    expect(await a.store.attemptFind(overdue.id)).toEqual(overdue);
    expect(await a.dashboard.dashboardRunNow([])).toEqual([]);
  });
};
