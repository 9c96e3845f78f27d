// ORM tools leave the library's objects alone: with what `async-task init` writes, drizzle-kit push and
// Prisma's db pull / migrate diff never see the attempts table, its sequence, indexes or enqueue function,
// because on PostgreSQL they live in a schema of their own. The public-schema cases show what that prevents.

import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { postgres } from '../../src/drivers/postgres.js';
import { createAsyncTask } from '../../src/index.js';
import { DEFAULT_PG_TABLE, DEFAULT_PG_SCHEMA as DEFAULT_SCHEMA } from '../support/pg-names.js';
import { prismaSchemaEngine } from './support/prisma-schema-engine.js';
import {
  createDatabase,
  expectOk,
  json,
  makeProject,
  type RunResult,
  read,
  removeProject,
  runCli,
  runNode,
  write,
} from './support/project.js';

const bin = (name: string, file: string) => path.join('node_modules', name, file);
const output = (result: RunResult) => `${result.stdout}${result.stderr}`;
/** The attempts table's own name; its sequence, bookkeeping table and function derive from it. */
const TABLE = DEFAULT_PG_TABLE.split('.')[1]!;

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** An empty project after `async-task init --tool <tool>` on a fresh database. */
async function initProject(tool: 'drizzle' | 'prisma', extra: string[] = []) {
  const dir = makeProject(`orm-${tool}`);
  cleanups.push(() => removeProject(dir));
  const database = await createDatabase(inject('pgAdminUrl'));
  cleanups.push(database.drop);
  const env = { DATABASE_URL: database.url };
  const init = expectOk(
    await runCli(dir, ['init', '-d', 'postgres', '--tool', tool, '--runner', 'vitest', '--json', ...extra], { env }),
    'init',
  );
  return { dir, env, url: database.url, written: json<{ written: string[] }>(init).written };
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Migrates the library into `schema` and leaves one succeeded and one pending attempt. */
async function migrateWithRows(url: string, schema?: string) {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  // pool.end() resolves before its sockets close; the database's DROP … WITH (FORCE) may then kill one.
  pool.on('error', () => {});
  const targets = { Greeter: { async greet() {} } };
  const asyncTask = createAsyncTask({ db: postgres(pool, schema ? { schema } : {}), targets });
  await asyncTask.migrate();
  const enqueue = async (name: string) => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const attempt = await asyncTask.enqueue(client, 'Greeter', 'greet', { name });
      await client.query('COMMIT');
      return attempt.id;
    } finally {
      client.release();
    }
  };
  await asyncTask.perform(await enqueue('Ada'));
  const pending = await enqueue('Bob');
  return {
    pending,
    asyncTask,
    async close() {
      await asyncTask.close();
      await pool.end();
    },
  };
}

/** Every object of the library (tables, sequence, indexes, functions) in `schema`, and the attempts' rows. */
function libraryState(url: string, schema: string) {
  return withClient(url, async (client) => {
    const relations = await client.query(
      `SELECT c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname LIKE $2 ORDER BY 1`,
      [schema, `${TABLE}%`],
    );
    const functions = await client.query(
      `SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 ORDER BY 1`,
      [schema],
    );
    const rows = await client.query(
      `SELECT id::text, status FROM ${client.escapeIdentifier(schema)}.${TABLE} ORDER BY id`,
    );
    return { relations: relations.rows, functions: functions.rows, rows: rows.rows };
  });
}

const drizzleKit = (dir: string, args: string[], env: Record<string, string>) =>
  runNode(dir, [bin('drizzle-kit', 'bin.cjs'), ...args], { env, timeoutMs: 90_000 });

const USERS_DRIZZLE = `import { integer, pgTable, text } from 'drizzle-orm/pg-core';

export const users = pgTable('users', { id: integer('id').primaryKey(), name: text('name') });
`;

describe('drizzle-kit push with the drizzle.config.ts init writes', () => {
  test("creates the app's table and never touches the library's schema, its rows, sequence or function", {
    timeout: 120_000,
  }, async () => {
    expect(DEFAULT_SCHEMA).toBe('async_task');
    const { dir, env, url, written } = await initProject('drizzle');
    expect(written).toContain('drizzle.config.ts');
    expect(read(dir, 'drizzle.config.ts')).toContain("schemaFilter: ['public']");
    write(dir, 'src/db/schema.ts', USERS_DRIZZLE);
    // The library's migration as the project runs it: through the CLI and the config init wrote.
    expectOk(await runCli(dir, ['migrate'], { env }), 'async-task migrate');
    const library = await migrateWithRows(url);
    cleanups.push(library.close);
    const before = await libraryState(url, DEFAULT_SCHEMA);
    expect(before.relations).toEqual(
      expect.arrayContaining([
        { relname: TABLE, relkind: 'v' },
        { relname: `${TABLE}_history`, relkind: 'r' },
        { relname: `${TABLE}_hot`, relkind: 'r' },
        { relname: `${TABLE}_ids`, relkind: 'S' },
        { relname: `${TABLE}_keys`, relkind: 'r' },
        { relname: `${TABLE}_errors`, relkind: 'r' },
        { relname: `${TABLE}_migrations`, relkind: 'r' },
      ]),
    );
    // The SQL enqueue function, and the trigger function that routes writes through the view.
    expect(before.functions).toEqual([{ proname: `${TABLE}_enqueue` }, { proname: `${TABLE}_write` }]);
    expect(before.rows.map((row) => row.status)).toEqual(['succeeded', 'pending']);

    const push = expectOk(await drizzleKit(dir, ['push', '--force', '--verbose'], env), 'drizzle-kit push');
    expect(output(push)).toContain('CREATE TABLE "users"');
    expect(output(push)).not.toMatch(/async_task|DROP/i);
    const again = expectOk(await drizzleKit(dir, ['push', '--force', '--verbose'], env), 'drizzle-kit push again');
    expect(output(again)).toContain('No changes detected');

    expect(await libraryState(url, DEFAULT_SCHEMA)).toEqual(before);
    const publicTables = await withClient(url, (client) =>
      client.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"),
    );
    expect(publicTables.rows).toEqual([{ tablename: 'users' }]);
    // And the library still works after the push.
    expect((await library.asyncTask.perform(library.pending)).outcome).toBe('succeeded');
  });

  test("with the library in public (--schema public), push reaches for the library's id sequence", {
    timeout: 120_000,
  }, async () => {
    const { dir, env, url } = await initProject('drizzle', ['--schema', 'public']);
    expect(read(dir, 'drizzle.config.ts')).toContain(`tablesFilter: ['!${TABLE}*']`);
    write(dir, 'src/db/schema.ts', USERS_DRIZZLE);
    const library = await migrateWithRows(url, 'public');
    cleanups.push(library.close);
    const before = await libraryState(url, 'public');
    const push = await drizzleKit(dir, ['push', '--force', '--verbose'], env);
    // tablesFilter hides the tables but not their id sequence: drizzle-kit tries to drop it (PostgreSQL refuses).
    expect(output(push)).toContain(`${TABLE}_ids`);
    expect(await libraryState(url, 'public')).toEqual(before);
  });
});

