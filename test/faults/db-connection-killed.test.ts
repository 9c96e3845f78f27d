import { afterEach, describe, expect, it } from 'vitest';
import type { PerformContext } from '../../src/index.js';
import { expectInvariants, type FaultDb, faultDb, until } from './db-support.js';

// A worker's connection killed with pg_terminate_backend at each step of an attempt's life: nothing
// is lost, a run that started stays counted, and writes through ctx.tx land exactly once.

const dbs: FaultDb[] = [];
afterEach(async () => {
  await Promise.all(dbs.splice(0).map((db) => db.close()));
});

const keys = (count: number, extra: Record<string, unknown> = {}) =>
  Array.from({ length: count }, (_, i) => ({ key: `k-${i}`, ...extra }));

for (const mode of ['transactional', 'leased'] as const) {
  describe(`${mode}: a worker connection killed`, () => {
    it('during the claim: the claim is undone, then everything runs once', async () => {
      const db = await faultDb({ mode });
      dbs.push(db);
      await db.enqueue(keys(20));
      const gate = await db.arm('claim');
      const worker = await db.startWorker();
      await gate.killBlocked();
      await until('all succeeded', async () => (await db.count(`status = 'succeeded'`)) === 20);
      await expectInvariants(db, mode, [worker]);
      // The killed claim never committed: nothing was counted for it, and nothing ran twice.
      expect(await db.count('num_attempts <> 1')).toBe(0);
      expect(db.calls).toHaveLength(20);
      expect(db.workerErrors.some((error) => error.startsWith('claiming attempts'))).toBe(true);
    });

    it("during the target's run: the run stays counted and the attempt runs again", async () => {
      const db = await faultDb({ mode });
      dbs.push(db);
      const [victim] = await db.enqueue([{ key: 'victim', pause: true }]);
      await db.enqueue(keys(10));
      let killed = 0;
      db.setOnRun(async (ctx: PerformContext<unknown>) => {
        // Once: a run given back would come round as a "first run" again.
        if (killed > 0) return;
        if (mode === 'transactional') {
          // The connection of the run's own transaction: ctx.tx.
          const { rows } = await (ctx.tx as { query: (sql: string) => Promise<{ rows: { pid: number }[] }> }).query(
            'SELECT pg_backend_pid() AS pid',
          );
          await db.admin.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
          killed = 1;
        } else {
          // No transaction runs: every connection the worker holds goes.
          const pids = await db.workerBackends();
          for (const pid of pids) await db.admin.query('SELECT pg_terminate_backend($1)', [pid]);
          killed = pids.length;
        }
      });
      const worker = await db.startWorker();
      await until('all succeeded', async () => (await db.count(`status = 'succeeded'`)) === 11, 20_000);
      expect(killed).toBeGreaterThan(0);
      await expectInvariants(db, mode, [worker]);
      const [row] = await db.query<{ num_attempts: number }>(
        `SELECT num_attempts FROM ${db.schema}.async_task_attempts WHERE id = $1`,
        [victim?.id],
      );
      const victimCalls = db.calls.filter((call) => call.id === victim?.id).length;
      if (mode === 'transactional') {
        // The first run lost its transaction: it ran, so it counts; the second run succeeded.
        expect(victimCalls).toBe(2);
        expect(row?.num_attempts).toBe(2);
      } else {
        expect(row?.num_attempts).toBeGreaterThanOrEqual(victimCalls);
      }
    });

    it('during the outcome write: the run stays counted; the effect lands once', async () => {
      const db = await faultDb({ mode });
      dbs.push(db);
      await db.enqueue(keys(10));
      const gate = await db.arm('outcome');
      const worker = await db.startWorker();
      await gate.killBlocked();
      await until('all succeeded', async () => (await db.count(`status = 'succeeded'`)) === 10);
      await expectInvariants(db, mode, [worker]);
      // Some attempts ran once more (their first outcome was lost with the connection), each counted.
      expect(db.calls.length).toBeGreaterThan(10);
      expect(await db.count('num_attempts >= 2')).toBeGreaterThan(0);
    });

    it('during a heartbeat: the leases are renewed by the next one; nothing runs twice', async () => {
      const db = await faultDb({ mode });
      dbs.push(db);
      // The heartbeat renews claims waiting in the worker's queue (and, leased, running ones). Transactional
      // workers queue claims only for fast targets: many fast attempts. Leased: slow ones, one at a time.
      const count = mode === 'transactional' ? 3000 : 12;
      await db.enqueue(keys(count, mode === 'transactional' ? {} : { ms: 150 }));
      const gate = await db.arm('heartbeat');
      const worker = await db.startWorker({
        concurrency: mode === 'transactional' ? 2 : 1,
        leaseMs: 3000,
        heartbeatMs: mode === 'transactional' ? 100 : 300,
      });
      await gate.killBlocked();
      await until('all succeeded', async () => (await db.count(`status = 'succeeded'`)) === count);
      await expectInvariants(db, mode, [worker]);
      expect(db.workerErrors.some((error) => error.startsWith('renewing leases'))).toBe(true);
      expect(db.calls).toHaveLength(count);
      expect(await db.count('num_attempts <> 1')).toBe(0);
    }, 60_000);
  });
}
