import type { Attempt } from '../../core/types.js';
import { type AttemptRowOf, attemptFromRow } from '../attempt-row.js';

/** How a SQLite row reads as an attempt. Times are epoch milliseconds. */

export type AttemptRow = AttemptRowOf<number | bigint, number>;

/** The latest and earliest times a Date holds: ±Infinity (a REAL ±9e999 written by hand) read as these. */
const FAR_FUTURE = 8.64e15;

/** Never throws: a value that is no time becomes an invalid Date, which the perform pipeline refuses. */
function toDate(ms: number): Date {
  if (ms === Number.POSITIVE_INFINITY || ms === Number.NEGATIVE_INFINITY) return new Date(Math.sign(ms) * FAR_FUTURE);
  return new Date(typeof ms === 'number' ? ms : Number.NaN);
}

export function toAttempt(row: AttemptRow): Attempt {
  return attemptFromRow(row, toDate);
}

export { ATTEMPT_COLUMNS as COLUMNS } from '../attempt-columns.js';
