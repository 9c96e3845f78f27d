import { derivedName, quoteIdentifier } from '../identifiers.js';
import { dedentStatement, splitStatements } from '../split-statements.js';
import { type SqliteNames, sqliteMigrations } from './migrations.js';

export interface SqliteScriptOptions {
  /** Default: `async_task_attempts`. */
  table?: string;
  /** Only migrations after this version. Default: 0 (all). */
  afterVersion?: number;
}

/** The validated, quoted names the migrations and the store use for one table. */
export function sqliteNames(rawTable: string): SqliteNames & { migrationsTable: string } {
  return {
    table: quoteIdentifier(rawTable, 'table'),
    index: (suffix) => derivedName(rawTable, suffix),
    migrationsTable: derivedName(rawTable, 'migrations'),
  };
}

/** The table where applied migration versions are recorded, so `migrate()` and a user's tool agree. */
export function sqliteMigrationsTableSql(migrationsTable: string): string {
  return `CREATE TABLE IF NOT EXISTS ${migrationsTable} (
  version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`;
}

/**
 * The library's migrations as statements for another migration tool: the same DDL `migrate()` runs,
 * plus the bookkeeping rows, so a later `migrate()` applies only newer migrations. One statement per
 * element, without the final semicolon. Put the database in WAL mode yourself (`migrate()` does).
 */
export function sqliteMigrationScript(options: SqliteScriptOptions = {}): string[] {
  const names = sqliteNames(options.table ?? 'async_task_attempts');
  const statements = [sqliteMigrationsTableSql(names.migrationsTable)];
  for (const migration of sqliteMigrations) {
    if (migration.version <= (options.afterVersion ?? 0)) continue;
    const [first = '', ...rest] = splitStatements(migration.sql(names)).map(dedentStatement);
    statements.push(
      `-- async-task migration ${migration.version}: ${migration.name}\n${first}`,
      ...rest,
      `INSERT INTO ${names.migrationsTable} (version, name, applied_at) VALUES (${migration.version}, '${migration.name.replaceAll("'", "''")}', CAST(strftime('%s', 'now') AS INTEGER) * 1000)`,
    );
  }
  return statements;
}

/** Undoes `sqliteMigrationScript` for a tool's "down" step: drops the attempts table, its runs' errors and its bookkeeping. */
export function sqliteDropScript(options: Omit<SqliteScriptOptions, 'afterVersion'> = {}): string[] {
  const names = sqliteNames(options.table ?? 'async_task_attempts');
  return [
    `DROP TABLE IF EXISTS ${names.index('errors')}`,
    `DROP TABLE IF EXISTS ${names.table}`,
    `DROP TABLE IF EXISTS ${names.migrationsTable}`,
  ];
}
