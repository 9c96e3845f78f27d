import type { AttemptStatus } from '../core/types.js';

/** Completed attempts in one minute of the window. */
export interface ThroughputMinute {
  /** The minute's start, by the database's clock. */
  readonly minute: Date;
  readonly succeeded: number;
  readonly failed: number;
}

export interface AttemptStats {
  /** Every status, zero when there is none. */
  readonly counts: Readonly<Record<AttemptStatus, number>>;
  /** Pending attempts whose time has come. */
  readonly duePending: number;
  /** Pending attempts that have already run and failed at least once. */
  readonly retryingPending: number;
  /** How long the oldest due pending attempt has waited, in ms; `null` when none is due. */
  readonly oldestDuePendingAgeMs: number | null;
  /** Oldest first, one entry per minute of the window, the current (partial) minute last. */
  readonly throughput: readonly ThroughputMinute[];
}

export interface StatsOptions {
  /** Minutes of throughput, the current one included. */
  readonly windowMinutes: number;
}

/** Internal: the read-only operation behind `async-task stats` and the dashboard's numbers. */
export interface StatsStore {
  attemptStats(options: StatsOptions): Promise<AttemptStats>;
}

export function hasStats(store: object): store is StatsStore {
  return typeof (store as Partial<StatsStore>).attemptStats === 'function';
}

/** Fills the minutes without completions with zeros. `nowMinuteMs` is the current minute's start. */
export function fillThroughput(
  rows: readonly { minuteMs: number; succeeded: number; failed: number }[],
  nowMinuteMs: number,
  windowMinutes: number,
): ThroughputMinute[] {
  const byMinute = new Map(rows.map((row) => [row.minuteMs, row]));
  const minutes: ThroughputMinute[] = [];
  for (let i = windowMinutes - 1; i >= 0; i--) {
    const minuteMs = nowMinuteMs - i * 60_000;
    const row = byMinute.get(minuteMs);
    minutes.push({ minute: new Date(minuteMs), succeeded: row?.succeeded ?? 0, failed: row?.failed ?? 0 });
  }
  return minutes;
}
