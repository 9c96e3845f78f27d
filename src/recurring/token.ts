import type { Attempt } from '../core/types.js';
import type { RecurringTick } from './types.js';

const PREFIX = 'recurring:';
/** Schedule names: they sit between colons in the token, so no colon (and nothing surprising) in them. */
export const SCHEDULE_NAME = /^[A-Za-z0-9_.-]{1,100}$/;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** `recurring:<name>:` — every tick of the schedule has a token starting so. */
export function tickTokenPrefix(name: string): string {
  return `${PREFIX}${name}:`;
}

/**
 * The idempotence token of one tick: `recurring:<name>:<tick time as ISO 8601 UTC>`. Any number of
 * workers enqueueing the same tick create one attempt. Fixed-width ISO text sorts as time does.
 */
export function tickToken(name: string, at: Date): string {
  return `${tickTokenPrefix(name)}${at.toISOString()}`;
}

/**
 * Which tick an attempt was enqueued for, read from its idempotence token; `null` for an attempt that
 * is not a tick. Use it in the target (`recurringTickOf(ctx.attempt)`) to know the period a run is
 * for: unlike `scheduledAt`, it does not move when a failed run is retried later.
 */
export function recurringTickOf(attempt: Pick<Attempt, 'idempotenceToken'>): RecurringTick | null {
  const token = attempt.idempotenceToken;
  if (token === null || !token.startsWith(PREFIX)) return null;
  const rest = token.slice(PREFIX.length);
  const colon = rest.indexOf(':');
  if (colon < 1) return null;
  const schedule = rest.slice(0, colon);
  const time = rest.slice(colon + 1);
  if (!SCHEDULE_NAME.test(schedule) || !ISO_TIME.test(time)) return null;
  const at = new Date(time);
  return Number.isNaN(at.getTime()) ? null : { schedule, at };
}
