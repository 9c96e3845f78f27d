// `async-task worker` as a process: it performs attempts as they are enqueued, and SIGTERM lets the
// running attempt finish before it exits 0.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, inject, test } from 'vitest';
import type { AsyncTask } from '../../src/async-task/async-task.js';
import { postgres } from '../../src/drivers/postgres.js';
import { sqlite } from '../../src/drivers/sqlite.js';
import { createAsyncTask } from '../../src/index.js';
import { CLI, createDatabase, expectOk, makeProject, removeProject, runCli, write } from './support/project.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const targets = {
  Mailer: { async send(_args: { to: string }) {} },
  Slow: { async wait(_args: { ms: number }) {} },
};

const config = (dialect: string) => `import fs from 'node:fs';
import { defineConfig } from 'async-task-ts/config';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export default defineConfig({
  dialect: '${dialect}',
  url: 'app.db',
  targets: {
    Mailer: { async send(_args: { to: string }) {} },
    Slow: {
      async wait(args: { ms: number }) {
        // Tells the test the call has begun.
        fs.writeFileSync('slow-started', '');
        await sleep(args.ms);
      },
    },
  },
  worker: { concurrency: 2, pollIntervalMs: 200 },
});
`;

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`async-task worker [${dialect}]`, () => {
    const closers: (() => Promise<unknown> | unknown)[] = [];
    afterAll(async () => {
      for (const close of closers.reverse()) await close();
    });

    test('performs attempts as they come and stops gracefully on SIGTERM', { timeout: 60_000 }, async () => {
      const dir = makeProject(`worker-${dialect}`);
      closers.push(() => removeProject(dir));
      write(dir, 'async-task.config.ts', config(dialect));
      let env: Record<string, string> = {};
      let asyncTask: AsyncTask<typeof targets, any>;
      let enqueue: (target: 'Mailer' | 'Slow', args: any) => Promise<string>;
      if (dialect === 'postgres') {
        const database = await createDatabase(inject('pgAdminUrl'));
        closers.push(database.drop);
        env = { DATABASE_URL: database.url };
        const pool = new pg.Pool({ connectionString: database.url });
        closers.push(() => pool.end());
        asyncTask = createAsyncTask({ db: postgres(pool), targets });
        enqueue = async (target, args) =>
          target === 'Mailer'
            ? (await asyncTask.enqueue(pool, 'Mailer', 'send', args)).id
            : (await asyncTask.enqueue(pool, 'Slow', 'wait', args)).id;
      } else {
        const db = new Database(path.join(dir, 'app.db'));
        closers.push(() => db.close());
        asyncTask = createAsyncTask({ db: sqlite(db), targets });
        enqueue = async (target, args) =>
          target === 'Mailer'
            ? (await asyncTask.enqueue(db, 'Mailer', 'send', args)).id
            : (await asyncTask.enqueue(db, 'Slow', 'wait', args)).id;
      }
      closers.push(() => asyncTask.close());
      expectOk(await runCli(dir, ['migrate'], { env }), 'migrate');

      const child = spawn(process.execPath, [CLI, 'worker'], { cwd: dir, env: { ...process.env, ...env } });
      let stderr = '';
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      closers.push(() => child.exitCode === null && child.kill('SIGKILL'));
      await waitFor(async () => stderr.includes('running on'), 'the worker to start');

      const mail = await enqueue('Mailer', { to: 'ada@example.com' });
      await waitFor(async () => (await asyncTask.find(mail))?.status === 'succeeded', 'the mail to be sent');

      const slow = await enqueue('Slow', { ms: 1500 });
      await waitFor(async () => fs.existsSync(path.join(dir, 'slow-started')), 'the slow call to begin');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      // It was allowed to finish rather than aborted: one run, succeeded.
      expect(await asyncTask.find(slow)).toMatchObject({ status: 'succeeded', numAttempts: 1 });
      expect(stderr).toContain('SIGTERM: stopping; running attempts get up to 30000 ms to finish');
      expect(stderr).toContain('Worker stopped.');
    });
  });
}
