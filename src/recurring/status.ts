import type { PerformDeps } from '../core/perform-deps.js';
import type { AttemptStatus } from '../core/types.js';
import { recurringTickOf, tickTokenPrefix } from './token.js';

/** The attempt of a schedule's newest tick: what happened to it. */
export interface LastTick {
  /** The tick's time (the period it was for). */
  readonly at: Date;
  readonly attemptId: string;
  /** The last outcome: `pending` (not yet run, or retrying), `succeeded`, `failed` or `expired`. */
  readonly status: AttemptStatus;
  readonly numAttempts: number;
  readonly completedAt: Date | null;
  readonly lastError: string | null;
}

/** One schedule as declared, with its next tick and its newest enqueued tick. */
export interface ScheduleStatus {
  readonly name: string;
  readonly cron: string;
  readonly timezone: string;
  readonly target: string;
  readonly method: string;
  readonly catchUp: number;
  /** The next tick after now; `null` when the expression has no more. */
  readonly nextTick: Date | null;
  /** The newest tick in the attempts table; `null` before the first. */
  readonly lastTick: LastTick | null;
}

export interface RecurringView {
  /** Every declared schedule, in declaration order, with its next tick and last outcome. */
  list(options?: { now?: Date }): Promise<ScheduleStatus[]>;
}

export function recurringView(deps: PerformDeps<unknown>): RecurringView {
  return Object.freeze({
    async list(options: { now?: Date } = {}) {
      const now = options.now ?? new Date();
      const { store } = deps;
      return Promise.all(
        (deps.schedules ?? []).map(async (schedule): Promise<ScheduleStatus> => {
          const attempt =
            (await store.attemptFindLastByTokenPrefix?.(
              schedule.target,
              schedule.method,
              tickTokenPrefix(schedule.name),
            )) ?? null;
          const tick = attempt && recurringTickOf(attempt);
          return {
            name: schedule.name,
            cron: schedule.cron,
            timezone: schedule.timezone,
            target: schedule.target,
            method: schedule.method,
            catchUp: schedule.catchUp,
            nextTick: schedule.nextTick(now),
            lastTick:
              attempt && tick
                ? {
                    at: tick.at,
                    attemptId: attempt.id,
                    status: attempt.status,
                    numAttempts: attempt.numAttempts,
                    completedAt: attempt.completedAt,
                    lastError: attempt.lastError,
                  }
                : null,
          };
        }),
      );
    },
  });
}
