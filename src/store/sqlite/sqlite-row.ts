import type { Attempt, AttemptStatus } from '../../core/types.js';

/** How a SQLite row reads as an attempt. Times are epoch milliseconds. */

export interface AttemptRow {
  id: number | bigint;
  idempotence_token: string | null;
  status: AttemptStatus;
  target: string;
  method_name: string;
  method_args: string;
  encryptor: string;
  num_attempts: number;
  scheduled_at: number | null;
  completed_at: number | null;
  created_at: number;
  updated_at: number;
  last_error: string | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
}

/** The latest and earliest times a Date holds: ±Infinity (a REAL ±9e999 written by hand) read as these. */
const FAR_FUTURE = 8.64e15;

/** Never throws: a value that is no time becomes an invalid Date, which the perform pipeline refuses. */
function toDate(ms: number | null): Date | null {
  if (ms === null) return null;
  if (ms === Number.POSITIVE_INFINITY || ms === Number.NEGATIVE_INFINITY) return new Date(Math.sign(ms) * FAR_FUTURE);
  return new Date(typeof ms === 'number' ? ms : Number.NaN);
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
    numAttempts: row.num_attempts,
    scheduledAt: toDate(row.scheduled_at),
    completedAt: toDate(row.completed_at),
    createdAt: toDate(row.created_at) as Date,
    updatedAt: toDate(row.updated_at) as Date,
    lastError: row.last_error,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: toDate(row.lease_expires_at),
  };
}

export { ATTEMPT_COLUMNS as COLUMNS } from '../attempt-columns.js';
