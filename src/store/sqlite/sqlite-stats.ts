import type { AttemptStatus } from '../../core/types.js';
import { type AttemptStats, fillThroughput, type StatsOptions } from '../stats.js';
import type { SqliteDatabaseLike } from './sqlite-store.js';

/** The numbers of `async-task stats`, read on the store's reader. `table` is validated and quoted; times are epoch ms. */
export function sqliteAttemptStats(db: SqliteDatabaseLike, table: string, options: StatsOptions): AttemptStats {
  const now = Date.now();
  const nowMinuteMs = now - (now % 60_000);
  const counts = db.prepare(`SELECT status, count(*) AS n FROM ${table} GROUP BY status`).all() as {
    status: AttemptStatus;
    n: number;
  }[];
  const summary = db
    .prepare(
      `SELECT count(*) AS due, coalesce(sum(num_attempts > 0), 0) AS retrying,
         min(COALESCE(scheduled_at, created_at)) AS oldest
       FROM ${table} WHERE status = 'pending' AND COALESCE(scheduled_at, created_at) <= ?`,
    )
    .get(now) as { due: number; retrying: number; oldest: number | null };
  const throughput = db
    .prepare(
      `SELECT completed_at - completed_at % 60000 AS minuteMs,
         sum(status = 'succeeded') AS succeeded, sum(status = 'failed') AS failed
       FROM ${table} WHERE completed_at >= ? GROUP BY 1`,
    )
    .all(nowMinuteMs - (options.windowMinutes - 1) * 60_000) as {
    minuteMs: number;
    succeeded: number;
    failed: number;
  }[];
  const byStatus: Record<AttemptStatus, number> = { pending: 0, succeeded: 0, failed: 0, expired: 0 };
  for (const row of counts) byStatus[row.status] = row.n;
  return {
    counts: byStatus,
    duePending: summary.due,
    retryingPending: summary.retrying,
    oldestDuePendingAgeMs: summary.oldest === null ? null : Math.max(0, now - summary.oldest),
    throughput: fillThroughput(throughput, nowMinuteMs, options.windowMinutes),
  };
}
