// The migration `async-task init` hands to other tools is the library's own: applied statement by
// statement, it yields the same schema as migrate(), and migrate() afterwards has nothing left to do.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { postgres } from '../../src/drivers/postgres.js';
import { sqlite } from '../../src/drivers/sqlite.js';
import { createAsyncTask } from '../../src/index.js';
import { postgresDropScript, postgresMigrationScript } from '../../src/store/postgres/migration-script.js';
import { sqliteDropScript, sqliteMigrationScript } from '../../src/store/sqlite/migration-script.js';
import { withPgTransaction } from '../support/pg-transaction.js';

const targets = { Noop: { async run(_args: { n: number }) {} } };

describe('migration script [postgres]', () => {
  const pool = new pg.Pool({ connectionString: inject('pgAdminUrl'), max: 4 });
  const suffix = randomBytes(4).toString('hex');
  const schemas = [`mscript_lib_${suffix}`, `mscript_tool_${suffix}`];
  afterAll(async () => {
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  /** Columns, constraints and indexes of a schema, with the schema name taken out. */
  async function describeSchema(schema: string) {
    const columns = await pool.query(
      `SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity, identity_generation
       FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`,
      [schema],
    );
    const constraints = await pool.query(
      `SELECT conrelid::regclass::text AS rel, conname, pg_get_constraintdef(oid) AS def
       FROM pg_constraint WHERE connamespace = $1::regnamespace ORDER BY conname`,
      [schema],
    );
    const indexes = await pool.query(
      'SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname',
      [schema],
    );
    return JSON.parse(JSON.stringify([columns.rows, constraints.rows, indexes.rows]).replaceAll(schema, 'S'));
  }

  it('yields the schema migrate() creates, and migrate() then applies nothing', async () => {
    const [viaLibrary, viaTool] = schemas as [string, string];
    const library = createAsyncTask({ db: postgres(pool, { schema: viaLibrary }), targets });
    await library.migrate();
    // As Knex or Kysely would run it: one statement at a time, in one transaction.
    await withPgTransaction(pool, async (client) => {
      for (const statement of postgresMigrationScript({ schema: viaTool })) await client.query(statement);
    });
    expect(await describeSchema(viaTool)).toEqual(await describeSchema(viaLibrary));

    const tool = createAsyncTask({ db: postgres(pool, { schema: viaTool }), targets });
    await tool.migrate();
    const versions = await pool.query(`SELECT version FROM ${viaTool}.async_task_attempts_migrations`);
    expect(versions.rows).toEqual(
      (await pool.query(`SELECT version FROM ${viaLibrary}.async_task_attempts_migrations`)).rows,
    );
    await withPgTransaction(pool, (client) => tool.enqueue(client, 'Noop', 'run', { n: 1 }));
    expect((await tool.drain()).succeeded).toBe(1);

    for (const statement of postgresDropScript({ schema: viaTool })) await pool.query(statement);
    const left = await pool.query('SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1', [viaTool]);
    expect(left.rows[0].n).toBe(0);
  });
});

describe('migration script [sqlite]', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'async-task-mscript-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const describeFile = (db: Database.Database) =>
    (
      db
        .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
        .all() as {
        sql: string | null;
      }[]
    ).map((row) => ({ ...row, sql: row.sql?.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')') }));

  it('yields the schema migrate() creates, and migrate() then applies nothing', async () => {
    const viaLibrary = new Database(path.join(dir, 'library.db'));
    const viaTool = new Database(path.join(dir, 'tool.db'));
    const library = createAsyncTask({ db: sqlite(viaLibrary), targets });
    await library.migrate();
    // As better-sqlite3-based tools run it: one prepared statement at a time.
    viaTool.transaction(() => {
      for (const statement of sqliteMigrationScript()) viaTool.prepare(statement).run();
    })();
    expect(describeFile(viaTool)).toEqual(describeFile(viaLibrary));

    const tool = createAsyncTask({ db: sqlite(viaTool), targets });
    await tool.migrate();
    expect(viaTool.prepare('SELECT version FROM async_task_attempts_migrations').all()).toEqual(
      viaLibrary.prepare('SELECT version FROM async_task_attempts_migrations').all(),
    );
    for (const statement of sqliteDropScript()) viaTool.prepare(statement).run();
    expect(describeFile(viaTool)).toEqual([]);
    await library.close();
    await tool.close();
    viaLibrary.close();
    viaTool.close();
  });
});
