// `async-task recurring list` against a table with one performed tick, run as a user runs it.
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { internalsOf } from '../../src/async-task/internals.js';
import { postgres } from '../../src/drivers/postgres.js';
import { sqlite } from '../../src/drivers/sqlite.js';
import { type AsyncTask, createAsyncTask } from '../../src/index.js';
import { RecurringScheduler } from '../../src/recurring/scheduler.js';
import { createDatabase, expectOk, json, makeProject, removeProject, runCli, write } from './support/project.js';

const Reports = { async nightly(_args: { format: string }) {} };
const recurring = {
  nightlyReport: {
    cron: '0 3 * * *',
    timezone: 'Europe/Berlin',
    target: 'Reports',
    method: 'nightly',
    args: { format: 'pdf' },
  },
  neverYet: { cron: '*/5 * * * *', target: 'Reports', method: 'nightly', args: { format: 'csv' } },
} as const;

const config = (dialect: string) => `import { defineConfig } from 'async-task-ts/config';

export default defineConfig({
  dialect: '${dialect}',
  url: 'app.db',
  targets: { Reports: { async nightly(_args: { format: string }) {} } },
  recurring: ${JSON.stringify(recurring)},
});
`;

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`async-task recurring list [${dialect}]`, () => {
    let dir: string;
    let env: Record<string, string> = {};
    let asyncTask: AsyncTask<{ Reports: typeof Reports }, any>;
    const closers: (() => Promise<unknown> | unknown)[] = [];
    const cli = (...args: string[]) => runCli(dir, args, { env });

    beforeAll(async () => {
      dir = makeProject(`recurring-${dialect}`);
      closers.push(() => removeProject(dir));
      write(dir, 'async-task.config.ts', config(dialect));
      if (dialect === 'postgres') {
        const database = await createDatabase(inject('pgAdminUrl'));
        closers.push(database.drop);
        env = { DATABASE_URL: database.url };
        const pool = new pg.Pool({ connectionString: database.url });
        // pool.end() resolves before its sockets close; the database's DROP … WITH (FORCE) may then kill one.
        pool.on('error', () => {});
        closers.push(() => pool.end());
        asyncTask = createAsyncTask({ db: postgres(pool), targets: { Reports }, recurring });
      } else {
        const db = new Database(path.join(dir, 'app.db'));
        closers.push(() => db.close());
        asyncTask = createAsyncTask({ db: sqlite(db), targets: { Reports }, recurring });
      }
      closers.push(() => asyncTask.close());
      expectOk(await cli('migrate'), 'migrate');
      // One nightly tick, enqueued at a controlled time (yesterday 03:00 Berlin), then performed.
      const tick = internalsOf(asyncTask).schedules![0]!.ticksUpTo(new Date(Date.now() - 86_400_000), 1)[0]!;
      let clock = new Date(tick.getTime() - 60_000);
      const nightly = internalsOf(asyncTask).schedules!.slice(0, 1);
      const scheduler = new RecurringScheduler(internalsOf(asyncTask), nightly, {
        logger: { debug() {}, info() {}, warn() {}, error() {} },
        onError: (error) => {
          throw error;
        },
        now: () => clock,
      });
      await scheduler.poll();
      clock = new Date(tick.getTime() + 1000);
      await scheduler.poll();
      expect(await asyncTask.drain()).toMatchObject({ performed: 1, succeeded: 1 });
    });

    afterAll(async () => {
      for (const close of closers.reverse()) await close();
    });

    test('--json: next tick, last tick and its outcome per schedule', async () => {
      const list = json(expectOk(await cli('recurring', 'list', '--json'), 'recurring list'));
      expect(list.map((schedule: { name: string }) => schedule.name)).toEqual(['nightlyReport', 'neverYet']);
      const [nightly, never] = list;
      expect(nightly).toMatchObject({
        cron: '0 3 * * *',
        timezone: 'Europe/Berlin',
        target: 'Reports',
        method: 'nightly',
        catchUp: 1,
        lastTick: { status: 'succeeded', numAttempts: 1, lastError: null },
      });
      expect(Date.parse(nightly.nextTick)).toBeGreaterThan(Date.now());
      expect(Date.now() - Date.parse(nightly.lastTick.at)).toBeGreaterThan(86_400_000);
      expect(never.lastTick).toBeNull();
      expect(Date.parse(never.nextTick) - Date.now()).toBeLessThanOrEqual(5 * 60_000);
    });

    test('a table for people', async () => {
      const text = expectOk(await cli('recurring', 'list'), 'recurring list').stdout;
      expect(text).toContain('nightlyReport');
      expect(text).toContain('Reports.nightly');
      expect(text).toContain('succeeded');
      expect(text).toContain('never');
    });
  });
}
