// For every migration tool: `async-task init` in an empty project, then that tool's own migration run
// against a real database, then the generated sample test passes in the user's test runner.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { dataLayer } from '../../src/cli/init/data-layer.js';
import { postgresMigrations } from '../../src/store/postgres/migrations.js';
import { sqliteMigrations } from '../../src/store/sqlite/migrations.js';
import {
  CLI,
  createDatabase,
  expectOk,
  json,
  makeProject,
  type RunResult,
  read,
  removeProject,
  runCli,
  runNode,
  runProgram,
  write,
} from './support/project.js';

type Dialect = 'postgres' | 'sqlite';

interface ToolCase {
  readonly tool: 'sql' | 'knex' | 'kysely' | 'drizzle' | 'prisma';
  readonly dialect: Dialect;
  readonly runner: 'vitest' | 'node';
  /** The user's own setup of the tool, before `init`. */
  prepare?(dir: string, env: Record<string, string>): Promise<void> | void;
  /** Without `prepare`: the tool's setup files `init` writes for an empty project. */
  readonly setupWritten?: readonly string[];
  /** The tool's own migration run. */
  migrate(dir: string, env: Record<string, string>, written: string[]): Promise<RunResult>;
}

const SQLITE_FILE = 'app.db';
const bin = (name: string, file: string) => path.join('node_modules', name, file);

const kyselyMigrator = (dialect: Dialect) => `import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FileMigrationProvider, Kysely, Migrator, ${dialect === 'postgres' ? 'PostgresDialect' : 'SqliteDialect'} } from 'kysely';
${dialect === 'postgres' ? "import pg from 'pg';" : "import Database from 'better-sqlite3';"}

const db = new Kysely<any>({
  dialect: ${
    dialect === 'postgres'
      ? 'new PostgresDialect({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) })'
      : `new SqliteDialect({ database: new Database('${SQLITE_FILE}') })`
  },
});
const migrator = new Migrator({
  db,
  provider: new FileMigrationProvider({ fs, path, migrationFolder: path.resolve('migrations') }),
});
const { error, results } = await migrator.migrateToLatest();
console.log(JSON.stringify(results));
await db.destroy();
if (error) throw error;
`;

const drizzleConfig = (dialect: Dialect) => `import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: '${dialect === 'postgres' ? 'postgresql' : 'sqlite'}',
  schema: './src/db/schema.ts',
  out: './drizzle',
  dbCredentials: { url: ${dialect === 'postgres' ? 'process.env.DATABASE_URL!' : `'${SQLITE_FILE}'`} },
});
`;

const drizzleSchema = (dialect: Dialect) =>
  dialect === 'postgres'
    ? `import { integer, pgTable, text } from 'drizzle-orm/pg-core';\n\nexport const users = pgTable('users', { id: integer('id').primaryKey(), name: text('name') });\n`
    : `import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';\n\nexport const users = sqliteTable('users', { id: integer('id').primaryKey(), name: text('name') });\n`;

const drizzleKit = (dir: string, args: string[], env: Record<string, string>) =>
  runNode(dir, [bin('drizzle-kit', 'bin.cjs'), ...args], { env });

/** Runs a .sql file the way the raw-SQL user would: psql, or the sqlite3 shell (better-sqlite3 when it is absent). */
async function runSqlFile(dir: string, dialect: Dialect, file: string, env: Record<string, string>) {
  if (dialect === 'postgres') {
    return runProgram(dir, 'psql', [env.DATABASE_URL!, '-1', '-v', 'ON_ERROR_STOP=1', '-q', '-f', file], { env });
  }
  if (fs.existsSync('/usr/bin/sqlite3')) {
    return runProgram(dir, 'sqlite3', ['-bail', SQLITE_FILE], { input: read(dir, file) });
  }
  const db = new Database(path.join(dir, SQLITE_FILE));
  db.exec(read(dir, file));
  db.close();
  return { code: 0, stdout: '', stderr: '' };
}

