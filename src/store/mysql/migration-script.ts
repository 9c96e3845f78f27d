import { type BinaryCollation, mysqlMigrations } from './migrations.js';
import { mysqlTables } from './mysql-names.js';

export interface MysqlScriptOptions {
  /** Default: `async_task_attempts`. */
  table?: string;
  /** Default: the connection's database. */
  database?: string;
  /**
   * The utf8mb4 NO PAD binary collation of the server the script is for: `utf8mb4_0900_bin` on MySQL 8.0.17+,
   * `utf8mb4_nopad_bin` on MariaDB (`migrate()` finds it itself). Default: `utf8mb4_0900_bin`.
   */
  collation?: BinaryCollation;
  /** Only migrations after this version. Default: 0 (all). */
  afterVersion?: number;
}

/**
 * The library's migrations as statements for another migration tool: the same DDL `migrate()` runs, plus the
 * bookkeeping rows, so a later `migrate()` applies only newer migrations. One statement per element, without the
 * final semicolon. MySQL commits each DDL statement, so a tool cannot roll a half-run script back; every
 * statement is safe to run again.
 */
export function mysqlMigrationScript(options: MysqlScriptOptions = {}): string[] {
  const tables = mysqlTables(options.table ?? 'async_task_attempts', options.database);
  const statements = [
    `CREATE TABLE IF NOT EXISTS ${tables.migrations} (
  version INT NOT NULL PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  applied_at DATETIME(6) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin`,
  ];
  for (const migration of mysqlMigrations) {
    if (migration.version <= (options.afterVersion ?? 0)) continue;
    const [first = '', ...rest] = migration.statements(tables, options.collation ?? 'utf8mb4_0900_bin');
    statements.push(
      `-- async-task migration ${migration.version}: ${migration.name}\n${first}`,
      ...rest,
      `INSERT IGNORE INTO ${tables.migrations} (version, name, applied_at) VALUES (${migration.version}, '${migration.name.replaceAll("'", "''")}', UTC_TIMESTAMP(6))`,
    );
  }
  return statements;
}

/** Undoes `mysqlMigrationScript` for a tool's "down" step: drops the view, the tables behind it and the bookkeeping. */
export function mysqlDropScript(options: Pick<MysqlScriptOptions, 'table' | 'database'> = {}): string[] {
  const tables = mysqlTables(options.table ?? 'async_task_attempts', options.database);
  return [
    `DROP VIEW IF EXISTS ${tables.view}`,
    ...[tables.errors, tables.keys, tables.history, tables.hot, tables.migrations].map(
      (table) => `DROP TABLE IF EXISTS ${table}`,
    ),
  ];
}
