// `async-task init --dialect mariadb` for each tool that exists on MySQL: init in an empty project, the tool's own
// migration run against the MariaDB server, `async-task migrate` finds nothing left to do, the generated sample test
// passes, and the CLI worker performs an attempt enqueued inside the tool's transaction, the target reading the
// database time through ctx.tx.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, test } from 'vitest';
import { dataLayer } from '../../src/cli/init/data-layer.js';
import { mysqlMigrations } from '../../src/store/mysql/migrations.js';
import {
  MYSQL_TEST_URL,
  mysqlSkipNote,
  mysqlTestDatabases,
  mysqlUnreachable,
  mysqlUrl,
} from '../support/mysql-database.js';
import {
  CLI,
  expectOk,
  json,
  makeProject,
  type RunResult,
  read,
  removeProject,
  runCli,
  runNode,
  runProgram,
} from './support/project.js';

type Tool = 'sql' | 'knex' | 'kysely' | 'drizzle';

const bin = (name: string, file: string) => path.join('node_modules', name, file);

/** The server's flavour, for `--dialect`: the migration names its collation. */
async function serverDialect(): Promise<'mysql' | 'mariadb'> {
  const connection = await mysql.createConnection({ uri: MYSQL_TEST_URL });
  try {
    const [[row]] = (await connection.query('SELECT VERSION() AS v')) as any;
    return /mariadb/i.test(row.v) ? 'mariadb' : 'mysql';
  } finally {
    await connection.end();
  }
}

/** The tool's own migration run, as its user runs it. */
async function migrateWithTool(tool: Tool, dir: string, url: string, written: string[]): Promise<RunResult> {
  const env = { DATABASE_URL: url };
  switch (tool) {
    case 'sql': {
      // The raw-SQL user's runner: the server's command-line client, reading the file.
      const { hostname, port, username, password, pathname } = new URL(url);
      const args = ['-h', hostname, '-P', port || '3306', '-u', decodeURIComponent(username) || 'root'];
      if (password) args.push(`-p${decodeURIComponent(password)}`);
      return runProgram(dir, 'mysql', [...args, pathname.slice(1)], { input: read(dir, written[0]!) });
    }
    case 'knex':
      return runNode(dir, [bin('knex', 'bin/cli.js'), 'migrate:latest'], { env });
    case 'kysely':
      return runNode(dir, ['--import', 'tsx', 'scripts/kysely-migrate.ts'], { env });
    case 'drizzle':
      return runNode(dir, [bin('drizzle-kit', 'bin.cjs'), 'migrate'], { env });
  }
}

function enqueueScript(tool: Tool, name: string): string {
  const layer = dataLayer({
    cwd: '',
    dialect: 'mariadb',
    tool,
    runner: 'vitest',
    url: '',
    table: undefined,
    schema: undefined,
    migrationsDir: '',
    now: new Date(),
  });
  return `import { createAsyncTask } from 'async-task-ts';
import config from '../async-task.config.js';
import { connect } from '../src/db/client.js';

const { db, driver, close } = connect(process.env.DATABASE_URL!);
const asyncTask = createAsyncTask({ db: driver, targets: config.targets });
${layer.enqueue.replaceAll("'Ada'", `'${name}'`)}
console.log(id);
await asyncTask.close();
await close();
`;
}

/** Runs `async-task worker` until its output shows `text`, then stops it with SIGTERM. */
function runWorkerUntil(dir: string, env: Record<string, string>, text: string) {
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'worker'], {
      cwd: dir,
      env: { ...process.env, VITEST: undefined, VITEST_POOL_ID: undefined, NODE_OPTIONS: undefined, ...env },
    });
    let output = '';
    let stopping = false;
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (!stopping && output.includes(text)) {
        stopping = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

async function appliedVersions(url: string): Promise<number[]> {
  const connection = await mysql.createConnection({ uri: url });
  try {
    const [rows] = (await connection.query(
      'SELECT version FROM async_task_attempts_migrations ORDER BY version',
    )) as any;
    return rows.map((row: { version: number }) => Number(row.version));
  } finally {
    await connection.end();
  }
}

const SETUP_WRITTEN: Record<Tool, string[]> = {
  sql: [],
  knex: ['knexfile.js'],
  kysely: ['scripts/kysely-migrate.ts'],
  drizzle: ['drizzle.config.ts', 'src/db/schema.ts'],
};

if (mysqlUnreachable) {
  describe.skip(mysqlSkipNote('async-task init [mysql]'), () => {
    test('runs against a MySQL or MariaDB server', () => {});
  });
} else {
  describe('async-task init on MySQL/MariaDB, then the tool migrates and the sample test passes', () => {
    const databases = mysqlTestDatabases();
    const cleanups: (() => Promise<void> | void)[] = [];
    afterAll(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
      await databases.drop();
    });

    for (const tool of ['sql', 'knex', 'kysely', 'drizzle'] as const) {
      test(`${tool}`, { timeout: 120_000 }, async () => {
        const dialect = await serverDialect();
        const dir = makeProject(`${tool}-mysql`);
        cleanups.push(() => removeProject(dir));
        const url = mysqlUrl(await databases.create());
        const env = { DATABASE_URL: url };

        const init = expectOk(
          await runCli(dir, ['init', '--dialect', dialect, '--tool', tool, '--runner', 'vitest', '--json'], { env }),
          'init',
        );
        const { written } = json<{ written: string[] }>(init);
        for (const file of written) expect(fs.existsSync(path.join(dir, file))).toBe(true);
        const setupFiles = ['knexfile.js', 'scripts/kysely-migrate.ts', 'drizzle.config.ts', 'src/db/schema.ts'];
        expect(written.filter((file) => setupFiles.includes(file))).toEqual(SETUP_WRITTEN[tool]);
        expect(read(dir, 'async-task.config.ts')).toContain("dialect: 'mysql'");

        expectOk(await migrateWithTool(tool, dir, url, written), `${tool}'s migration`);
        const versions = mysqlMigrations.map((migration) => migration.version);
        expect(await appliedVersions(url)).toEqual(versions);
        const migrated = json(expectOk(await runCli(dir, ['migrate', '--json'], { env }), 'async-task migrate'));
        expect(migrated).toMatchObject({ migrated: false, toVersion: versions.at(-1) });

        const sample = expectOk(
          await runNode(dir, [bin('vitest', 'vitest.mjs'), 'run', 'test/async-task.test.ts'], { env }),
          'the generated sample test',
        );
        expect(`${sample.stdout}${sample.stderr}`).toMatch(/1 passed/);

        fs.mkdirSync(path.join(dir, 'scripts'), { recursive: true });
        fs.writeFileSync(path.join(dir, 'scripts/enqueue-bob.ts'), enqueueScript(tool, 'Bob'));
        expectOk(await runNode(dir, ['--import', 'tsx', 'scripts/enqueue-bob.ts'], { env }), 'enqueue');
        const worker = await runWorkerUntil(dir, env, 'Hello, Bob!');
        expect(worker.output).toMatch(/Hello, Bob! \(attempt \d+, run 1, database time [^)]*\d[^)]*\)/);
        expect(worker.code).toBe(0);

        const list = json(expectOk(await runCli(dir, ['attempts', 'list', '--json'], { env }), 'attempts list'));
        expect(list.attempts).toEqual([
          expect.objectContaining({ target: 'Greeter', methodName: 'greet', status: 'succeeded' }),
          expect.objectContaining({ target: 'Greeter', methodName: 'greet', status: 'succeeded' }),
        ]);
      });
    }
  });
}
