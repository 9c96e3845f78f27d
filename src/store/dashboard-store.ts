import type { Attempt, AttemptStatus } from '../core/types.js';
import type { RunError } from './run-errors.js';

export type { RunError } from './run-errors.js';

/**
 * Internal: the operations the dashboard needs (reads, and "run now"), implemented by each dialect's store next to its
 * other SQL. Kept apart from `Store` so the core's seam stays small. This interface will change.
 */

/** Which time an attempts page is ordered and bounded by: `created_at`, or the due time (`scheduled_at`, else `created_at`). */
export type AttemptTimeField = 'created' | 'due';

export interface AttemptFilter {
  readonly status?: AttemptStatus;
  readonly target?: string;
  readonly method?: string;
  readonly idempotenceToken?: string;
  /** Bounds `timeField`: `from` inclusive, `to` exclusive. */
  readonly from?: Date;
  readonly to?: Date;
  readonly timeField: AttemptTimeField;
}

export interface AttemptSearch extends AttemptFilter {
  readonly order: 'asc' | 'desc';
  readonly limit: number;
  /** `nextCursor` of the previous page of the same search. */
  readonly cursor?: string;
}

export interface AttemptSearchPage {
  readonly attempts: Attempt[];
  /** Opaque; `null` on the last page. */
  readonly nextCursor: string | null;
}

export interface CompletionBucket {
  /** Start of the minute. */
  readonly minute: Date;
  readonly status: Exclude<AttemptStatus, 'pending'>;
  readonly count: number;
}

export interface TargetMethodStats {
  readonly target: string;
  readonly method: string;
  readonly counts: Readonly<Record<AttemptStatus, number>>;
  /** `completed_at` of the newest `failed` attempt counted, if any. */
  readonly lastFailureAt: Date | null;
}

/** A worker seen through the leases it holds on pending attempts right now. */
export interface LeaseHolder {
  readonly owner: string;
  readonly running: number;
  /** The latest expiry among its leases: a worker that stopped renewing lets it pass. */
  readonly leaseExpiresAt: Date;
}

export interface StatusCounts {
  readonly counts: Record<AttemptStatus, number>;
  /** Statuses whose count is an estimate. */
  readonly estimated: readonly AttemptStatus[];
}

export interface DashboardStore {
  /**
   * Attempts matching `search`, keyset-paginated: by due time then id, or in creation order, which is the id
   * (allocated in insert order), or (created_at, id) within a `from`/`to` range on created.
   */
  dashboardAttemptSearch(search: AttemptSearch): Promise<AttemptSearchPage>;
  /** How many attempts match. */
  dashboardAttemptCount(filter: AttemptFilter): Promise<number>;
  /** Ids of matching attempts above `afterId`, ascending, for actions on everything matching a filter. */
  dashboardAttemptIds(filter: AttemptFilter, afterId: string | null, limit: number): Promise<string[]>;
  /**
   * Attempts per status: exact up to `exactUpTo`, past it (where the dialect can) the planner's estimate,
   * so the overview costs the same at a billion rows as at a thousand.
   */
  dashboardStatusCounts(exactUpTo: number): Promise<StatusCounts>;
  /** The earliest due time among pending attempts that are due now (how far behind the queue is). */
  dashboardOldestDueAt(): Promise<Date | null>;
  /** Workers holding unexpired leases on pending attempts, with how many each holds. */
  dashboardLeaseHolders(): Promise<LeaseHolder[]>;
  /** Completions per minute and status since `since`. */
  dashboardCompletions(since: Date): Promise<CompletionBucket[]>;
  /**
   * Per target and method: pending attempts now, and attempts completed since `since` by status, with the
   * newest failure among them. `since: null` counts every attempt ever (a full scan on big tables).
   */
  dashboardTargetStats(since: Date | null): Promise<TargetMethodStats[]>;
  /**
   * "Run now": of `ids`, the pending attempts due later (waiting on a backoff or a schedule) become due now.
   * Returns the ids changed; others (completed, already due, gone) are left alone.
   */
  dashboardRunNow(ids: readonly string[]): Promise<string[]>;
  /**
   * The errors of the attempt's failed runs, newest run first, at most `limit` (the store keeps those of the last
   * `RUN_ERRORS_KEPT` runs). Empty for an attempt that never failed, or one that is gone.
   */
  dashboardAttemptErrors(id: string, limit: number): Promise<RunError[]>;
}

export const emptyStatusCounts = (): Record<AttemptStatus, number> => ({
  pending: 0,
  succeeded: 0,
  failed: 0,
  expired: 0,
});

const CURSOR = /^(\d{1,20})_([1-9]\d{0,18})$/;

/** Keyset cursor: the sort key as an integer (ms or µs, per dialect) and the id. */
export function encodeSearchCursor(key: string | number | bigint, id: string): string {
  return `${key}_${id}`;
}

export function decodeSearchCursor(cursor: string): { key: string; id: string } | null {
  const match = CURSOR.exec(cursor);
  return match ? { key: match[1]!, id: match[2]! } : null;
}

export interface TargetStatusRow {
  target: string;
  method_name: string;
  status: AttemptStatus;
  n: string | number;
  last_failure_at: Date | number | null;
}

/** Folds (target, method, status) rows into one entry per target and method. Same for every dialect. */
export function groupTargetRows(rows: readonly TargetStatusRow[]): TargetMethodStats[] {
  const byKey = new Map<
    string,
    { target: string; method: string; counts: Record<AttemptStatus, number>; last: number | null }
  >();
  for (const row of rows) {
    const key = JSON.stringify([row.target, row.method_name]);
    let entry = byKey.get(key);
    if (!entry) {
      entry = { target: row.target, method: row.method_name, counts: emptyStatusCounts(), last: null };
      byKey.set(key, entry);
    }
    entry.counts[row.status] = Number(row.n);
    if (row.last_failure_at !== null) {
      const at = row.last_failure_at instanceof Date ? row.last_failure_at.getTime() : Number(row.last_failure_at);
      entry.last = entry.last === null ? at : Math.max(entry.last, at);
    }
  }
  return [...byKey.values()].map(({ target, method, counts, last }) => ({
    target,
    method,
    counts,
    lastFailureAt: last === null ? null : new Date(last),
  }));
}
