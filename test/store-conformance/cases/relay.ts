import { expect } from 'vitest';
import type { HandoffOptions } from '../../../src/store/relay-store.js';
import { type Cases, type Proc, sleep } from '../support/target.js';

const FULFILL = { target: 'Orders', method: 'fulfill' };
const at = (offsetMs: number) => new Date(Date.now() + offsetMs);

function handoff(proc: Proc, owner: string, options: Partial<HandoffOptions> = {}) {
  return proc.relay.attemptClaimForHandoff({ limit: 10, owner, leaseMs: 60_000, methods: [FULFILL], ...options });
}

function workerClaim(proc: Proc, owner: string) {
  return proc.worker.attemptClaimDue({ limit: 10, owner, leaseMs: 60_000, methods: [FULFILL] });
}

export const relayCases: Cases = (setup, test) => {
  test('claimForHandoff leases due attempts of the given methods, oldest first, without counting a run', async () => {
    const env = await setup();
    const { a } = env;
    const b = await env.another();
    const now = await a.insert();
    const oldest = await a.insert({ scheduledAt: at(-60_000) });
    await a.insert({ scheduledAt: at(3_600_000) });
    await a.insert({ methodName: 'refund' });

    const handed = await handoff(a, 'r1');
    expect(handed).toEqual([
      { id: oldest.id, numAttempts: 0, target: 'Orders', methodName: 'fulfill' },
      { id: now.id, numAttempts: 0, target: 'Orders', methodName: 'fulfill' },
    ]);
    expect(await a.store.attemptFind(oldest.id)).toMatchObject({ status: 'pending', numAttempts: 0, leaseOwner: 'r1' });
    // Held: neither a worker nor another relay takes them.
    expect(await workerClaim(b, 'w1')).toEqual([]);
    expect(await handoff(b, 'r2')).toEqual([]);
    expect(await handoff(b, 'r2', { limit: 1, methods: [{ target: 'Orders', method: 'refund' }] })).toHaveLength(1);
  });

  test('releaseHandoff gives back only the owner’s unchanged hand-offs', async () => {
    const { a } = await setup();
    const x = await a.insert();
    const y = await a.insert();
    const [hx, hy] = await handoff(a, 'r1');
    await a.relay.attemptReleaseHandoff('r2', [hx!, hy!]);
    await a.relay.attemptReleaseHandoff('r1', [{ ...hy!, numAttempts: 3 }]);
    expect((await a.store.attemptFind(x.id))?.leaseOwner).toBe('r1');
    expect((await a.store.attemptFind(y.id))?.leaseOwner).toBe('r1');

    await a.relay.attemptReleaseHandoff('r1', [hx!]);
    expect(await a.store.attemptFind(x.id)).toMatchObject({ leaseOwner: null, leaseExpiresAt: null, numAttempts: 0 });
    const [claimed] = await workerClaim(a, 'w1');
    expect(claimed).toMatchObject({ id: x.id, numAttempts: 1, leaseOwner: 'w1' });
    // The relay's old hand-off no longer matches: the worker keeps its claim.
    await a.relay.attemptReleaseHandoff('r1', [hx!]);
    expect((await a.store.attemptFind(x.id))?.leaseOwner).toBe('w1');
    await a.relay.attemptReleaseHandoff('r1', []);
  });

  test('a lapsed hand-off lease is claimable again', async () => {
    const { a } = await setup();
    const x = await a.insert();
    expect(await handoff(a, 'r1', { leaseMs: 1 })).toHaveLength(1);
    await sleep(30);
    expect(await workerClaim(a, 'w1')).toMatchObject([{ id: x.id, numAttempts: 1, leaseOwner: 'w1' }]);
  });
};