const CASES: ToolCase[] = [
  {
    tool: 'sql',
    dialect: 'postgres',
    runner: 'vitest',
    migrate: (dir, env, written) => runSqlFile(dir, 'postgres', written[0]!, env),
  },
  {
    tool: 'sql',
    dialect: 'sqlite',
    runner: 'node',
    migrate: (dir, env, written) => runSqlFile(dir, 'sqlite', written[0]!, env),
  },
  {
    tool: 'knex',
    dialect: 'postgres',
    runner: 'node',
    // An empty project: init writes the knexfile too.
    setupWritten: ['knexfile.js'],
    migrate: (dir, env) => runNode(dir, [bin('knex', 'bin/cli.js'), 'migrate:latest'], { env }),
  },
  {
    tool: 'knex',
    dialect: 'sqlite',
    runner: 'vitest',
    // A TypeScript knexfile: the migration is written in TypeScript too, and knex runs under tsx.
    prepare: (dir) =>
      write(
        dir,
        'knexfile.ts',
        `export default { client: 'better-sqlite3', connection: { filename: '${SQLITE_FILE}' }, useNullAsDefault: true, migrations: { directory: './migrations', extension: 'ts' } };\n`,
      ),
    migrate: (dir, env) => runNode(dir, ['--import', 'tsx', bin('knex', 'bin/cli.js'), 'migrate:latest'], { env }),
  },
  {
    tool: 'kysely',
    dialect: 'postgres',
    runner: 'vitest',
    // An empty project: init writes a Migrator script too.
    setupWritten: ['scripts/kysely-migrate.ts'],
    migrate: (dir, env) => runNode(dir, ['--import', 'tsx', 'scripts/kysely-migrate.ts'], { env }),
  },
  {
    tool: 'kysely',
    dialect: 'sqlite',
    runner: 'node',
    // The project's own Migrator script; Kysely has no config file to find it by, so init still adds its own.
    prepare: (dir) => write(dir, 'scripts/migrate.ts', kyselyMigrator('sqlite')),
    setupWritten: ['scripts/kysely-migrate.ts'],
    migrate: (dir, env) => runNode(dir, ['--import', 'tsx', 'scripts/migrate.ts'], { env }),
  },
  {
    tool: 'drizzle',
    dialect: 'postgres',
    runner: 'vitest',
    // A project that already has a Drizzle migration: ours is appended to its journal.
    async prepare(dir, env) {
      write(dir, 'drizzle.config.ts', drizzleConfig('postgres'));
      write(dir, 'src/db/schema.ts', drizzleSchema('postgres'));
      expectOk(await drizzleKit(dir, ['generate', '--name', 'users'], env), 'drizzle-kit generate');
    },
    migrate: (dir, env) => drizzleKit(dir, ['migrate'], env),
  },
  {
    tool: 'drizzle',
    dialect: 'sqlite',
    runner: 'node',
    // An empty project: init writes drizzle.config.ts and an empty schema file too.
    setupWritten: ['drizzle.config.ts', 'src/db/schema.ts'],
    migrate: (dir, env) => drizzleKit(dir, ['migrate'], env),
  },
  {
    tool: 'prisma',
    dialect: 'postgres',
    runner: 'vitest',
    // `prisma migrate deploy` needs Prisma's schema engine, a binary its package downloads from
    // Prisma's servers at install time; this machine reaches only the npm registry. So the file
    // Prisma would run is run with psql here, in one transaction, as Prisma does. `prisma generate`
    // needs no engine binary (the stand-in below is never run).
    async migrate(dir, env, written) {
      expectOk(
        await runNode(dir, [bin('prisma', 'build/index.js'), 'generate'], {
          env: { ...env, PRISMA_SCHEMA_ENGINE_BINARY: '/bin/true' },
        }),
        'prisma generate',
      );
      return runSqlFile(dir, 'postgres', written[0]!, env);
    },
  },
];

