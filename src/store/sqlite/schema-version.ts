import type { SchemaVersion } from '../store.js';
import { sqliteMigrations } from './migrations.js';
import type { SqliteDatabaseLike } from './sqlite-client.js';

/**
 * The highest migration recorded in `migrationsTable` (quoted), 0 when the table does not exist, and the highest
 * this version of the library knows. Reads only.
 */
export function sqliteSchemaVersion(db: SqliteDatabaseLike, migrationsTable: string): SchemaVersion {
  const latest = Math.max(...sqliteMigrations.map((migration) => migration.version));
  const present = db
    .prepare("SELECT 1 AS present FROM sqlite_master WHERE type = 'table' AND name = ?")
    .get(migrationsTable.slice(1, -1));
  if (!present) return { applied: 0, latest };
  const row = db.prepare(`SELECT COALESCE(max(version), 0) AS applied FROM ${migrationsTable}`).get() as {
    applied: number | bigint;
  };
  return { applied: Number(row.applied), latest };
}

/** Whether `error` (or a cause) is SQLite's "no such table". */
export function isSqliteMissingTable(error: unknown): boolean {
  for (let current: any = error, depth = 0; current && depth < 5; current = current.cause, depth++) {
    if (typeof current.message === 'string' && current.message.startsWith('no such table:')) return true;
  }
  return false;
}
