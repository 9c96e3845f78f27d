import type { MethodArgs, MethodName } from '../core/registry.js';

/** After downtime: how many of the missed ticks to enqueue, newest first. */
export type CatchUp = number;

interface ScheduleFields {
  /**
   * A cron expression: five fields (minute precision) or six (seconds first), or a nickname such as
   * `@daily`. Parsed by croner.
   */
  cron: string;
  /** An IANA time zone (`Europe/Berlin`) the expression is read in. Default: `UTC`. */
  timezone?: string;
  /**
   * How many missed ticks to enqueue after downtime (no worker ran at their time), newest first.
   * `0` skips them all. Default: 1 (one late tick).
   */
  catchUp?: CatchUp;
}

/** One schedule of one target method, typed like `enqueue`. */
export type RecurringSchedule<
  Targets,
  T extends keyof Targets & string,
  M extends MethodName<Targets[T]>,
> = ScheduleFields & {
  /** The registered target to call on each tick. */
  target: T;
  /** Its method. */
  method: M;
  /** The arguments of every tick, as `enqueue` takes them (stored like any attempt's, encrypted if configured). */
  args: MethodArgs<Targets[T], M>;
};

/** Any schedule of `Targets`: a union over every target and method, so a wrong pair does not compile. */
export type AnyRecurringSchedule<Targets> = {
  [T in keyof Targets & string]: {
    [M in MethodName<Targets[T]>]: RecurringSchedule<Targets, T, M>;
  }[MethodName<Targets[T]>];
}[keyof Targets & string];

/**
 * Name → schedule. The name is part of each tick's idempotence token (`recurring:<name>:<tick time>`):
 * letters, digits, `_`, `-` and `.`; renaming a schedule starts it afresh.
 */
export type RecurringSchedules<Targets> = Readonly<Record<string, AnyRecurringSchedule<Targets>>>;

/** What a tick's attempt says about the tick it was enqueued for (see `recurringTickOf`). */
export interface RecurringTick {
  /** The schedule's name. */
  readonly schedule: string;
  /** The time the tick was due: the period it is for. Unchanged by retries. */
  readonly at: Date;
}
