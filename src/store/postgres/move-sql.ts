import type { PostgresTables } from './pg-names.js';
import { COLUMNS } from './pg-row.js';

/**
 * An attempt's outcome moves it out of the hot table into the history, in one statement: `deleteFromHot` is a
 * `DELETE FROM hot AS t … RETURNING t.*` (its WHERE guards the move), and each deleted row enters the history
 * with `status` (an SQL expression) and `lastError` (an SQL expression over the deleted row's columns).
 */
export function moveToHistory(
  tables: PostgresTables,
  deleteFromHot: string,
  status: string,
  lastError = 'last_error',
  returning = COLUMNS,
): string {
  return `WITH moved AS (${deleteFromHot})
    ${insertMovedIntoHistory(tables, status, lastError, returning)}`;
}

/** The second half of `moveToHistory`: the rows of a CTE named `moved` into the history. */
export function insertMovedIntoHistory(
  tables: PostgresTables,
  status: string,
  lastError = 'last_error',
  returning = COLUMNS,
): string {
  return `INSERT INTO ${tables.history} (${COLUMNS})
    SELECT id, idempotence_token, ${status}, target, method_name, method_args, encryptor, num_attempts,
      scheduled_at, now(), created_at, now(), ${lastError}, NULL, NULL
    FROM moved
    RETURNING ${returning}`;
}

/** A completed attempt (`$1`) back into the hot table with its id, pending and due now (an operator's retry). */
export function moveToHot(tables: PostgresTables): string {
  return `WITH moved AS (DELETE FROM ${tables.history} WHERE id = $1 RETURNING *)
    INSERT INTO ${tables.hot} (${COLUMNS})
    SELECT id, idempotence_token, 'pending', target, method_name, method_args, encryptor, num_attempts,
      now(), NULL, created_at, now(), last_error, NULL, NULL
    FROM moved
    RETURNING ${COLUMNS}`;
}
