import { RUN_ERRORS_KEPT } from '../run-errors.js';
import type { SqliteDatabaseLike, SqliteStatementLike } from './sqlite-client.js';
import type { AttemptRow } from './sqlite-row.js';

/** What writing a run's error needs of the SQLite store: its cached statements. */
export interface SqliteStatements {
  statement(db: SqliteDatabaseLike, sql: string): SqliteStatementLike;
}

/**
 * Runs `fn` in a transaction on `db`: the one it is in, or its own (`BEGIN IMMEDIATE`, committed when `fn` returns,
 * rolled back when it throws). Synchronous, so nothing else runs on the connection in between.
 */
export function inWriteTransaction<T>(store: SqliteStatements, db: SqliteDatabaseLike, fn: () => T): T {
  if (db.inTransaction) return fn();
  store.statement(db, 'BEGIN IMMEDIATE').run();
  try {
    const result = fn();
    store.statement(db, 'COMMIT').run();
    return result;
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/**
 * After a failed run was recorded on `row` (in the same transaction): its error under the run's number, and the
 * errors of runs `RUN_ERRORS_KEPT` or more before it deleted.
 */
export function writeRunError(
  store: SqliteStatements,
  db: SqliteDatabaseLike,
  errors: string,
  row: AttemptRow,
  now: number,
): void {
  store
    .statement(
      db,
      `INSERT INTO ${errors} (attempt_id, run, error, failed_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (attempt_id, run) DO UPDATE SET error = excluded.error, failed_at = excluded.failed_at`,
    )
    .run(row.id, row.num_attempts, row.last_error ?? '', now);
  store
    .statement(db, `DELETE FROM ${errors} WHERE attempt_id = ? AND run <= ?`)
    .run(row.id, Number(row.num_attempts) - RUN_ERRORS_KEPT);
}
