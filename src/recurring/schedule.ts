import { Cron } from 'croner';
import { encodeArgs } from '../core/codec.js';
import { InvalidOptionsError } from '../core/errors.js';
import { resolveMethod, type TargetRegistry } from '../core/registry.js';
import { SCHEDULE_NAME } from './token.js';

/** The most missed ticks one schedule may catch up after downtime. */
export const MAX_CATCH_UP = 1000;

/** A declared schedule, checked, with its cron expression parsed. */
export interface CompiledSchedule {
  readonly name: string;
  readonly cron: string;
  readonly timezone: string;
  readonly target: string;
  readonly method: string;
  readonly args: unknown;
  readonly catchUp: number;
  /** The first tick strictly after `after`; `null` when the expression has no more. */
  nextTick(after: Date): Date | null;
  /** Up to `count` ticks at or before `upTo`, newest first. */
  ticksUpTo(upTo: Date, count: number): Date[];
}

function checkTimezone(name: string, timezone: unknown): string {
  if (typeof timezone !== 'string' || timezone.length === 0) {
    throw new InvalidOptionsError(`recurring.${name}: timezone must be an IANA time zone name such as Europe/Berlin`);
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new InvalidOptionsError(`recurring.${name}: unknown time zone ${JSON.stringify(timezone)}`);
  }
  return timezone;
}

/** Checks one declaration (name, cron, time zone, target and method, catch-up) and parses its expression. */
export function compileSchedule(targets: TargetRegistry, name: string, declared: unknown): CompiledSchedule {
  if (!SCHEDULE_NAME.test(name)) {
    throw new InvalidOptionsError(
      `recurring: schedule name ${JSON.stringify(name)} must be 1-100 letters, digits, _, - or .`,
    );
  }
  if (!declared || typeof declared !== 'object') throw new InvalidOptionsError(`recurring.${name} must be an object`);
  const { cron, timezone = 'UTC', target, method, args, catchUp = 1 } = declared as Record<string, unknown>;
  if (typeof cron !== 'string') throw new InvalidOptionsError(`recurring.${name}: cron must be a string`);
  const zone = checkTimezone(name, timezone);
  let expression: Cron;
  try {
    // Five fields, or six with seconds first; no year field.
    expression = new Cron(cron, { timezone: zone, mode: '5-or-6-parts', paused: true });
  } catch (error) {
    throw new InvalidOptionsError(
      `recurring.${name}: invalid cron expression ${JSON.stringify(cron)} (${(error as Error).message})`,
    );
  }
  try {
    resolveMethod(targets, target as string, method as string);
  } catch (error) {
    throw new InvalidOptionsError(`recurring.${name}: ${(error as Error).message}`);
  }
  try {
    // Fails now rather than at every tick: the arguments must survive encoding like any attempt's.
    encodeArgs(args);
  } catch (error) {
    throw new InvalidOptionsError(`recurring.${name}: args ${(error as Error).message}`);
  }
  if (typeof catchUp !== 'number' || !Number.isInteger(catchUp) || catchUp < 0 || catchUp > MAX_CATCH_UP) {
    throw new InvalidOptionsError(`recurring.${name}: catchUp must be an integer from 0 to ${MAX_CATCH_UP}`);
  }
  return Object.freeze({
    name,
    cron,
    timezone: zone,
    target: target as string,
    method: method as string,
    args,
    catchUp,
    nextTick: (after: Date) => expression.nextRun(after),
    // croner's previousRuns excludes its reference: one millisecond later includes a tick at `upTo` itself.
    ticksUpTo: (upTo: Date, count: number) =>
      count <= 0 ? [] : expression.previousRuns(count, new Date(upTo.getTime() + 1)),
  });
}

/** Every declared schedule, checked; throws on the first bad one. */
export function compileSchedules(targets: TargetRegistry, declared: unknown): readonly CompiledSchedule[] {
  if (declared === undefined) return [];
  if (!declared || typeof declared !== 'object' || Array.isArray(declared)) {
    throw new InvalidOptionsError('recurring must be an object of name → schedule');
  }
  return Object.freeze(Object.entries(declared).map(([name, schedule]) => compileSchedule(targets, name, schedule)));
}
