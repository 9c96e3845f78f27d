// `attempts` and `stats` against seeded data, run as a user runs them: the built CLI in a project folder.
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import type { AsyncTask } from '../../src/async-task/async-task.js';
import { postgres } from '../../src/drivers/postgres.js';
import { sqlite } from '../../src/drivers/sqlite.js';
import { createAsyncTask } from '../../src/index.js';
import { postgresMigrationScript } from '../../src/store/postgres/migration-script.js';
import { sqliteMigrationScript } from '../../src/store/sqlite/migration-script.js';
import { withPgTransaction } from '../support/pg-transaction.js';
import {
  createDatabase,
  expectOk,
  hasScript,
  json,
  KEYS,
  makeProject,
  removeProject,
  runCli,
  runCliOnTerminal,
  write,
} from './support/project.js';

const targets = {
  Mailer: { async send(_args: { to: string }) {} },
  Newsletter: { async send(_args: { to: string }) {} },
  Flaky: {
    async boom(_args: { n: number }): Promise<void> {
      throw new Error('kaboom');
    },
  },
};

const config = (dialect: string) => `import { defineConfig } from 'async-task-ts/config';

export default defineConfig({
  dialect: '${dialect}',
  url: 'app.db',
  targets: {
    Mailer: { async send(_args: { to: string }) {} },
    Newsletter: { async send(_args: { to: string }) {} },
    Flaky: {
      async boom(_args: { n: number }): Promise<void> {
        throw new Error('kaboom');
      },
    },
  },
  retry: { maxAttempts: 1 },
});
`;

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`async-task attempts and stats [${dialect}]`, () => {
    let dir: string;
    let env: Record<string, string> = {};
    let asyncTask: AsyncTask<typeof targets, any>;
    /** A handle to enqueue on outside any transaction (the pool, or the SQLite database). */
    let seedTx: any;
    const closers: (() => Promise<unknown> | unknown)[] = [];
    const ids: Record<string, string[]> = { sent: [], failed: [], due: [], later: [] };
    const cli = (...args: string[]) => runCli(dir, args, { env });

    beforeAll(async () => {
      dir = makeProject(`commands-${dialect}`);
      closers.push(() => removeProject(dir));
      write(dir, 'async-task.config.ts', config(dialect));
      let enqueueAll: (fn: (tx: any) => Promise<void>) => Promise<void>;
      if (dialect === 'postgres') {
        const database = await createDatabase(inject('pgAdminUrl'));
        closers.push(database.drop);
        env = { DATABASE_URL: database.url };
        const pool = new pg.Pool({ connectionString: database.url });
        closers.push(() => pool.end());
        asyncTask = createAsyncTask({ db: postgres(pool), targets, retry: { maxAttempts: 1 } });
        seedTx = pool;
        enqueueAll = (fn) => withPgTransaction(pool, fn);
      } else {
        const db = new Database(path.join(dir, 'app.db'));
        closers.push(() => db.close());
        asyncTask = createAsyncTask({ db: sqlite(db), targets, retry: { maxAttempts: 1 } });
        seedTx = db;
        enqueueAll = async (fn) => {
          db.exec('BEGIN');
          await fn(db);
          db.exec('COMMIT');
        };
      }
      closers.push(() => asyncTask.close());
      // Through the CLI: the table the rest of the test reads.
      expectOk(await cli('migrate'), 'migrate');
      await enqueueAll(async (tx) => {
        for (let i = 0; i < 4; i++)
          ids.sent!.push((await asyncTask.enqueue(tx, 'Mailer', 'send', { to: `a${i}@x` })).id);
        for (let n = 0; n < 3; n++) ids.failed!.push((await asyncTask.enqueue(tx, 'Flaky', 'boom', { n })).id);
      });
      const drained = await asyncTask.drain();
      expect(drained).toEqual({ performed: 7, succeeded: 4, retrying: 0, failed: 3 });
      await enqueueAll(async (tx) => {
        for (let i = 0; i < 2; i++)
          ids.due!.push((await asyncTask.enqueue(tx, 'Mailer', 'send', { to: `b${i}@x` })).id);
        const scheduledAt = new Date(Date.now() + 3_600_000);
        ids.later!.push((await asyncTask.enqueue(tx, 'Mailer', 'send', { to: 'later@x' }, { scheduledAt })).id);
      });
    });

    afterAll(async () => {
      for (const close of closers.reverse()) await close();
    });

    test('attempts list filters, pages newest first, and keeps stored arguments out of --json', async () => {
      const all = json(expectOk(await cli('attempts', 'list', '--json'), 'list'));
      const every = [...ids.sent!, ...ids.failed!, ...ids.due!, ...ids.later!];
      expect(all.attempts.map((a: { id: string }) => a.id)).toEqual([...every].reverse());
      expect(all.nextCursor).toBeNull();
      expect(all.attempts[0]).not.toHaveProperty('methodArgs');

      const failed = json(await cli('attempts', 'list', '--status', 'failed', '--json'));
      expect(failed.attempts.map((a: { id: string }) => a.id)).toEqual([...ids.failed!].reverse());
      expect(failed.attempts[0]).toMatchObject({ target: 'Flaky', methodName: 'boom', numAttempts: 1 });
      expect(failed.attempts[0].lastError).toContain('kaboom');

      const pendingMail = json(await cli('attempts', 'list', '-s', 'pending', '-t', 'Mailer', '-m', 'send', '--json'));
      expect(pendingMail.attempts.map((a: { id: string }) => a.id)).toEqual([...ids.due!, ...ids.later!].reverse());

      const first = json(await cli('attempts', 'list', '--limit', '4', '--json'));
      expect(first.attempts).toHaveLength(4);
      const second = json(await cli('attempts', 'list', '--limit', '4', '--cursor', first.nextCursor, '--json'));
      expect(second.attempts.map((a: { id: string }) => a.id)).toEqual([...every].reverse().slice(4, 8));
    });

    test('attempts list prints a plain table when stdout is not a terminal', async () => {
      const { stdout, code } = await cli('attempts', 'list', '--status', 'failed');
      expect(code).toBe(0);
      expect(stdout).toContain('target.method');
      expect(stdout).toContain('Flaky.boom');
      expect(stdout).toContain('Error: kaboom');
      // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for colour codes.
      expect(stdout).not.toMatch(/\u001b\[/);
      const widest = Math.max(...stdout.split('\n').map((line) => line.length));
      expect(widest).toBeLessThanOrEqual(120);
    });

    test('attempts show decodes the arguments; an unknown id exits 4', async () => {
      const shown = json(await cli('attempts', 'show', ids.failed![1]!, '--json'));
      expect(shown).toMatchObject({ id: ids.failed![1], status: 'failed', args: { n: 1 } });
      expect(shown.lastError).toContain('kaboom');
      // Each failed run's error, newest first (retries are off here: one run).
      expect(shown.runErrors).toHaveLength(1);
      expect(shown.runErrors[0]).toMatchObject({ run: 1 });
      expect(shown.runErrors[0].error).toContain('kaboom');
      expect(Date.parse(shown.runErrors[0].failedAt)).toBeGreaterThan(0);
      const failedText = await cli('attempts', 'show', ids.failed![1]!, '--no-args');
      expect(failedText.stdout).toContain('errors by run (newest first)');
      expect(failedText.stdout).toMatch(/run 1, failed /);
      const text = await cli('attempts', 'show', ids.sent![0]!);
      expect(text.stdout).not.toContain('errors by run');
      expect(text.stdout).toMatch(/status\s+succeeded/);
      expect(text.stdout).toMatch(/encryptor\s+none \(arguments stored as JSON text\)/);
      expect(text.stdout).toContain('"to": "a0@x"');
      const hidden = json(await cli('attempts', 'show', ids.sent![0]!, '--no-args', '--json'));
      expect(hidden).not.toHaveProperty('args');
      const missing = await cli('attempts', 'show', '999999');
      expect(missing.code).toBe(4);
      expect(missing.stderr.trim()).toBe('async-task: No attempt with id 999999');
    });

    test('stats counts by status, the oldest due pending attempt and the throughput', async () => {
      const stats = json(expectOk(await cli('stats', '--json'), 'stats'));
      expect(stats.counts).toEqual({ pending: 3, succeeded: 4, failed: 3, expired: 0 });
      expect(stats.estimated).toEqual([]);
      expect(stats.oldestDuePendingAgeMs).toBeGreaterThanOrEqual(0);
      expect(stats.oldestDuePendingAgeMs).toBeLessThan(60_000);
      expect(stats.throughput).toHaveLength(5);
      const total = (key: 'succeeded' | 'failed') =>
        stats.throughput.reduce((sum: number, minute: Record<string, number>) => sum + minute[key]!, 0);
      expect([total('succeeded'), total('failed')]).toEqual([4, 3]);
      const text = expectOk(await cli('stats', '--window', '3'), 'stats table');
      expect(text.stdout).toMatch(/oldest due pending: waiting (\d+m )?\d+s/);
      expect(text.stdout).toContain('throughput, last 3 min: 7 completed');
    });

    test('bulk retry asks first (--yes without a terminal), then retries every match; the worker drains them', async () => {
      const refused = await cli('attempts', 'retry', '--status', 'failed');
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('Retry 3 attempts? Pass --yes to confirm');
      expect(json(await cli('attempts', 'list', '--status', 'failed', '--json')).attempts).toHaveLength(3);

      const retried = json(expectOk(await cli('attempts', 'retry', '--status', 'failed', '--yes', '--json'), 'retry'));
      expect(retried).toEqual({ changed: ids.failed, skipped: [] });
      const drained = json(expectOk(await cli('worker', '--drain', '--json'), 'worker --drain'));
      // Two due Mailer.send succeed; the three Flaky.boom fail again.
      expect(drained).toEqual({ performed: 5, succeeded: 2, retrying: 0, failed: 3 });
    });

    test('expire and fail by id; a status that does not allow it exits 5 and changes nothing', async () => {
      const later = ids.later![0]!;
      expect(json(await cli('attempts', 'expire', later, '--json'))).toEqual({ changed: [later], skipped: [] });
      const again = await cli('attempts', 'fail', later);
      expect(again.code).toBe(5);
      expect(again.stderr).toContain(`skipped ${later}: Attempt ${later} is expired; expected pending`);
      // No tick for nothing done, and a refusal is not an error with a stack worth reading.
      expect(again.stdout).not.toContain('✔');
      expect(again.stderr).toContain(`async-task: Nothing to fail: Attempt ${later} is expired; expected pending`);
      expect(again.stderr).not.toContain('--verbose');
      expect((await asyncTask.find(later))?.status).toBe('expired');
      const retried = json(await cli('attempts', 'retry', later, '--json'));
      expect(retried.changed).toEqual([later]);
      expect((await asyncTask.find(later))?.status).toBe('pending');
      // Bulk changes take list's -n: at most that many, newest first.
      const newest = json(await cli('attempts', 'list', '--status', 'pending', '-n', '1', '--json')).attempts[0].id;
      const limited = await cli('attempts', 'expire', '--status', 'pending', '-n', '1', '--yes', '--json');
      expect(json(limited)).toEqual({ changed: [newest], skipped: [] });
      expect(json(await cli('attempts', 'retry', newest, '--json')).changed).toEqual([newest]);
      expect(
        json(await cli('attempts', 'fail', '--target', 'Mailer', '--status', 'pending', '--yes', '--json')),
      ).toEqual({
        changed: [later],
        skipped: [],
      });
    });

    test.skipIf(!hasScript || dialect !== 'sqlite')(
      'bulk expire on a terminal asks for confirmation, then shows a progress bar',
      async () => {
        const fresh: string[] = [];
        for (let i = 0; i < 3; i++)
          fresh.push((await asyncTask.enqueue(seedTx, 'Newsletter', 'send', { to: `c${i}@x` })).id);
        const declined = await runCliOnTerminal(
          dir,
          ['attempts', 'expire', '--target', 'Newsletter', '--status', 'pending'],
          [{ waitFor: 'Expire 3 attempts?', keys: [KEYS.enter] }],
        );
        expect(declined.code, declined.screen).toBe(6);
        expect(declined.screen).toContain('Cancelled; nothing changed.');
        expect((await asyncTask.find(fresh[0]!))?.status).toBe('pending');

        const { code, screen } = await runCliOnTerminal(
          dir,
          ['attempts', 'expire', '-t', 'Newsletter', '-s', 'pending'],
          [{ waitFor: 'Expire 3 attempts?', keys: [KEYS.up, KEYS.enter] }],
        );
        expect(code, screen).toBe(0);
        expect(screen).toMatch(/Expire \[[█░]+\] 3\/3 100%/);
        expect(screen).toContain('Expired 3 of 3');
        for (const id of fresh) expect((await asyncTask.find(id))?.status).toBe('expired');
      },
    );

    test('migrate --print is the store layer script, and migrate is idempotent', async () => {
      const printed = expectOk(await cli('migrate', '--print'), 'migrate --print').stdout;
      const script = dialect === 'postgres' ? postgresMigrationScript() : sqliteMigrationScript();
      expect(printed).toBe(`${script.join(';\n\n')};\n`);
      // Already migrated: nothing ran, and --json says so.
      const migrated = json(expectOk(await cli('migrate', '--json'), 'migrate'));
      expect(migrated).toMatchObject({ migrated: false });
      expect(migrated.fromVersion).toBe(migrated.toVersion);
      expect(migrated.toVersion).toBeGreaterThan(0);
    });
  });
}
