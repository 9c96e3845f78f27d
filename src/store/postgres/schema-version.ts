import type { SchemaVersion } from '../store.js';
import { postgresMigrations } from './migrations.js';
import type { PgQueryable } from './pg-client.js';

/**
 * The highest migration recorded in `migrationsTable` (quoted, schema-qualified), 0 when the table does
 * not exist, and the highest this version of the library knows. Reads only; a connection error is thrown.
 */
export async function postgresSchemaVersion(db: PgQueryable, migrationsTable: string): Promise<SchemaVersion> {
  const latest = Math.max(...postgresMigrations.map((migration) => migration.version));
  const { rows } = await db.query('SELECT to_regclass($1) IS NOT NULL AS present', [migrationsTable]);
  if (!rows[0]?.present) return { applied: 0, latest };
  const result = await db.query(`SELECT COALESCE(max(version), 0) AS applied FROM ${migrationsTable}`);
  return { applied: Number(result.rows[0]?.applied ?? 0), latest };
}

/** Whether `error` (or a cause, or Prisma's `meta`) is PostgreSQL's "relation does not exist" (42P01). */
export function isPostgresMissingTable(error: unknown): boolean {
  for (let current: any = error, depth = 0; current && depth < 5; current = current.cause, depth++) {
    if (current.code === '42P01' || current.meta?.code === '42P01') return true;
  }
  return false;
}
