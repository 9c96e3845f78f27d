import { InvalidArgumentsError } from '../../core/errors.js';
import type { Attempt, AttemptStatus } from '../../core/types.js';

/**
 * How a MySQL row reads as an attempt. Times are `DATETIME(6)` in UTC, written from `UTC_TIMESTAMP(6)` or from
 * UTC text, and read as microseconds since the epoch: neither the session's `time_zone` nor the client's date
 * parsing (mysql2's `timezone`, `dateStrings`) can shift them. Ids are read as text: exact beyond 2^53 whatever
 * the client's `supportBigNumbers`.
 */
export interface AttemptRow {
  id: string;
  idempotence_token: string | null;
  status: AttemptStatus;
  target: string;
  method_name: string;
  method_args: string;
  encryptor: string;
  num_attempts: number;
  scheduled_at: string | null;
  completed_at: string | null;
  created_at: string;
  updated_at: string;
  last_error: string | null;
  lease_owner: string | null;
  lease_expires_at: string | null;
}

/** The database's clock, in UTC, to the microsecond. */
export const NOW = 'UTC_TIMESTAMP(6)';

/** A `DATETIME(6)` column as microseconds since the epoch, as text. */
export const micros = (column: string) => `CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', ${column}) AS CHAR)`;

/** The time `param` microseconds after the epoch (a cursor's key). */
export const fromMicros = (param: string) => `TIMESTAMPADD(MICROSECOND, ${param}, '1970-01-01 00:00:00')`;

/** The time `param` (whole microseconds, as text) from now: a lease's end or a retry's due time. */
export const fromNow = (param: string) => `TIMESTAMPADD(MICROSECOND, ${param}, ${NOW})`;

/** Milliseconds from now as the whole microseconds `fromNow` takes, capped at a century (DATETIME ends at 9999). */
export function microsParam(ms: number): string {
  const capped = Math.min(Math.max(0, ms), 100 * 365 * 86_400_000);
  return String(Math.round(capped * 1000));
}

/**
 * Every column of an attempt as the row type reads it, optionally qualified by `alias`. The outputs take the
 * columns' names: an `ORDER BY` of such a query must qualify its columns (`t.id`), or it sorts by the text output.
 */
export function columns(alias?: string): string {
  const c = (name: string) => (alias ? `${alias}.${name}` : name);
  return `CAST(${c('id')} AS CHAR) AS id, ${c('idempotence_token')} AS idempotence_token, ${c('status')} AS status,
    ${c('target')} AS target, ${c('method_name')} AS method_name, ${c('method_args')} AS method_args,
    ${c('encryptor')} AS encryptor, ${c('num_attempts')} AS num_attempts,
    ${micros(c('scheduled_at'))} AS scheduled_at, ${micros(c('completed_at'))} AS completed_at,
    ${micros(c('created_at'))} AS created_at, ${micros(c('updated_at'))} AS updated_at,
    ${c('last_error')} AS last_error, ${c('lease_owner')} AS lease_owner,
    ${micros(c('lease_expires_at'))} AS lease_expires_at`;
}

/** The columns of a row as stored, in the order of the tables (for moving a row between them). */
export const STORED_COLUMNS = `id, idempotence_token, status, target, method_name, method_args, encryptor, num_attempts,
  scheduled_at, completed_at, created_at, updated_at, last_error, lease_owner, lease_expires_at`;

/** Microseconds since the epoch (text) as a Date, to the millisecond below; never throws. */
export function microsToDate(value: string | number | bigint | null): Date | null {
  if (value === null) return null;
  try {
    const us = BigInt(value);
    // Floor, also before 1970: BigInt division truncates toward zero.
    const ms = us >= 0n ? us / 1000n : -((-us + 999n) / 1000n);
    return new Date(Number(ms));
  } catch {
    return new Date(Number.NaN);
  }
}

export function toAttempt(row: AttemptRow): Attempt {
  return {
    id: String(row.id),
    idempotenceToken: row.idempotence_token,
    status: row.status,
    target: row.target,
    methodName: row.method_name,
    methodArgs: row.method_args,
    encryptor: row.encryptor,
    numAttempts: Number(row.num_attempts),
    scheduledAt: microsToDate(row.scheduled_at),
    completedAt: microsToDate(row.completed_at),
    createdAt: microsToDate(row.created_at) as Date,
    updatedAt: microsToDate(row.updated_at) as Date,
    lastError: row.last_error,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: microsToDate(row.lease_expires_at),
  };
}

/**
 * A Date as `DATETIME(6)` text in UTC, the form every parameter time takes: a Date object would be converted by
 * the client in its own `timezone` setting. DATETIME holds the years 1000 to 9999.
 */
export function utcText(date: Date): string {
  const year = date.getUTCFullYear();
  if (!Number.isFinite(date.getTime()) || year < 1000 || year > 9999) {
    throw new InvalidArgumentsError('a time on MySQL must be between the years 1000 and 9999');
  }
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

/** A validated integer as SQL text (LIMIT takes no string parameter on every server). */
export function integer(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentsError(`not a count: ${value}`);
  return String(value);
}

/**
 * The SET list of a failed run to be retried (two placeholders: the error, then the delay in microseconds): the
 * lease released, due again later; the attempt stays in the hot table.
 */
export const RETRY_ASSIGNMENTS = `last_error = ?, updated_at = ${NOW}, lease_owner = NULL, lease_expires_at = NULL,
  scheduled_at = ${fromNow('?')}`;