/** A script of the project that enqueues Greeter.greet({ name }) inside the tool's own transaction. */
function enqueueScript(toolCase: ToolCase, name: string): string {
  const layer = dataLayer({
    cwd: '',
    dialect: toolCase.dialect,
    tool: toolCase.tool,
    runner: toolCase.runner,
    url: '',
    table: undefined,
    schema: undefined,
    migrationsDir: '',
    now: new Date(),
  });
  const open =
    toolCase.dialect === 'postgres' ? 'connect(process.env.DATABASE_URL!)' : `connect(path.resolve('${SQLITE_FILE}'))`;
  return `import path from 'node:path';
import { createAsyncTask } from 'async-task-ts';
import config from '../async-task.config.js';
import { connect } from '../src/db/client.js';

void path;
const { db, driver, close } = ${open};
const asyncTask = createAsyncTask({ db: driver, targets: config.targets });
${layer.enqueue.replaceAll("'Ada'", JSON.stringify(name).replaceAll('"', "'"))}
console.log(id);
await asyncTask.close();
await close();
`;
}

/** Runs `async-task worker` until its output shows `text`, then stops it with SIGTERM; returns its output. */
function runWorkerUntil(
  dir: string,
  env: Record<string, string>,
  text: string,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'worker'], {
      cwd: dir,
      env: {
        ...process.env,
        VITEST: undefined,
        VITEST_POOL_ID: undefined,
        NODE_OPTIONS: undefined,
        DATABASE_URL: undefined,
        ...env,
      },
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

async function appliedVersions(dialect: Dialect, dir: string, url: string | undefined): Promise<number[]> {
  if (dialect === 'postgres') {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT version FROM async_task_attempts_migrations ORDER BY version');
      return rows.map((row) => row.version);
    } finally {
      await client.end();
    }
  }
  const db = new Database(path.join(dir, SQLITE_FILE), { readonly: true });
  try {
    return (db.prepare('SELECT version FROM async_task_attempts_migrations ORDER BY version').all() as any[]).map(
      (row) => row.version,
    );
  } finally {
    db.close();
  }
}

