import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { sqlite } from '../../src/drivers/sqlite.js';
import { createAsyncTask, type PerformContext } from '../../src/index.js';
import { startWorkerProcess, until, type WorkerProcess } from './support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('SQLite: a worker in this process and one in a second process share one file; each attempt once', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'async-task-worker-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'app.sqlite');
  const app = new Database(file);
  app.pragma('journal_mode = WAL');
  app.exec('CREATE TABLE counters (key TEXT PRIMARY KEY, n INTEGER NOT NULL)');
  cleanups.push(() => {
    app.close();
  });
  const Counter = {
    async bump(args: { key: string }, ctx: PerformContext<Database.Database>) {
      ctx.tx
        .prepare('INSERT INTO counters (key, n) VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET n = n + 1')
        .run(args.key);
    },
  };
  const asyncTask = createAsyncTask({ db: sqlite(app), targets: { Counter } });
  await asyncTask.migrate();
  cleanups.push(() => asyncTask.close());
  const total = 2000;

  const child: WorkerProcess = await startWorkerProcess({ SQLITE_FILE: file, CONCURRENCY: '2', POLL_MS: '50' });
  cleanups.push(() => {
    child.child.kill('SIGKILL');
  });
  // Small claims: woken in-process at each enqueue, this worker could otherwise take each batch whole before the
  // other process's next poll, and the share test below would measure only the machine's load.
  const worker = asyncTask.worker({ concurrency: 2, pollIntervalMs: 50, batchSize: 5 });
  let here = 0;
  worker.on('attempt:succeeded', () => here++);
  await worker.start();
  // Enqueue over a second, in batches, while both workers run: each gets a share whatever the load.
  for (let batch = 0; batch < 20; batch++) {
    app.exec('BEGIN');
    await asyncTask.enqueueMany(
      app,
      'Counter',
      'bump',
      Array.from({ length: total / 20 }, (_, i) => ({ key: `q-${batch}-${i}` })),
    );
    app.exec('COMMIT');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const count = (sql: string) => (app.prepare(sql).get() as { n: number }).n;
  await until(
    'all succeeded',
    async () => count(`SELECT count(*) AS n FROM async_task_attempts WHERE status = 'succeeded'`) === total,
    60_000,
  );
  await worker.stop();
  child.child.kill('SIGTERM');
  expect(await child.exited).toBe(0);
  expect(count('SELECT count(*) AS n FROM counters WHERE n = 1')).toBe(total);
  expect(count('SELECT count(*) AS n FROM counters')).toBe(total);
  expect(count('SELECT count(*) AS n FROM async_task_attempts WHERE num_attempts <> 1')).toBe(0);
  // Both workers took part.
  expect(here).toBeGreaterThan(0);
  expect(here).toBeLessThan(total);
}, 90_000);
