import { afterEach, describe, expect, it } from 'vitest';
import { expectInvariants, type FaultDb, faultDb, until } from './db-support.js';

// Two faults that come from the database while a target runs: the worker's pool is exhausted (the
// targets themselves take connections from it), and a statement inside a target hits statement_timeout.

const dbs: FaultDb[] = [];
afterEach(async () => {
  await Promise.all(dbs.splice(0).map((db) => db.close()));
});

const idOf = (attempt: { id: string } | undefined) => attempt?.id as string;

for (const mode of ['transactional', 'leased'] as const) {
  describe(`${mode}: database faults inside targets`, () => {
    it('pool exhausted by targets holding connections: no hang, nothing lost, effects exactly once', async () => {
      // Three connections for a worker that wants four transactions, a claim and a LISTEN at once,
      // and targets that each want one more.
      const db = await faultDb({ mode, poolMax: 3 });
      dbs.push(db);
      const holders = await db.enqueue(Array.from({ length: 6 }, (_, i) => ({ key: `hold-${i}`, holdMs: 200 })));
      const healthy = await db.enqueue(Array.from({ length: 12 }, (_, i) => ({ key: `k-${i}` })));
      const worker = await db.startWorker({ concurrency: 4, timeoutMs: 1500, maxAttemptsPerTransaction: 1 });
      await until('every attempt terminal', async () => (await db.count(`status = 'pending'`)) === 0, 45_000);
      const rows = await db.query<{ id: string; status: string; num_attempts: number }>(
        `SELECT id::text, status, num_attempts FROM ${db.schema}.async_task_attempts`,
      );
      const status = new Map(rows.map((row) => [row.id, row]));
      // I3: the attempts that hold nothing all succeed.
      expect(healthy.filter((attempt) => status.get(attempt.id)?.status !== 'succeeded')).toEqual([]);
      // A holder either got its connection and succeeded, or was cut off by its timeout until it failed.
      for (const holder of holders) expect(['succeeded', 'failed']).toContain(status.get(holder.id)?.status);
      // I2 and I4 over every attempt.
      const calls = new Map<string, number>();
      for (const call of db.calls) calls.set(call.id, (calls.get(call.id) ?? 0) + 1);
      expect(rows.filter((row) => (calls.get(row.id) ?? 0) > row.num_attempts)).toEqual([]);
      const effects = await db.query<{ id: string; num_attempts: number }>(
        `SELECT attempt_id::text AS id, num_attempts FROM ${db.schema}.effects`,
      );
      for (const row of rows) {
        const mine = effects.filter((effect) => effect.id === row.id);
        if (row.status !== 'succeeded') {
          if (mode === 'transactional') expect(mine).toEqual([]);
        } else if (mode === 'transactional') {
          expect(mine).toEqual([{ id: row.id, num_attempts: row.num_attempts }]);
        } else {
          expect(mine.some((effect) => effect.num_attempts === row.num_attempts)).toBe(true);
        }
      }
      expect(worker.state).toBe('running');
      expect((await db.asyncTask.list({ limit: 1 })).attempts).toHaveLength(1);
    }, 60_000);

    for (const variant of ['throw', 'swallow'] as const) {
      it(`statement_timeout hit inside a target (${variant === 'throw' ? 'thrown' : 'swallowed'}): that run fails alone, its neighbours are not charged`, async () => {
        const db = await faultDb({ mode });
        dbs.push(db);
        // One transaction, so the victim and its neighbours are claimed (and grouped) together.
        const [victim, ...neighbours] = await db.enqueue([
          { key: 'victim', statementTimeout: variant },
          ...Array.from({ length: 5 }, (_, i) => ({ key: `k-${i}` })),
        ]);
        const worker = await db.startWorker();
        await until('all succeeded', async () => (await db.count(`status = 'succeeded'`)) === 6, 20_000);
        await expectInvariants(db, mode, [worker]);
        const [row] = await db.query<{ num_attempts: number }>(
          `SELECT num_attempts FROM ${db.schema}.async_task_attempts WHERE id = $1`,
          [idOf(victim)],
        );
        // Leased and swallowed: no transaction was harmed, the run succeeds. Otherwise the first run fails.
        expect(row?.num_attempts).toBe(mode === 'leased' && variant === 'swallow' ? 1 : 2);
        const charged = await db.query(
          `SELECT id FROM ${db.schema}.async_task_attempts WHERE id = ANY($1::bigint[]) AND num_attempts <> 1`,
          [neighbours.map((attempt) => attempt.id)],
        );
        expect(charged).toEqual([]);
      });
    }
  });
}