describe('async-task init, then the tool migrates and the sample test passes', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  for (const toolCase of CASES) {
    test(`${toolCase.tool} on ${toolCase.dialect}, tested with ${toolCase.runner}`, { timeout: 90_000 }, async () => {
      const dir = makeProject(`${toolCase.tool}-${toolCase.dialect}`);
      cleanups.push(() => removeProject(dir));
      const env: Record<string, string> = {};
      if (toolCase.dialect === 'postgres') {
        const database = await createDatabase(inject('pgAdminUrl'));
        cleanups.push(database.drop);
        env.DATABASE_URL = database.url;
      }
      await toolCase.prepare?.(dir, env);

      const init = expectOk(
        await runCli(
          dir,
          ['init', '--dialect', toolCase.dialect, '--tool', toolCase.tool, '--runner', toolCase.runner, '--json'],
          { env },
        ),
        'init',
      );
      const { written, nextSteps } = json<{ written: string[]; nextSteps: string[] }>(init);
      expect(written).toEqual(
        expect.arrayContaining(['async-task.config.ts', 'src/targets/greeter.ts', 'test/async-task.test.ts']),
      );
      expect(nextSteps.length).toBeGreaterThan(2);
      for (const file of written) expect(fs.existsSync(path.join(dir, file))).toBe(true);
      // The tool's own setup is written only when the project has none.
      const setupFiles = ['knexfile.js', 'scripts/kysely-migrate.ts', 'drizzle.config.ts', 'src/db/schema.ts'];
      expect(written.filter((file) => setupFiles.includes(file))).toEqual(toolCase.setupWritten ?? []);
      if (toolCase.tool === 'prisma') {
        expect(written[0]).toMatch(/^prisma\/migrations\/\d{14}_async_task\/migration\.sql$/);
        expect(written).toEqual(
          expect.arrayContaining(['prisma/migrations/migration_lock.toml', 'prisma.config.ts', 'prisma/schema.prisma']),
        );
        // Prisma's own config loader accepts the prisma.config.ts init wrote, external tables included.
        const { loadConfigFromFile } = await import('@prisma/config');
        const loaded = await loadConfigFromFile({ configRoot: dir });
        expect(loaded.error).toBeUndefined();
        expect(loaded.config?.tables?.external).toEqual([
          'public.async_task_attempts',
          'public.async_task_attempts_hot',
          'public.async_task_attempts_history',
          'public.async_task_attempts_keys',
          'public.async_task_attempts_migrations',
        ]);
        expect(loaded.config?.migrations?.path).toBe(path.join(dir, 'prisma/migrations'));
      }

      expectOk(await toolCase.migrate(dir, env, written), `${toolCase.tool}'s migration`);
      // The tool recorded our migration in the library's bookkeeping: migrate() has nothing left to do.
      const versions = (toolCase.dialect === 'postgres' ? postgresMigrations : sqliteMigrations).map((m) => m.version);
      expect(await appliedVersions(toolCase.dialect, dir, env.DATABASE_URL)).toEqual(versions);
      expectOk(await runCli(dir, ['migrate'], { env }), 'async-task migrate after the tool');
      expect(await appliedVersions(toolCase.dialect, dir, env.DATABASE_URL)).toEqual(versions);

      const sampleTest =
        toolCase.runner === 'vitest'
          ? runNode(dir, [bin('vitest', 'vitest.mjs'), 'run', 'test/async-task.test.ts'], { env })
          : runNode(dir, ['--import', 'tsx', '--test', 'test/async-task.test.ts'], { env });
      const result = expectOk(await sampleTest, 'the generated sample test');
      expect(`${result.stdout}${result.stderr}`).toMatch(toolCase.runner === 'vitest' ? /1 passed/ : /# pass 1/);

      // The CLI worker performs an attempt enqueued in the tool's own transaction, and the target gets the
      // tool's transaction as ctx.tx (it reads the database time through it).
      write(dir, 'scripts/enqueue-bob.ts', enqueueScript(toolCase, 'Bob'));
      expectOk(
        await runNode(dir, ['--import', 'tsx', 'scripts/enqueue-bob.ts'], { env }),
        'enqueue in the tool transaction',
      );
      const worker = await runWorkerUntil(dir, env, 'Hello, Bob!');
      expect(worker.output).toMatch(/Hello, Bob! \(attempt \d+, run 1, database time [^)]*\d[^)]*\)/);
      expect(worker.output).toContain('Worker stopped.');
      expect(worker.code).toBe(0);

      // Both attempts, seen through the CLI.
      const list = json(expectOk(await runCli(dir, ['attempts', 'list', '--json'], { env }), 'attempts list'));
      expect(list.attempts).toEqual([
        expect.objectContaining({ target: 'Greeter', methodName: 'greet', status: 'succeeded' }),
        expect.objectContaining({ target: 'Greeter', methodName: 'greet', status: 'succeeded' }),
      ]);
    });
  }

  test('drizzle-kit accepts the journal and snapshot init wrote, and generates the next migration after it', async () => {
    const dir = makeProject('drizzle-next');
    cleanups.push(() => removeProject(dir));
    write(dir, 'drizzle.config.ts', drizzleConfig('sqlite'));
    write(dir, 'src/db/schema.ts', drizzleSchema('sqlite'));
    expectOk(await runCli(dir, ['init', '-d', 'sqlite', '--tool', 'drizzle', '--runner', 'node']), 'init');
    expectOk(await drizzleKit(dir, ['check'], {}), 'drizzle-kit check');
    expectOk(await drizzleKit(dir, ['generate', '--name', 'users'], {}), 'drizzle-kit generate');
    const journal = JSON.parse(read(dir, 'drizzle/meta/_journal.json'));
    expect(journal.entries.map((entry: { tag: string }) => entry.tag)).toEqual(['0000_async_task', '0001_users']);
    expect(read(dir, 'drizzle/0001_users.sql')).toContain('CREATE TABLE `users`');
    expectOk(await drizzleKit(dir, ['migrate'], {}), 'drizzle-kit migrate');
  });
});
