import type { Attempt } from '../../core/types.js';
import { type AttemptRowOf, attemptFromRow } from '../attempt-row.js';

/** How a PostgreSQL row reads as an attempt, and the SQL fragments every PostgreSQL file shares. */

export type AttemptRow = AttemptRowOf<string, Date | string | number> & { due?: boolean };

/** The latest and earliest times a Date holds: PostgreSQL's `infinity` and `-infinity` read as these. */
const FAR_FUTURE = 8.64e15;

// node-postgres reads `±infinity` as ±Infinity (a number); some clients (Drizzle) switch off timestamp
// parsing and hand back PostgreSQL's text form. Never throws: an unreadable time becomes an invalid Date,
// which the perform pipeline refuses (the attempt is marked failed) and everything else can still show.
export function toDate(value: Date | string | number): Date;
export function toDate(value: Date | string | number | null): Date | null;
export function toDate(value: Date | string | number | null): Date | null {
  if (value === null || value instanceof Date) return value;
  if (typeof value === 'number') return new Date(Number.isNaN(value) ? Number.NaN : Math.sign(value) * FAR_FUTURE);
  if (typeof value !== 'string') return new Date(Number.NaN);
  if (value === 'infinity') return new Date(FAR_FUTURE);
  if (value === '-infinity') return new Date(-FAR_FUTURE);
  // `2026-01-02 03:04:05.678+00` → ISO 8601, which Date parses everywhere.
  return new Date(value.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
}

export function toAttempt(row: AttemptRow): Attempt {
  return attemptFromRow(row, toDate);
}

import { ATTEMPT_COLUMNS } from '../attempt-columns.js';

export { ATTEMPT_COLUMNS as COLUMNS } from '../attempt-columns.js';

/** The columns of an attempt, each qualified by `alias`. */
export function prefixed(alias: string): string {
  return ATTEMPT_COLUMNS.split(',')
    .map((column) => `${alias}.${column.trim()}`)
    .join(', ');
}
export const IS_DUE = '(scheduled_at IS NULL OR scheduled_at <= now()) AS due';

/**
 * The SET list that records a failed run to be retried: `last_error`, the lease released, and a new due time
 * `retryInMs` milliseconds from now. The attempt stays in the hot table (a run that fails for good moves to the
 * history instead). Parameters are placeholders.
 */
export function retryAssignments(lastError: string, retryInMs: string): string {
  return `last_error = ${lastError},
         updated_at = now(),
         lease_owner = NULL,
         lease_expires_at = NULL,
         scheduled_at = now() + ${retryInMs}::double precision * interval '1 millisecond'`;
}
