import { afterEach, expect, it } from 'vitest';
import { internalsOf } from '../../src/async-task/internals.js';
import type { AsyncTask } from '../../src/index.js';
import { startWorkerProcess, until, type WorkerProcess } from './support.js';

/** A fresh migrated database namespace with a `counters` table, as `postgresSchema` and `mysqlDatabase` make. */
export interface ProcessDb {
  readonly env: Record<string, string>;
  readonly asyncTask: AsyncTask<any, any, any>;
  enqueue(method: 'bump' | 'fail' | 'hang', argsList: Record<string, unknown>[]): Promise<void>;
  /** Attempts matching `where` (SQL over the attempts table or view). */
  count(where: string): Promise<number>;
  counters(): Promise<{ key: string; n: number }[]>;
  close(): Promise<void>;
}

const keys = (prefix: string, count: number, extra: Record<string, unknown> = {}) =>
  Array.from({ length: count }, (_, i) => ({ key: `${prefix}-${i}`, ...extra }));

/** The worker's process-level cases (inside a describe), on databases made by `make`. */
export function processCases(make: () => Promise<ProcessDb>): void {
  const children: WorkerProcess[] = [];
  const dbs: ProcessDb[] = [];

  afterEach(async () => {
    for (const worker of children.splice(0)) worker.child.kill('SIGKILL');
    await Promise.all(dbs.splice(0).map((db) => db.close()));
  });

  async function setup() {
    const db = await make();
    dbs.push(db);
    return db;
  }

  async function spawnWorker(env: Record<string, string>) {
    const worker = await startWorkerProcess(env);
    children.push(worker);
    return worker;
  }

  it('three processes perform 10,000 attempts, each exactly once (counter written through ctx.tx)', async () => {
    const db = await setup();
    await db.enqueue('bump', keys('k', 10_000));
    const workers = await Promise.all(
      ['a', 'b', 'c'].map((id) => spawnWorker({ ...db.env, WORKER_ID: `many-${id}`, CONCURRENCY: '8' })),
    );
    await until('all succeeded', async () => (await db.count(`status = 'succeeded'`)) === 10_000, 90_000);
    const counters = await db.counters();
    expect(counters).toHaveLength(10_000);
    expect(counters.every((counter) => counter.n === 1)).toBe(true);
    expect(await db.count('num_attempts <> 1')).toBe(0);
    // Work was shared: every process performed some.
    for (const worker of workers) {
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    }
  }, 120_000);

  it('transactional: SIGKILL mid-run loses nothing, and effects stay exactly once', async () => {
    const db = await setup();
    await db.enqueue('bump', keys('t', 400, { ms: 10 }));
    const env = { ...db.env, LEASE_MS: '1500', CONCURRENCY: '4' };
    const victim = await spawnWorker({ ...env, WORKER_ID: 'victim' });
    await until('victim is mid-run', async () => (await db.count(`status = 'succeeded'`)) >= 50);
    expect(await db.count(`lease_owner = 'victim'`)).toBeGreaterThan(0);
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');
    await spawnWorker({ ...env, WORKER_ID: 'survivor' });
    await until('all succeeded', async () => (await db.count(`status = 'succeeded'`)) === 400);
    const counters = await db.counters();
    expect(counters).toHaveLength(400);
    expect(counters.filter((counter) => counter.n !== 1)).toEqual([]);
  }, 60_000);

  it('leased: SIGKILL mid-run; the attempts it held run again elsewhere once the lease lapses', async () => {
    const db = await setup();
    await db.enqueue('bump', keys('l', 200, { ms: 50 }));
    const env = { ...db.env, WORKER_MODE: 'leased', LEASE_MS: '1500', CONCURRENCY: '4' };
    const victim = await spawnWorker({ ...env, WORKER_ID: 'victim' });
    await until('victim is mid-run', async () => (await db.count(`status = 'succeeded'`)) >= 20);
    const held = await db.count(`status = 'pending' AND lease_owner = 'victim'`);
    expect(held).toBeGreaterThan(0);
    victim.child.kill('SIGKILL');
    await victim.exited;
    const killedAt = Date.now();
    await spawnWorker({ ...env, WORKER_ID: 'survivor' });
    await until('all succeeded', async () => (await db.count(`status = 'succeeded'`)) === 200);
    // Nothing lost; at-least-once: the runs the victim had started were counted and run again.
    const counters = await db.counters();
    expect(counters).toHaveLength(200);
    expect(counters.every((counter) => counter.n >= 1)).toBe(true);
    expect(await db.count('num_attempts >= 2')).toBeGreaterThan(0);
    expect(Date.now() - killedAt).toBeLessThan(30_000);
  }, 60_000);

  for (const mode of ['transactional', 'leased'] as const) {
    it(`${mode}: stop() on SIGTERM mid-run leaves nothing half-done or held`, async () => {
      const db = await setup();
      await db.enqueue('bump', keys('s', 300, { ms: 20 }));
      const worker = await spawnWorker({ ...db.env, WORKER_MODE: mode, WORKER_ID: 'stopper', CONCURRENCY: '4' });
      await until('mid-run', async () => (await db.count(`status = 'succeeded'`)) >= 30);
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      expect(worker.output()).toContain('stopped');
      expect(await db.count(`lease_owner IS NOT NULL`)).toBe(0);
      const succeeded = await db.count(`status = 'succeeded'`);
      expect(succeeded).toBeLessThan(300);
      // Every succeeded attempt has its effect and no pending one has: nothing half-done.
      const counters = await db.counters();
      expect(counters).toHaveLength(succeeded);
      expect(counters.every((counter) => counter.n === 1)).toBe(true);
      expect(await db.count(`status = 'pending' AND num_attempts > 0`)).toBe(0);
      await spawnWorker({ ...db.env, WORKER_MODE: mode, WORKER_ID: 'finisher' });
      await until('all succeeded', async () => (await db.count(`status = 'succeeded'`)) === 300);
      expect((await db.counters()).every((counter) => counter.n === 1)).toBe(true);
    }, 60_000);

    it(`${mode}: a target that always throws ends failed after maxAttempts; one that hangs is cut off at its timeout`, async () => {
      const db = await setup();
      await db.enqueue('fail', keys('f', 3));
      await db.enqueue('hang', [{}]);
      await spawnWorker({ ...db.env, WORKER_MODE: mode, MAX_ATTEMPTS: '3', TIMEOUT_MS: '300', CONCURRENCY: '2' });
      await until('all failed', async () => (await db.count(`status = 'failed'`)) === 4);
      const failed = (await db.asyncTask.list({ status: 'failed' })).attempts;
      for (const attempt of failed) {
        expect(attempt.numAttempts).toBe(3);
        expect(attempt.completedAt).toBeInstanceOf(Date);
        const expected = attempt.methodName === 'hang' ? /timed out after 300 ms/ : /always fails: f-\d/;
        expect(attempt.lastError).toMatch(expected);
        // Every run's error is kept, the cut-off runs' too (transactional: recorded after their group was abandoned).
        const runs = await internalsOf(db.asyncTask).store.dashboardQueries().dashboardAttemptErrors(attempt.id, 20);
        expect(runs.map((entry) => entry.run)).toEqual([3, 2, 1]);
        for (const entry of runs) expect(entry.error).toMatch(expected);
      }
      // Transactional: the failing runs' writes rolled back with them; leased: they happened each time.
      const counters = await db.counters();
      if (mode === 'transactional') expect(counters).toEqual([]);
      else expect(counters.map((counter) => counter.n)).toEqual([3, 3, 3]);
    }, 60_000);
  }
}
