import { derivedName, quoteIdentifier, quotePostgresTable } from '../identifiers.js';
import { dedentStatement, splitStatements } from '../split-statements.js';
import { type PostgresNames, postgresMigrations } from './migrations.js';
import { postgresTables } from './pg-names.js';

export interface PostgresScriptOptions {
  /** Default: `async_task`, a schema of the library's own (`migrate` creates it). */
  schema?: string;
  /** Default: `async_task_attempts`. */
  table?: string;
  /** Only migrations after this version. Default: 0 (all). */
  afterVersion?: number;
}

/** The validated, quoted names the migrations and the store use for one schema and table. */
export function postgresNames(rawSchema: string, rawTable: string): PostgresNames & { migrationsTable: string } {
  const schema = quoteIdentifier(rawSchema, 'schema');
  const table = `${schema}.${quotePostgresTable(rawTable)}`;
  return {
    table,
    schema,
    rawTable,
    index: (suffix) => derivedName(rawTable, suffix),
    migrationsTable: `${schema}.${derivedName(rawTable, 'migrations')}`,
  };
}

/** The table where applied migration versions are recorded, so `migrate()` and a user's tool agree. */
export function postgresMigrationsTableSql(migrationsTable: string): string {
  return `CREATE TABLE IF NOT EXISTS ${migrationsTable} (
  version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`;
}

/**
 * The library's migrations as one script for another migration tool (psql, Knex, Kysely, Drizzle,
 * Prisma): the same DDL `migrate()` runs, plus the bookkeeping rows, so a later `migrate()` applies
 * only newer migrations. One statement per element, without the final semicolon, for tools that run one at a time.
 */
export function postgresMigrationScript(options: PostgresScriptOptions = {}): string[] {
  const names = postgresNames(options.schema ?? 'async_task', options.table ?? 'async_task_attempts');
  const statements = [`CREATE SCHEMA IF NOT EXISTS ${names.schema}`, postgresMigrationsTableSql(names.migrationsTable)];
  for (const migration of postgresMigrations) {
    if (migration.version <= (options.afterVersion ?? 0)) continue;
    const [first = '', ...rest] = splitStatements(migration.sql(names)).map(dedentStatement);
    statements.push(
      `-- async-task migration ${migration.version}: ${migration.name}\n${first}`,
      ...rest,
      `INSERT INTO ${names.migrationsTable} (version, name) VALUES (${migration.version}, '${migration.name.replaceAll("'", "''")}')`,
    );
  }
  return statements;
}

/**
 * Undoes `postgresMigrationScript` for a tool's "down" step: drops the attempts view, the tables behind it and the runs' errors (the
 * enqueue function and the view's trigger with them) and the bookkeeping. Before migration 6 the attempts were one
 * table of the view's name: dropped as such.
 */
export function postgresDropScript(options: Omit<PostgresScriptOptions, 'afterVersion'> = {}): string[] {
  const names = postgresNames(options.schema ?? 'async_task', options.table ?? 'async_task_attempts');
  const { hot, history, keys, errors } = postgresTables(names);
  const relation = `${names.schema}.${quotePostgresTable(names.rawTable)}`;
  return [
    `DO $drop$ BEGIN
  IF (SELECT relkind FROM pg_class WHERE oid = to_regclass('${relation}')) = 'v' THEN
    DROP VIEW ${names.table} CASCADE;
  END IF;
END $drop$`,
    `DROP TABLE IF EXISTS ${names.table}, ${hot}, ${history}, ${keys}, ${errors} CASCADE`,
    `DROP FUNCTION IF EXISTS ${names.schema}.${names.index('write')}()`,
    `DROP TABLE IF EXISTS ${names.migrationsTable}`,
  ];
}
