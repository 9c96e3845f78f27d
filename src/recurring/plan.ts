import type { CompiledSchedule } from './schedule.js';

/**
 * The newest due tick counts as on time (not missed) while it is at most this old: a worker's usual
 * delay (polling, a busy event loop, a deploy's restart) never costs a tick, whatever `catchUp` says.
 */
export const ON_TIME_MS = 60_000;

export interface TickPlan {
  /** Ticks to enqueue now, oldest first. */
  readonly enqueue: readonly Date[];
  /** Whether due ticks were left out by the catch-up policy. */
  readonly skipped: boolean;
  /** The newest due tick (enqueued or skipped): ticks up to it are settled. `null`: none was due. */
  readonly newest: Date | null;
}

/**
 * Which ticks of `schedule` to enqueue at `now`, when every tick up to `since` is settled.
 * The newest due tick is enqueued when it is on time (see ON_TIME_MS). Every other due tick was missed
 * (no worker ran at its time): of those, the newest `catchUp` are enqueued and the rest skipped.
 * A pure function of its inputs, so it is tested with a controlled clock.
 */
export function planTicks(schedule: CompiledSchedule, since: Date, now: Date): TickPlan {
  const after = (tick: Date) => tick.getTime() > since.getTime();
  const [latest] = schedule.ticksUpTo(now, 1);
  if (latest === undefined || !after(latest)) return { enqueue: [], skipped: false, newest: null };
  // Usually one tick is due (the steady state): no need to enumerate catchUp + 2 of them.
  const single = schedule.nextTick(since)?.getTime() === latest.getTime();
  // Otherwise one more than could be enqueued, to know whether any were skipped.
  const due = single ? [latest] : schedule.ticksUpTo(now, schedule.catchUp + 2).filter(after);
  const newest = due[0] as Date;
  const onTime = now.getTime() - newest.getTime() <= ON_TIME_MS;
  const missed = onTime ? due.slice(1) : due;
  const late = missed.slice(0, schedule.catchUp);
  const enqueue = (onTime ? [newest, ...late] : late).sort((a, b) => a.getTime() - b.getTime());
  return { enqueue, skipped: missed.length > late.length, newest };
}
