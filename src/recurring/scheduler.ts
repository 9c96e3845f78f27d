import type { PerformDeps } from '../core/perform-deps.js';
import type { Logger } from '../core/types.js';
import { planTicks } from './plan.js';
import type { CompiledSchedule } from './schedule.js';
import { recurringTickOf, tickToken, tickTokenPrefix } from './token.js';

export interface RecurringSchedulerOptions {
  readonly logger: Logger;
  /** Reports a failed database read or write; the scheduler retries on its own. */
  readonly onError: (error: unknown, during: string) => void;
  /** The clock. Default: the system's. Tests pass a controlled one and call `poll`. */
  readonly now?: () => Date;
}

/** The longest sleep between two looks at the clock, so a suspended machine or a changed clock is noticed. */
const MAX_SLEEP_MS = 30_000;
/** After a failed pass, look again this soon (the tick is still on time, see ON_TIME_MS), doubling up to MAX_SLEEP_MS. */
const RETRY_MS = 1_000;

/**
 * Enqueues the due ticks of the application's recurring schedules, from inside a worker. Any number of
 * schedulers (workers) may run at once: a tick's attempt carries the token `recurring:<name>:<time>`, and
 * the store's insert creates one attempt per token whoever races for it. State lives in the attempts
 * table only (a schedule's last tick is its newest token), so a schedule removed from the code stops.
 */
export class RecurringScheduler<Tx> {
  /** Per schedule: every tick up to this time is settled (enqueued, or skipped by the policy). */
  private readonly settled = new Map<string, Date>();
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly deps: PerformDeps<Tx>,
    private readonly schedules: readonly CompiledSchedule[],
    private readonly options: RecurringSchedulerOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** Starts the loop in the background; returns at once. */
  start(): void {
    if (this.running || this.schedules.length === 0) return;
    this.running = this.loop();
  }

  /** Stops the loop; resolves once a pass in flight has finished. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
    await this.running;
  }

  /**
   * One pass at the time `now()` gives: reads the last tick of schedules not seen yet, then enqueues every
   * due tick the catch-up policy keeps. A schedule that fails (database, encryptor) is reported through
   * `onError` and retried on the next pass; the others go on. Returns when to look again.
   */
  async poll(): Promise<{ next: Date | null; failed: boolean }> {
    const now = this.now();
    let next: Date | null = null;
    let failed = false;
    for (const schedule of this.schedules) {
      try {
        await this.pollSchedule(schedule, now);
      } catch (error) {
        failed = true;
        this.options.onError(error, `enqueueing the ticks of recurring schedule ${schedule.name}`);
      }
      const upcoming = schedule.nextTick(now);
      if (upcoming && (next === null || upcoming < next)) next = upcoming;
    }
    return { next, failed };
  }

  private async pollSchedule(schedule: CompiledSchedule, now: Date): Promise<void> {
    const since = this.settled.get(schedule.name) ?? (await this.lastTick(schedule, now));
    this.settled.set(schedule.name, since);
    const plan = planTicks(schedule, since, now);
    for (const tick of plan.enqueue) await this.enqueue(schedule, tick);
    if (plan.skipped) {
      this.options.logger.info('recurring: skipped missed ticks (catch-up policy)', {
        schedule: schedule.name,
        catchUp: schedule.catchUp,
        upTo: plan.newest?.toISOString(),
      });
    }
    if (plan.newest) this.settled.set(schedule.name, plan.newest);
  }

  /** The newest tick enqueued in the past, by any process; `now` for a schedule that never ticked. */
  private async lastTick(schedule: CompiledSchedule, now: Date): Promise<Date> {
    const find = this.deps.store.attemptFindLastByTokenPrefix;
    if (!find) return now;
    const attempt = await find.call(this.deps.store, schedule.target, schedule.method, tickTokenPrefix(schedule.name));
    return (attempt && recurringTickOf(attempt)?.at) ?? now;
  }

  private async enqueue(schedule: CompiledSchedule, at: Date): Promise<void> {
    const { store, sealer } = this.deps;
    const idempotenceToken = tickToken(schedule.name, at);
    const methodArgs = await sealer.seal(schedule.args, {
      target: schedule.target,
      methodName: schedule.method,
      idempotenceToken,
    });
    const { created } = await store.transaction((tx) =>
      store.attemptInsert(tx, {
        target: schedule.target,
        methodName: schedule.method,
        methodArgs,
        encryptor: sealer.encryptorName,
        idempotenceToken,
        // Due at its tick: the target also sees its tick as ctx.attempt.scheduledAt on the first run.
        scheduledAt: at,
      }),
    );
    if (created)
      this.options.logger.debug('recurring: tick enqueued', { schedule: schedule.name, at: at.toISOString() });
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const { next, failed } = await this.poll();
      failures = failed ? failures + 1 : 0;
      // A timer may fire a little before the wall clock reaches the tick: the next pass then finds
      // nothing due and sleeps the remaining milliseconds.
      const untilNext = next === null ? MAX_SLEEP_MS : next.getTime() - this.now().getTime();
      const retry = failed ? RETRY_MS * 2 ** Math.min(failures - 1, 5) : MAX_SLEEP_MS;
      await this.sleep(Math.max(1, Math.min(MAX_SLEEP_MS, untilNext, retry)));
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = null;
        clearTimeout(this.timer);
        resolve();
      };
      this.timer = setTimeout(() => this.wake?.(), ms);
    });
  }
}

/** The worker's hook: a running scheduler over the deps' schedules, or `null` when there are none. */
export function startRecurringScheduler<Tx>(
  deps: PerformDeps<Tx>,
  options: RecurringSchedulerOptions,
): RecurringScheduler<Tx> | null {
  const schedules = deps.schedules ?? [];
  if (schedules.length === 0) return null;
  const scheduler = new RecurringScheduler(deps, schedules, options);
  scheduler.start();
  return scheduler;
}
