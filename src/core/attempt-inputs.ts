import { AttemptNotFoundError, InvalidArgumentsError } from './errors.js';
import type { EnqueueOptions } from './types.js';

/** The checks of what a caller passes to enqueue and to the id-taking operations: typed errors, never a database error. */

const ID_PATTERN = /^[1-9][0-9]{0,18}$/;
const MAX_ID = 2n ** 63n - 1n;
/** What both databases store faithfully (PostgreSQL's timestamptz reaches further back, SQLite sorts ISO text). */
const MIN_SCHEDULED_AT = Date.UTC(1, 0, 1) - 1;
const MAX_SCHEDULED_AT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** An id both databases can hold (a positive 64-bit integer), as text; `null` for anything else. */
export function attemptIdOrNull(id: unknown): string | null {
  if (typeof id !== 'string' && typeof id !== 'number' && typeof id !== 'bigint') return null;
  const text = String(id);
  return ID_PATTERN.test(text) && BigInt(text) <= MAX_ID ? text : null;
}

/** `id` as text, or `AttemptNotFoundError`: an id no database row can have names no attempt. */
export function normalizeId(id: string | number | bigint): string {
  const text = attemptIdOrNull(id);
  if (text === null) throw new AttemptNotFoundError(String(id).slice(0, 100));
  return text;
}

/** The idempotence token and due time of `options`, checked; `InvalidArgumentsError` for anything else. */
export function checkEnqueueOptions(options: EnqueueOptions | undefined): {
  token: string | null;
  scheduledAt: Date | null;
} {
  if (options === undefined) return { token: null, scheduledAt: null };
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentsError('enqueue options must be an object');
  const { idempotenceToken, scheduledAt } = options;
  if (idempotenceToken !== undefined && (typeof idempotenceToken !== 'string' || idempotenceToken.length === 0)) {
    throw new InvalidArgumentsError('idempotenceToken must be a non-empty string');
  }
  if (idempotenceToken?.includes('\u0000')) {
    throw new InvalidArgumentsError('idempotenceToken must not contain a NUL character');
  }
  if (scheduledAt !== undefined && !(scheduledAt instanceof Date && !Number.isNaN(scheduledAt.getTime()))) {
    throw new InvalidArgumentsError('scheduledAt must be a valid Date');
  }
  if (
    scheduledAt !== undefined &&
    !(scheduledAt.getTime() > MIN_SCHEDULED_AT && scheduledAt.getTime() <= MAX_SCHEDULED_AT)
  ) {
    throw new InvalidArgumentsError('scheduledAt must be between the years 1 and 9999');
  }
  return { token: idempotenceToken ?? null, scheduledAt: scheduledAt ?? null };
}
