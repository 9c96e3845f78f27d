import { expect } from 'vitest';
import type { Attempt } from '../../../src/core/types.js';
import type { ClaimOptions } from '../../../src/store/worker-store.js';
import { type Cases, newAttempt, type Proc, sleep } from '../support/target.js';

const FULFILL = { target: 'Orders', method: 'fulfill' };
const claimOf = (attempt: Attempt) => ({ id: attempt.id, numAttempts: attempt.numAttempts });
const ids = (attempts: readonly Attempt[]) => attempts.map((attempt) => attempt.id);
const at = (offsetMs: number) => new Date(Date.now() + offsetMs);

function claim(proc: Proc, owner: string, options: Partial<ClaimOptions> = {}) {
  return proc.worker.attemptClaimDue({ limit: 10, owner, leaseMs: 60_000, methods: [FULFILL], ...options });
}

export const claimCases: Cases = (setup, test) => {
  test('claimDue takes due pending attempts of the given methods, oldest due first, counts the run and sets the lease', async () => {
    const { a } = await setup();
    const late = await a.insert({ scheduledAt: at(-30_000) });
    const oldest = await a.insert({ scheduledAt: at(-60_000) });
    const now = await a.insert();
    await a.insert({ scheduledAt: at(3_600_000) });
    const refund = await a.insert({ methodName: 'refund' });
    await a.insert({ target: 'Billing' });

    const before = Date.now();
    const claimed = await claim(a, 'w1', { leaseMs: 30_000 });
    const after = Date.now();
    expect(ids(claimed)).toEqual([oldest.id, late.id, now.id]);
    for (const attempt of claimed) {
      expect(attempt).toMatchObject({ status: 'pending', numAttempts: 1, leaseOwner: 'w1', completedAt: null });
      expect(attempt.leaseExpiresAt!.getTime()).toBeGreaterThan(before + 30_000 - 5_000);
      expect(attempt.leaseExpiresAt!.getTime()).toBeLessThan(after + 30_000 + 5_000);
      expect(await a.store.attemptFind(attempt.id)).toEqual(attempt);
    }
    // Held, not due, or not registered: nothing for another owner.
    expect(await claim(a, 'w2')).toEqual([]);
    expect(ids(await claim(a, 'w2', { methods: [{ target: 'Orders', method: 'refund' }] }))).toEqual([refund.id]);
    expect(await claim(a, 'w3', { methods: [] })).toEqual([]);
    expect(await claim(a, 'w3', { methods: [{ target: 'Nobody', method: 'fulfill' }] })).toEqual([]);
  });

  test('claimDue takes at most limit attempts, the oldest due', async () => {
    const { a } = await setup();
    const attempts: Attempt[] = [];
    for (let index = 0; index < 5; index++) attempts.push(await a.insert({ scheduledAt: at(-10_000 + index * 1000) }));
    expect(ids(await claim(a, 'w1', { limit: 2 }))).toEqual(ids(attempts.slice(0, 2)));
    expect(ids(await claim(a, 'w2', { limit: 2 }))).toEqual(ids(attempts.slice(2, 4)));
    expect(ids(await claim(a, 'w3', { limit: 2 }))).toEqual(ids(attempts.slice(4)));
  });

  test('two owners claiming concurrently get disjoint sets, together every due attempt', async () => {
    const env = await setup();
    const { a } = env;
    const b = await env.another();
    const inserted = await a.inTransaction((tx) =>
      a.store.attemptInsertMany!(
        tx,
        Array.from({ length: 40 }, (_, index) => newAttempt({ methodArgs: `{"n":${index}}` })),
      ),
    );
    const owners = new Map<string, string>();
    for (let round = 0; round < 20 && owners.size < inserted.length; round++) {
      const batches = await Promise.all([
        claim(a, 'a1', { limit: 4 }),
        claim(b, 'b1', { limit: 4 }),
        claim(a, 'a2', { limit: 4 }),
        claim(b, 'b2', { limit: 4 }),
      ]);
      for (const attempt of batches.flat()) {
        expect(owners.has(attempt.id), `attempt ${attempt.id} claimed twice`).toBe(false);
        owners.set(attempt.id, attempt.leaseOwner!);
        expect(attempt.numAttempts).toBe(1);
      }
    }
    expect([...owners.keys()].sort()).toEqual(inserted.map((result) => result.attempt.id).sort());
    for (const [id, owner] of owners) expect((await a.store.attemptFind(id))?.leaseOwner).toBe(owner);
  });

  test('a lapsed lease makes the attempt claimable again, and the old claim is refused every write', async () => {
    const env = await setup();
    const { a } = env;
    const b = await env.another();
    const attempt = await a.insert();
    const [old] = await claim(a, 'w1', { leaseMs: 1 });
    expect(old?.numAttempts).toBe(1);
    await sleep(30);
    const [taken] = await claim(b, 'w2');
    expect(taken).toMatchObject({ id: attempt.id, numAttempts: 2, leaseOwner: 'w2' });

    const stale = claimOf(old!);
    expect(await a.worker.attemptMarkSucceededClaims(null, 'w1', [stale])).toEqual([]);
    expect(
      await a.worker.attemptRecordClaimFailure(null, 'w1', stale, { lastError: 'late', retryInMs: null }),
    ).toBeNull();
    await a.worker.attemptReleaseClaims('w1', [stale], { uncount: true });
    expect(await a.worker.attemptExtendLeases('w1', [attempt.id], 60_000)).toEqual([]);
    expect(await a.store.attemptFind(attempt.id)).toEqual(taken);

    expect(await b.worker.attemptMarkSucceededClaims(null, 'w2', [claimOf(taken!)])).toEqual([attempt.id]);
  });

  test('the same owner claiming again after its lease lapsed holds a new claim: the old one is refused', async () => {
    const { a } = await setup();
    const attempt = await a.insert();
    const [first] = await claim(a, 'w1', { leaseMs: 1 });
    await sleep(30);
    const [second] = await claim(a, 'w1');
    expect(second).toMatchObject({ id: attempt.id, numAttempts: 2 });
    expect(await a.worker.attemptMarkSucceededClaims(null, 'w1', [claimOf(first!)])).toEqual([]);
    expect(
      await a.worker.attemptRecordClaimFailure(null, 'w1', claimOf(first!), { lastError: 'x', retryInMs: null }),
    ).toBeNull();
    expect(await a.worker.attemptMarkSucceededClaims(null, 'w1', [claimOf(second!)])).toEqual([attempt.id]);
  });

  test('a held lease is not claimable before it lapses', async () => {
    const { a } = await setup();
    await a.insert();
    const [held] = await claim(a, 'w1', { leaseMs: 2_000 });
    expect(held).toBeDefined();
    expect(await claim(a, 'w2')).toEqual([]);
    expect(
      await a.relay.attemptClaimForHandoff({ limit: 10, owner: 'r1', leaseMs: 60_000, methods: [FULFILL] }),
    ).toEqual([]);
  });

  test('a claim never takes an attempt a transaction holds locked, even after its lease lapsed', async () => {
    const env = await setup();
    const { a } = env;
    const b = await env.another();
    const x = await a.insert();
    const [held] = await claim(a, 'w1', { leaseMs: 50 });
    let other: Promise<Attempt[]> | undefined;
    await a.store.transaction(async (tx) => {
      expect(await a.worker.attemptLockClaims(tx, 'w1', [claimOf(held!)])).toHaveLength(1);
      await sleep(100);
      other = claim(b, 'w2');
      // Where writers overlap, the claim passes over the locked row rather than waiting for it.
      if (!env.singleWriter) expect(await Promise.race([other, sleep(2_000).then(() => 'blocked')])).toEqual([]);
      expect(await a.worker.attemptMarkSucceededClaims(tx, 'w1', [claimOf(held!)])).toEqual([x.id]);
    });
    expect(await other).toEqual([]);
    expect(await a.store.attemptFind(x.id)).toMatchObject({ status: 'succeeded', numAttempts: 1, leaseOwner: null });
  });

  test('extendLeases extends only the leases the owner holds', async () => {
    const { a } = await setup();
    const x = await a.insert();
    const y = await a.insert();
    const z = await a.insert();
    const [mine] = await claim(a, 'w1', { limit: 1, leaseMs: 10_000 });
    const [theirs] = await claim(a, 'w2', { limit: 1, leaseMs: 10_000 });
    expect([mine?.id, theirs?.id]).toEqual([x.id, y.id]);

    const before = Date.now();
    expect(await a.worker.attemptExtendLeases('w1', [x.id, y.id, z.id], 120_000)).toEqual([x.id]);
    expect((await a.store.attemptFind(x.id))?.leaseExpiresAt?.getTime()).toBeGreaterThan(before + 100_000);
    expect(await a.store.attemptFind(y.id)).toEqual(theirs);
    expect((await a.store.attemptFind(z.id))?.leaseOwner).toBeNull();
    expect(await a.worker.attemptExtendLeases('w1', [], 120_000)).toEqual([]);

    await a.worker.attemptMarkSucceededClaims(null, 'w1', [claimOf(mine!)]);
    expect(await a.worker.attemptExtendLeases('w1', [x.id], 120_000)).toEqual([]);
    expect((await a.store.attemptFind(x.id))?.leaseExpiresAt).toBeNull();
  });

  test('release gives claims back, claimable at once, with and without un-counting the run', async () => {
    const { a } = await setup();
    const x = await a.insert();
    const y = await a.insert();
    const [cx, cy] = await claim(a, 'w1');
    await a.worker.attemptReleaseClaims('w1', [claimOf(cx!)], { uncount: false });
    await a.worker.attemptReleaseClaims('w1', [claimOf(cy!)], { uncount: true });
    expect(await a.store.attemptFind(x.id)).toMatchObject({
      status: 'pending',
      numAttempts: 1,
      leaseOwner: null,
      leaseExpiresAt: null,
    });
    expect(await a.store.attemptFind(y.id)).toMatchObject({
      status: 'pending',
      numAttempts: 0,
      leaseOwner: null,
      leaseExpiresAt: null,
    });
    const again = await claim(a, 'w2');
    expect(again.map((attempt) => [attempt.id, attempt.numAttempts])).toEqual([
      [x.id, 2],
      [y.id, 1],
    ]);
    await a.worker.attemptReleaseClaims('w2', [], { uncount: true });
  });

  test('release refuses a foreign or stale claim', async () => {
    const { a } = await setup();
    const x = await a.insert();
    const [held] = await claim(a, 'w1');
    await a.worker.attemptReleaseClaims('w2', [claimOf(held!)], { uncount: true });
    await a.worker.attemptReleaseClaims('w1', [{ id: x.id, numAttempts: 2 }], { uncount: true });
    expect(await a.store.attemptFind(x.id)).toEqual(held);
    expect(await claim(a, 'w2')).toEqual([]);
    // A completed attempt is not given back.
    await a.worker.attemptMarkSucceededClaims(null, 'w1', [claimOf(held!)]);
    await a.worker.attemptReleaseClaims('w1', [claimOf(held!)], { uncount: true });
    expect(await a.store.attemptFind(x.id)).toMatchObject({ status: 'succeeded', numAttempts: 1 });
  });
};
