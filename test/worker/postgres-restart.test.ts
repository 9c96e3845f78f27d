import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningPostgres, startEmbeddedPostgres } from '../support/embedded-postgres.js';
import { postgresSchema, startWorkerProcess, until, type WorkerProcess } from './support.js';

// A server of its own: restarting the shared one would break every other test file running meanwhile.
let server: RunningPostgres;
beforeAll(async () => {
  server = await startEmbeddedPostgres();
}, 60_000);
afterAll(() => server?.stop());

describe('PostgreSQL restarted under a running worker', () => {
  it('the worker reconnects and finishes; nothing lost, nothing done twice', async () => {
    const db = await postgresSchema(server.url);
    let worker: WorkerProcess | undefined;
    try {
      await db.enqueue(
        'bump',
        Array.from({ length: 1500 }, (_, i) => ({ key: `r-${i}`, ms: 2 })),
      );
      worker = await startWorkerProcess({ ...db.env, LEASE_MS: '2000', POLL_MS: '200', CONCURRENCY: '4' });
      // Queries fail while the server is down: count that as "not yet".
      const succeeded = async () => {
        try {
          return await db.count(`status = 'succeeded'`);
        } catch {
          return -1;
        }
      };
      await until('mid-run', async () => (await succeeded()) >= 100);
      await server.restart();
      await until('all succeeded after the restart', async () => (await succeeded()) === 1500, 60_000).catch(
        async (error) => {
          const states = await db.pool.query(
            `SELECT status, lease_owner IS NOT NULL AS leased, count(*) FROM ${db.schema}.async_task_attempts GROUP BY 1, 2`,
          );
          throw new Error(`${error.message}\n${JSON.stringify(states.rows)}\nworker output:\n${worker?.output()}`);
        },
      );
      expect(worker.child.exitCode).toBeNull();
      const counters = await db.counters();
      expect(counters).toHaveLength(1500);
      expect(counters.filter((counter) => counter.n !== 1)).toEqual([]);
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    } finally {
      worker?.child.kill('SIGKILL');
      await db.close();
    }
  }, 90_000);
});
