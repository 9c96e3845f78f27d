import { expect, it } from 'vitest';
import { forEachDialect } from '../support/suite.js';
import { catalogueCase } from './support/case.js';
import { checkInvariants, formatViolations } from './support/invariants.js';
import { runToEnd } from './support/run.js';

forEachDialect('fault catalogue: connections killed at random', (env, dialect) => {
  if (dialect.name !== 'postgres') {
    it.skip('PostgreSQL only (pg_terminate_backend)', () => {});
    return;
  }
  // Every 150 ms for 2 s, every other connection to the database is terminated: the worker's claims, runs,
  // outcome writes, heartbeats and LISTEN die wherever they are. Then the run must settle with the invariants
  // intact, and the worker must still be running.
  for (const mode of ['transactional', 'leased'] as const) {
    it(`${mode}: connections killed during claims, runs, outcome writes and heartbeats: the invariants hold`, async () => {
      const maxAttempts = 10;
      const c = await catalogueCase(env, dialect, mode, { retry: { maxAttempts, backoff: () => 0 } });
      await c.batch(async (tx) => {
        for (let index = 0; index < 16; index++) {
          const tag = `slow-${index}`;
          await c.asyncTask().enqueue(tx, 'Healthy', 'slow', { tag, ms: 300 });
          // Each kill can cost a run, so an attempt may exhaust its budget: any outcome the invariants allow.
          c.plan({ tag, role: 'poison', expect: 'any' });
        }
      });
      let kills = 0;
      let stormOver = false;
      const storm = (async () => {
        const until = Date.now() + 2000;
        while (Date.now() < until) {
          await new Promise((resolve) => setTimeout(resolve, 150));
          const rows = await c.db.query(
            'SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
          );
          kills += Number(rows[0]?.n ?? 0);
        }
        stormOver = true;
      })();
      const run = await runToEnd({
        ...c.spec(),
        maxAttempts,
        worker: { leaseMs: 1000, heartbeatMs: 200 },
        deadlineMs: 30_000,
      });
      // The invariants are read once the storm is over: a read cut off by a kill is the storm's, not a fault.
      await storm;
      expect(stormOver).toBe(true);
      const violations = await checkInvariants(run);
      expect(violations, formatViolations(run, violations)).toEqual([]);
      expect(kills).toBeGreaterThan(0);
      const attempts = (await c.asyncTask().list()).attempts;
      expect(attempts.every((a) => a.status === 'succeeded' || a.status === 'failed')).toBe(true);
      const calls = [...run.probe.calls.values()].reduce((sum, n) => sum + n, 0);
      // Transactional runs hold their connection for 300 ms, so kills cut some off and they run again; a leased
      // run holds none, and may finish every attempt on its first run.
      if (mode === 'transactional') expect(calls).toBeGreaterThan(16);
      else expect(calls).toBeGreaterThanOrEqual(16);
      await c.asyncTask().close();
    });
  }
});
