// The CLI on MySQL/MariaDB, run as a user runs it (the built CLI in a project folder): `migrate --print` is the DDL
// `migrate` runs, and one path end to end: migrate → an enqueue → `worker` performs it, the target writing through
// ctx.tx → `attempts list`, `stats`.
import { spawn } from 'node:child_process';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, test } from 'vitest';
import { mysql as mysqlDriver } from '../../src/drivers/mysql.js';
import { createAsyncTask } from '../../src/index.js';
import { LATEST_MYSQL_MIGRATION } from '../../src/store/mysql/migrations.js';
import {
  mysqlSkipNote,
  mysqlTestDatabases,
  mysqlUnreachable,
  mysqlUrl,
  withMysqlTransaction,
} from '../support/mysql-database.js';
import { CLI, expectOk, json, makeProject, removeProject, runCli, write } from './support/project.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const config = `import { defineConfig } from 'async-task-ts/config';
import type { MysqlPoolConnectionLike } from 'async-task-ts/mysql';
import type { PerformContext } from 'async-task-ts';

export default defineConfig({
  dialect: 'mysql',
  targets: {
    Mailer: {
      async send(args: { to: string }, ctx: PerformContext<MysqlPoolConnectionLike>) {
        await ctx.tx.query('INSERT INTO effects (\`key\`) VALUES (?)', [args.to]);
      },
    },
  },
  worker: { concurrency: 2, pollIntervalMs: 100 },
});
`;

const targets = { Mailer: { async send(_args: { to: string }) {} } };

if (mysqlUnreachable) {
  describe.skip(mysqlSkipNote('async-task CLI [mysql]'), () => {
    test('runs against a MySQL or MariaDB server', () => {});
  });
} else {
  describe('async-task CLI [mysql]', () => {
    const databases = mysqlTestDatabases();
    const closers: (() => Promise<unknown> | unknown)[] = [];
    afterAll(async () => {
      for (const close of closers.reverse()) await close();
      await databases.drop();
    });
    const project = (name: string) => {
      const dir = makeProject(name);
      closers.push(() => removeProject(dir));
      write(dir, 'async-task.config.ts', config);
      return dir;
    };

    test('migrate --print is what migrate runs: after it, migrate finds the schema up to date', async () => {
      const url = mysqlUrl(await databases.create());
      const dir = project('mysql-print');
      const env = { DATABASE_URL: url };
      const connection = await mysql.createConnection({ uri: url });
      closers.push(() => connection.end());
      const [[server]] = (await connection.query('SELECT VERSION() AS v')) as any;
      const args = ['migrate', '--print', ...(/mariadb/i.test(server.v) ? ['--mariadb'] : [])];
      const printed = expectOk(await runCli(dir, args, { env }), 'migrate --print').stdout;
      for (const statement of printed.split(/;\n\n/)) {
        const text = statement.trim().replace(/;$/, '');
        if (text) await connection.query(text);
      }
      const migrated = json(expectOk(await runCli(dir, ['migrate', '--json'], { env }), 'migrate'));
      expect(migrated).toMatchObject({
        migrated: false,
        fromVersion: LATEST_MYSQL_MIGRATION,
        toVersion: LATEST_MYSQL_MIGRATION,
      });
    });

    test('migrate, then the worker performs an enqueued attempt; attempts list and stats show it', {
      timeout: 60_000,
    }, async () => {
      const url = mysqlUrl(await databases.create());
      const dir = project('mysql-worker');
      const env = { DATABASE_URL: url };
      const first = json(expectOk(await runCli(dir, ['migrate', '--json'], { env }), 'migrate'));
      expect(first).toMatchObject({
        migrated: true,
        fromVersion: 0,
        toVersion: LATEST_MYSQL_MIGRATION,
        table: 'async_task_attempts',
      });
      expect(first.database).toContain('(from DATABASE_URL)');

      const pool = mysql.createPool({ uri: url, connectionLimit: 4 });
      closers.push(() => pool.end());
      const asyncTask = createAsyncTask({ db: mysqlDriver(pool), targets });
      closers.push(() => asyncTask.close());

      const child = spawn(process.execPath, [CLI, 'worker'], { cwd: dir, env: { ...process.env, ...env } });
      let stderr = '';
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      closers.push(() => child.exitCode === null && child.kill('SIGKILL'));
      await waitFor(async () => stderr.includes('running on'), 'the worker to start');

      const attempt = await withMysqlTransaction(pool, (tx) =>
        asyncTask.enqueue(tx, 'Mailer', 'send', { to: 'ada@example.com' }),
      );
      await waitFor(async () => (await asyncTask.find(attempt.id))?.status === 'succeeded', 'the worker to perform it');
      const [effects] = (await pool.query('SELECT `key` FROM effects')) as any;
      expect(effects.map((row: { key: string }) => row.key)).toEqual(['ada@example.com']);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);

      const listed = json(expectOk(await runCli(dir, ['attempts', 'list', '--json'], { env }), 'attempts list'));
      expect(listed.attempts).toHaveLength(1);
      expect(listed.attempts[0]).toMatchObject({
        id: attempt.id,
        status: 'succeeded',
        target: 'Mailer',
        numAttempts: 1,
      });
      const shown = json(expectOk(await runCli(dir, ['attempts', 'show', attempt.id, '--json'], { env }), 'show'));
      expect(shown).toMatchObject({ id: attempt.id, status: 'succeeded', methodName: 'send' });
      const stats = json(expectOk(await runCli(dir, ['stats', '--json'], { env }), 'stats'));
      expect(JSON.stringify(stats)).toContain('succeeded');
    });

    test('a postgres:// --url is refused for a mysql config, naming what it needs', async () => {
      const dir = project('mysql-url');
      const result = await runCli(dir, ['migrate', '--url', 'postgres://localhost/app']);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('is not a mysql:// URL');
    });
  });
}
