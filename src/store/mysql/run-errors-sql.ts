import { RUN_ERRORS_KEPT } from '../run-errors.js';
import { type MysqlQueryable, run } from './mysql-client.js';
import type { MysqlTables } from './mysql-names.js';
import { NOW } from './mysql-row.js';

/**
 * After a failed run was recorded on attempt `id` (in the same transaction, its row locked): its error under the
 * run's number, and the errors of runs `RUN_ERRORS_KEPT` or more before it deleted.
 */
export async function writeRunError(
  tx: MysqlQueryable,
  tables: MysqlTables,
  id: string,
  runNumber: number,
  error: string,
): Promise<void> {
  await run(
    tx,
    `INSERT INTO ${tables.errors} (attempt_id, run, error, failed_at) VALUES (?, ?, ?, ${NOW})
     ON DUPLICATE KEY UPDATE error = ?, failed_at = ${NOW}`,
    [id, runNumber, error, error],
  );
  await run(tx, `DELETE FROM ${tables.errors} WHERE attempt_id = ? AND run <= ?`, [id, runNumber - RUN_ERRORS_KEPT]);
}
