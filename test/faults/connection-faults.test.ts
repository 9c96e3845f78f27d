import { expect, it } from 'vitest';
import type { PerformContext } from '../../src/index.js';
import { createAsyncTask } from '../../src/index.js';
import { forEachDialect } from '../support/suite.js';
import { Probe } from './support/invariants.js';
import { expectInvariants, fastRetry, MAX_ATTEMPTS } from './support/run.js';

// Issue 8, fault 4: the connection a run's transaction lives on dies mid-run (pg_terminate_backend). The run
// started, so it stays counted (I2); its writes are gone with the transaction (I4); the attempt runs again and
// succeeds, once; the worker keeps going (I6). PostgreSQL only: a SQLite connection cannot be killed from outside.
forEachDialect('fault catalogue: the connection dies mid-run', (env, dialect) => {
  if (dialect.name !== 'postgres') {
    it.skip('PostgreSQL only (pg_terminate_backend)', () => {});
    return;
  }
  for (const mode of ['perform', 'transactional'] as const) {
    it(`${mode}: the run's connection is terminated while its target runs: counted, rolled back, run again once`, async () => {
      const { db } = await env();
      const probe = new Probe();
      const killed = new Set<string>();
      const Fragile = {
        async run(args: { tag: string; kill: boolean }, ctx: PerformContext<any>) {
          probe.called(args.tag);
          await db.writeEffect(ctx.tx, args.tag);
          if (args.kill && !killed.has(args.tag)) {
            killed.add(args.tag);
            const [row] = (await ctx.tx.query('SELECT pg_backend_pid() AS pid')).rows;
            await db.query('SELECT pg_terminate_backend($1)', [row.pid]);
            // The next statement on the dead connection fails, as the target's next write would.
            await db.writeEffect(ctx.tx, `${args.tag}-after-kill`);
          }
        },
      };
      const asyncTask = createAsyncTask({ db: db.driver(), targets: { Fragile }, retry: fastRetry });
      await asyncTask.migrate();
      const planned = [];
      await db.inTransaction(async (tx) => {
        await asyncTask.enqueue(tx, 'Fragile', 'run', { tag: 'victim', kill: true });
        for (let index = 0; index < 3; index++) {
          await asyncTask.enqueue(tx, 'Fragile', 'run', { tag: `healthy-${index}`, kill: false });
        }
      });
      planned.push({ tag: 'victim', role: 'poison' as const, expect: 'succeeded' as const });
      for (let index = 0; index < 3; index++) {
        planned.push({ tag: `healthy-${index}`, role: 'healthy' as const, expect: 'succeeded' as const });
      }
      await expectInvariants({ asyncTask, db, mode, probe, planned, deadlineMs: 15_000 });
      const victim = (await asyncTask.list()).attempts.find((a) => a.numAttempts > 1);
      expect(probe.count('victim')).toBe(2);
      expect(victim?.numAttempts).toBe(2);
      expect(victim?.numAttempts).toBeLessThanOrEqual(MAX_ATTEMPTS);
      expect(await db.countEffects('victim-after-kill')).toBe(0);
      await asyncTask.close();
    });
  }
});
