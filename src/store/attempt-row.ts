import type { Attempt, AttemptStatus } from '../core/types.js';

/** An attempt row as a dialect's client reads it: ids and times in the dialect's own types. */
export interface AttemptRowOf<Id, Time> {
  id: Id;
  idempotence_token: string | null;
  status: AttemptStatus;
  target: string;
  method_name: string;
  method_args: string;
  encryptor: string;
  num_attempts: number;
  scheduled_at: Time | null;
  completed_at: Time | null;
  created_at: Time;
  updated_at: Time;
  last_error: string | null;
  lease_owner: string | null;
  lease_expires_at: Time | null;
}

/** The attempt a row holds; `toDate` reads one of the dialect's times and never throws (an invalid Date instead). */
export function attemptFromRow<Id, Time>(row: AttemptRowOf<Id, Time>, toDate: (time: Time) => Date): Attempt {
  const orNull = (time: Time | null) => (time === null ? null : toDate(time));
  return {
    id: String(row.id),
    idempotenceToken: row.idempotence_token,
    status: row.status,
    target: row.target,
    methodName: row.method_name,
    methodArgs: row.method_args,
    encryptor: row.encryptor,
    numAttempts: row.num_attempts,
    scheduledAt: orNull(row.scheduled_at),
    completedAt: orNull(row.completed_at),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
    lastError: row.last_error,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: orNull(row.lease_expires_at),
  };
}
