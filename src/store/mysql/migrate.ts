import { createHash } from 'node:crypto';
import type { SchemaVersion } from '../store.js';
import { BINARY_COLLATIONS, type BinaryCollation, LATEST_MYSQL_MIGRATION, mysqlMigrations } from './migrations.js';
import { control, ER_NO_SUCH_TABLE, errnoOf, type MysqlPoolLike, type MysqlQueryable, run } from './mysql-client.js';
import type { MysqlTables } from './mysql-names.js';

/** A named lock of the server (`GET_LOCK`) per purpose and table: a hash keeps it within the 64-character limit. */
export function lockName(kind: string, tables: MysqlTables): string {
  return `async_task:${createHash('sha256').update(`${kind}\u0000${tables.raw}`).digest('hex').slice(0, 40)}`;
}

/** Holds the server's named lock `name` on one connection of the pool while `fn` runs; `undefined` if it is taken. */
export async function withNamedLock<T>(
  pool: MysqlPoolLike,
  name: string,
  waitSeconds: number,
  fn: (connection: MysqlQueryable) => Promise<T>,
): Promise<T | undefined> {
  const connection = await pool.getConnection();
  let broken = false;
  try {
    const [row] = await run<{ locked: number | null }[]>(connection, 'SELECT GET_LOCK(?, ?) AS locked', [
      name,
      waitSeconds,
    ]);
    if (Number(row?.locked) !== 1) return undefined;
    try {
      return await fn(connection);
    } finally {
      await run(connection, 'SELECT RELEASE_LOCK(?) AS released', [name]).catch(() => {
        broken = true;
      });
    }
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    // A lock that could not be released goes with its connection (the server frees it at disconnect).
    if (broken && connection.destroy) connection.destroy();
    else connection.release();
  }
}

const MIGRATIONS_TABLE = (table: string) => `CREATE TABLE IF NOT EXISTS ${table} (
  version INT NOT NULL PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  applied_at DATETIME(6) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin`;

/**
 * Applies the missing migrations, one migrator at a time per table across processes (a named lock). Each
 * migration is recorded after its last statement; its statements are safe to repeat if one is cut short.
 */
export async function migrateMysql(pool: MysqlPoolLike, tables: MysqlTables): Promise<void> {
  const done = await withNamedLock(pool, lockName('migrate', tables), 300, async (db) => {
    await control(db, MIGRATIONS_TABLE(tables.migrations));
    const rows = await run<{ version: number }[]>(db, `SELECT version FROM ${tables.migrations}`);
    const applied = new Set(rows.map((row) => Number(row.version)));
    const pending = mysqlMigrations.filter((migration) => !applied.has(migration.version));
    if (pending.length > 0) {
      const collation = await binaryCollation(db);
      for (const migration of pending) {
        for (const statement of migration.statements(tables, collation)) await control(db, statement);
        await run(db, `INSERT INTO ${tables.migrations} (version, name, applied_at) VALUES (?, ?, UTC_TIMESTAMP(6))`, [
          migration.version,
          migration.name,
        ]);
      }
    }
    await keepIdsAhead(db, tables);
    return true;
  });
  if (!done) throw new Error(`async-task: could not take the migration lock of ${tables.raw} within 300 s`);
}

/** The server's NO PAD binary collation of utf8mb4; a server without one is too old for this store. */
async function binaryCollation(db: MysqlQueryable): Promise<BinaryCollation> {
  const rows = await run<{ name: string }[]>(
    db,
    `SELECT COLLATION_NAME AS name FROM information_schema.COLLATIONS WHERE COLLATION_NAME IN (?, ?)`,
    [...BINARY_COLLATIONS],
  );
  const found = BINARY_COLLATIONS.find((name) => rows.some((row) => row.name === name));
  if (!found) {
    throw new Error('async-task: MySQL 8.0.17+ or MariaDB 10.6+ is needed (no utf8mb4 NO PAD binary collation found)');
  }
  return found;
}

/**
 * Ids are never reused: the hot table's counter stays above every id in either table. MySQL 8.0 and MariaDB
 * persist the counter, but a server that recomputes it at restart (older versions) would otherwise start again
 * at the hot table's own maximum, below ids that have moved to the history.
 */
async function keepIdsAhead(db: MysqlQueryable, tables: MysqlTables): Promise<void> {
  // MySQL caches the counter shown in information_schema for a day unless told not to (MariaDB has no such cache).
  await control(db, 'SET SESSION information_schema_stats_expiry = 0').catch(() => {});
  const [row] = await run<{ top: string; next: string | null }[]>(
    db,
    `SELECT CAST(GREATEST(COALESCE((SELECT MAX(id) FROM ${tables.hot}), 0),
                          COALESCE((SELECT MAX(id) FROM ${tables.history}), 0)) AS CHAR) AS top,
            (SELECT CAST(AUTO_INCREMENT AS CHAR) FROM information_schema.TABLES
             WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?) AS next`,
    [tables.rawDatabase, tables.rawHot],
  );
  if (!row || row.next === null) return;
  const top = BigInt(row.top);
  // Only the counter read above: an integer, never input.
  if (BigInt(row.next) <= top) await control(db, `ALTER TABLE ${tables.hot} AUTO_INCREMENT = ${top + 1n}`);
}

/** How far the schema is migrated; 0 when the migrations table does not exist. Reads only. */
export async function mysqlSchemaVersion(db: MysqlQueryable, tables: MysqlTables): Promise<SchemaVersion> {
  try {
    const [row] = await run<{ applied: number | string }[]>(
      db,
      `SELECT COALESCE(MAX(version), 0) AS applied FROM ${tables.migrations}`,
    );
    return { applied: Number(row?.applied ?? 0), latest: LATEST_MYSQL_MIGRATION };
  } catch (error) {
    if (errnoOf(error) === ER_NO_SUCH_TABLE) return { applied: 0, latest: LATEST_MYSQL_MIGRATION };
    throw error;
  }
}

export function isMysqlMissingTable(error: unknown): boolean {
  return errnoOf(error) === ER_NO_SUCH_TABLE;
}
