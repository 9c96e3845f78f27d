import type { AttemptStatus } from '../../core/types.js';
import { type AttemptStats, fillThroughput, type StatsOptions } from '../stats.js';
import type { PgQueryable } from './postgres-store.js';

/** The numbers of `async-task stats`, read on the pool. `table` is validated and quoted. */
export async function postgresAttemptStats(
  pool: PgQueryable,
  table: string,
  options: StatsOptions,
): Promise<AttemptStats> {
  const counts = await pool.query(`SELECT status, count(*)::int AS n FROM ${table} GROUP BY status`);
  // Served by the partial index of due pending rows.
  const due = await pool.query(
    `SELECT count(*)::int AS due,
       count(*) FILTER (WHERE num_attempts > 0)::int AS retrying,
       (extract(epoch FROM now() - min(COALESCE(scheduled_at, created_at))) * 1000)::float8 AS oldest_ms,
       (extract(epoch FROM date_trunc('minute', now())) * 1000)::float8 AS now_minute_ms
     FROM ${table}
     WHERE status = 'pending' AND COALESCE(scheduled_at, created_at) <= now()`,
  );
  const throughput = await pool.query(
    `SELECT (extract(epoch FROM date_trunc('minute', completed_at)) * 1000)::float8 AS minute_ms,
       count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
       count(*) FILTER (WHERE status = 'failed')::int AS failed
     FROM ${table}
     WHERE completed_at >= date_trunc('minute', now()) - ($1::int - 1) * interval '1 minute'
     GROUP BY 1`,
    [options.windowMinutes],
  );
  const byStatus: Record<AttemptStatus, number> = { pending: 0, succeeded: 0, failed: 0, expired: 0 };
  for (const row of counts.rows as { status: AttemptStatus; n: number }[]) byStatus[row.status] = row.n;
  const summary = due.rows[0] as { due: number; retrying: number; oldest_ms: number | null; now_minute_ms: number };
  return {
    counts: byStatus,
    duePending: summary.due,
    retryingPending: summary.retrying,
    oldestDuePendingAgeMs: summary.oldest_ms === null ? null : Math.max(0, Math.round(summary.oldest_ms)),
    throughput: fillThroughput(
      (throughput.rows as { minute_ms: number; succeeded: number; failed: number }[]).map((row) => ({
        minuteMs: row.minute_ms,
        succeeded: row.succeeded,
        failed: row.failed,
      })),
      summary.now_minute_ms,
      options.windowMinutes,
    ),
  };
}
