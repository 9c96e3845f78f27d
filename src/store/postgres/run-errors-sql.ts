import { RUN_ERRORS_KEPT } from '../run-errors.js';
import { insertMovedIntoHistory } from './move-sql.js';
import type { PostgresTables } from './pg-names.js';
import { COLUMNS } from './pg-row.js';

/**
 * A failed run's write and its error, in one statement: `failed` is the data-modifying CTE `f` that records the
 * failure and returns the attempt's columns (no row when its guard refuses, and then no error is written). The
 * error enters the errors table under the run's number (`num_attempts`), and the errors of runs `RUN_ERRORS_KEPT`
 * or more before it go. `before` are CTEs `failed` reads (`moved`, for a move to the history).
 */
function withRunError(tables: PostgresTables, failed: string, before = ''): string {
  return `WITH ${before}f AS (${failed}),
    kept AS (
      INSERT INTO ${tables.errors} (attempt_id, run, error)
      SELECT id, num_attempts, last_error FROM f
      ON CONFLICT (attempt_id, run) DO UPDATE SET error = EXCLUDED.error, failed_at = EXCLUDED.failed_at
    ),
    dropped AS (
      DELETE FROM ${tables.errors} AS e USING f WHERE e.attempt_id = f.id AND e.run <= f.num_attempts - ${RUN_ERRORS_KEPT}
    )
    SELECT * FROM f`;
}

/** A failed run that ends the attempt: `deleteFromHot` (a guarded `DELETE … RETURNING *`) moves it to the history as failed. */
export function failIntoHistory(tables: PostgresTables, deleteFromHot: string, lastError: string): string {
  return withRunError(tables, insertMovedIntoHistory(tables, `'failed'`, lastError), `moved AS (${deleteFromHot}), `);
}

/** A failed run to be retried: `update` is an `UPDATE` of the hot table without RETURNING. */
export function retryInHot(tables: PostgresTables, update: string): string {
  return withRunError(tables, `${update} RETURNING ${COLUMNS}`);
}