/** schema.prisma as init wrote it, plus the app's own model. */
const withUsersModel = (schema: string) => `${schema}
model users {
  id   Int     @id
  name String?
}
`;
const CREATE_USERS = 'CREATE TABLE public.users (id integer PRIMARY KEY, name text)';

describe('Prisma with the schema.prisma and prisma.config.ts init writes', () => {
  test("db pull and migrate diff see the app's table only; the config needs no external tables", {
    timeout: 60_000,
  }, async () => {
    const { dir, url, written } = await initProject('prisma');
    expect(written).toEqual(expect.arrayContaining(['prisma/schema.prisma', 'prisma.config.ts']));
    const { loadConfigFromFile } = await import('@prisma/config');
    const loaded = await loadConfigFromFile({ configRoot: dir });
    expect(loaded.error).toBeUndefined();
    expect(loaded.config?.tables?.external).toBeUndefined();
    const library = await migrateWithRows(url);
    cleanups.push(library.close);
    await withClient(url, (client) => client.query(CREATE_USERS));
    const before = await libraryState(url, DEFAULT_SCHEMA);

    const schema = withUsersModel(read(dir, 'prisma/schema.prisma'));
    const engine = await prismaSchemaEngine(url, schema);
    cleanups.push(engine.close);
    const pulled = await engine.pull();
    expect(pulled).toMatch(/model users \{/);
    expect(pulled).not.toMatch(/async_task/);
    // Prisma's drift check: the database already matches the model, and nothing would be dropped.
    expect(await engine.diffToModel()).toEqual({ exitCode: 0, script: expect.not.stringMatching(/DROP|async_task/) });
    expect(await libraryState(url, DEFAULT_SCHEMA)).toEqual(before);
  });

  test('with the library in public (--schema public), db pull models its tables; init declares them external', {
    timeout: 60_000,
  }, async () => {
    const { dir, url } = await initProject('prisma', ['--schema', 'public']);
    const { loadConfigFromFile } = await import('@prisma/config');
    const external = (await loadConfigFromFile({ configRoot: dir })).config?.tables?.external;
    expect(external).toEqual([
      `public.${TABLE}`,
      `public.${TABLE}_hot`,
      `public.${TABLE}_history`,
      `public.${TABLE}_keys`,
      `public.${TABLE}_errors`,
      `public.${TABLE}_migrations`,
    ]);
    const library = await migrateWithRows(url, 'public');
    cleanups.push(library.close);
    await withClient(url, (client) => client.query(CREATE_USERS));
    const engine = await prismaSchemaEngine(url, withUsersModel(read(dir, 'prisma/schema.prisma')));
    cleanups.push(engine.close);
    expect(await engine.pull()).toMatch(new RegExp(`model ${TABLE}_hot \\{`));
    // Without the external declaration Prisma would drop the library's tables; with it, it leaves them.
    expect((await engine.diffToModel()).script).toContain(`DROP TABLE "${TABLE}_hot"`);
    expect((await engine.diffToModel(external)).script).not.toContain(TABLE);
  });

  test('the prisma CLI itself: migrate diff against the database is empty', { timeout: 120_000 }, async (context) => {
    const { dir, env, url } = await initProject('prisma');
    const library = await migrateWithRows(url);
    cleanups.push(library.close);
    await withClient(url, (client) => client.query(CREATE_USERS));
    write(dir, 'prisma/schema.prisma', withUsersModel(read(dir, 'prisma/schema.prisma')));
    const diff = await runNode(
      dir,
      [
        bin('prisma', 'build/index.js'),
        'migrate',
        'diff',
        '--from-config-datasource',
        '--to-schema',
        'prisma/schema.prisma',
        '--script',
        '--exit-code',
      ],
      { env, timeoutMs: 90_000 },
    );
    if (diff.code !== 0 && /binaries\.prisma\.sh|schema-engine/.test(output(diff))) {
      context.skip(
        "prisma's CLI could not get its native schema engine (downloaded from binaries.prisma.sh at first use); " +
          'the tests above run the same engine built to WebAssembly',
      );
    }
    expectOk(diff, 'prisma migrate diff');
    expect(output(diff)).not.toMatch(/async_task|DROP/);
  });
});
