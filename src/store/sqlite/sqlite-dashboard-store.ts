import type { AttemptStatus } from '../../core/types.js';
import {
  type AttemptFilter,
  type AttemptSearch,
  type AttemptSearchPage,
  type CompletionBucket,
  type DashboardStore,
  decodeSearchCursor,
  emptyStatusCounts,
  encodeSearchCursor,
  groupTargetRows,
  type LeaseHolder,
  type RunError,
  type StatusCounts,
  type TargetMethodStats,
  type TargetStatusRow,
} from '../dashboard-store.js';
import type { SqliteNames } from './migrations.js';
import type { SqliteDatabaseLike } from './sqlite-client.js';
import { type AttemptRow, COLUMNS, toAttempt } from './sqlite-row.js';

/** The time a filter's from/to bound, and a page's order (a "created" page without a range is ordered by id). */
const TIME_COLUMN = { created: 'created_at', due: 'COALESCE(scheduled_at, created_at)' } as const;

interface Where {
  parts: string[];
  values: unknown[];
}

/**
 * Pending attempts sit only in the claim index (`status = 'pending'`); completed ones in the history indexes
 * (`status <> 'pending'`). A filter names its side with that exact term, so SQLite can use those partial
 * indexes. Without a status, a filter the history indexes serve (target, method, a time range or order) is
 * asked of each side apart; any other (none, or a token, which has its own index) reads the table as one.
 */
function filterSides(filter: AttemptFilter, { splitAll = false } = {}): Where[] {
  const parts: string[] = [];
  const values: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    parts.push(sql);
    values.push(value);
  };
  const key = TIME_COLUMN[filter.timeField];
  if (filter.status !== undefined) add('status = ?', filter.status);
  if (filter.target !== undefined) add('target = ?', filter.target);
  if (filter.method !== undefined) add('method_name = ?', filter.method);
  if (filter.idempotenceToken !== undefined) add('idempotence_token = ?', filter.idempotenceToken);
  if (filter.from !== undefined) add(`${key} >= ?`, filter.from.getTime());
  if (filter.to !== undefined) add(`${key} < ?`, filter.to.getTime());
  if (filter.status !== undefined) {
    parts.push(filter.status === 'pending' ? PENDING : PENDING_NOT);
    return [{ parts, values }];
  }
  const split =
    (splitAll && parts.length === 0) ||
    (filter.idempotenceToken === undefined &&
      (filter.target !== undefined ||
        filter.method !== undefined ||
        filter.from !== undefined ||
        filter.to !== undefined ||
        filter.timeField === 'due'));
  if (!split) return [{ parts, values }];
  return [
    { parts: [...parts, PENDING], values: [...values] },
    { parts: [...parts, PENDING_NOT], values: [...values] },
  ];
}

const PENDING = "status = 'pending'";
const PENDING_NOT = "status <> 'pending'";

const whereSql = (parts: string[]) => (parts.length > 0 ? `WHERE ${parts.join(' AND ')}` : '');

/** The dashboard's queries for SQLite, read on the store's reader connection. Times are epoch ms. */
export class SqliteDashboardStore implements DashboardStore {
  constructor(
    private readonly reader: () => SqliteDatabaseLike,
    private readonly names: SqliteNames,
    /** Runs a write on the writer connection, under the store's write lock. */
    private readonly write: <T>(fn: (writer: SqliteDatabaseLike) => T) => Promise<T>,
  ) {}

  private all<T>(sql: string, values: unknown[] = []): T[] {
    return this.reader()
      .prepare(sql)
      .all(...values) as T[];
  }

  async dashboardAttemptSearch(search: AttemptSearch): Promise<AttemptSearchPage> {
    const key = TIME_COLUMN[search.timeField];
    const direction = search.order === 'asc' ? 'ASC' : 'DESC';
    const cursor = search.cursor === undefined ? null : decodeSearchCursor(search.cursor);
    // As in PostgreSQL: creation order is the id, except within a created_at range.
    const byId = search.timeField === 'created' && search.from === undefined && search.to === undefined;
    const order = byId ? `id ${direction}` : `sort_key ${direction}, id ${direction}`;
    const sides = filterSides(search).map(({ parts, values }) => {
      if (cursor && byId) {
        parts.push(`id ${search.order === 'asc' ? '>' : '<'} ?`);
        values.push(BigInt(cursor.id));
      } else if (cursor) {
        parts.push(`(${key}, id) ${search.order === 'asc' ? '>' : '<'} (?, ?)`);
        values.push(BigInt(cursor.key), BigInt(cursor.id));
      }
      return {
        sql: `SELECT ${COLUMNS}, ${byId ? 'id' : key} AS sort_key FROM ${this.names.table} ${whereSql(parts)}
         ORDER BY ${byId ? `id ${direction}` : `${key} ${direction}, id ${direction}`} LIMIT ?`,
        values: [...values, search.limit + 1],
      };
    });
    const rows = this.all<AttemptRow & { sort_key: number }>(
      sides.length === 1
        ? (sides[0] as { sql: string }).sql
        : `${sides.map((side) => `SELECT * FROM (${side.sql})`).join(' UNION ALL ')} ORDER BY ${order} LIMIT ?`,
      sides.length === 1 ? sides[0]?.values : [...sides.flatMap((side) => side.values), search.limit + 1],
    );
    const page = rows.slice(0, search.limit);
    const last = page.at(-1);
    return {
      attempts: page.map(toAttempt),
      nextCursor: rows.length > search.limit && last ? encodeSearchCursor(last.sort_key, String(last.id)) : null,
    };
  }

  async dashboardAttemptCount(filter: AttemptFilter): Promise<number> {
    // Unfiltered too: every index is partial, so each side counts its own (the table itself is the widest).
    const sides = filterSides(filter, { splitAll: true });
    return this.all<{ n: number }>(
      `SELECT ${sides.map(({ parts }) => `(SELECT count(*) FROM ${this.names.table} ${whereSql(parts)})`).join(' + ')} AS n`,
      sides.flatMap((side) => side.values),
    )[0]!.n;
  }

  async dashboardAttemptIds(filter: AttemptFilter, afterId: string | null, limit: number): Promise<string[]> {
    const sides = filterSides(filter).map(({ parts, values }) => {
      if (afterId !== null) {
        parts.push('id > ?');
        values.push(BigInt(afterId));
      }
      return {
        sql: `SELECT id FROM ${this.names.table} ${whereSql(parts)} ORDER BY id LIMIT ?`,
        values: [...values, limit],
      };
    });
    return this.all<{ id: number }>(
      sides.length === 1
        ? (sides[0] as { sql: string }).sql
        : `${sides.map((side) => `SELECT * FROM (${side.sql})`).join(' UNION ALL ')} ORDER BY id LIMIT ?`,
      sides.length === 1 ? sides[0]?.values : [...sides.flatMap((side) => side.values), limit],
    ).map((row) => String(row.id));
  }

  /** Exact always: SQLite keeps no cheap estimate, and an embedded database stays small enough to count. */
  async dashboardStatusCounts(_exactUpTo: number): Promise<StatusCounts> {
    const counts = emptyStatusCounts();
    const rows = this.all<{ status: AttemptStatus; n: number }>(
      `SELECT 'pending' AS status, count(*) AS n FROM ${this.names.table} WHERE ${PENDING}
       UNION ALL
       SELECT status, count(*) AS n FROM ${this.names.table} WHERE ${PENDING_NOT} GROUP BY status`,
    );
    for (const row of rows) counts[row.status] = row.n;
    return { counts, estimated: [] };
  }

  async dashboardOldestDueAt(): Promise<Date | null> {
    const row = this.all<{ due_at: number }>(
      `SELECT COALESCE(scheduled_at, created_at) AS due_at FROM ${this.names.table}
       WHERE status = 'pending' AND COALESCE(scheduled_at, created_at) <= ?
       ORDER BY COALESCE(scheduled_at, created_at), id LIMIT 1`,
      [Date.now()],
    )[0];
    return row ? new Date(row.due_at) : null;
  }

  async dashboardLeaseHolders(): Promise<LeaseHolder[]> {
    return this.all<{ lease_owner: string; n: number; lease_expires_at: number }>(
      `SELECT lease_owner, count(*) AS n, max(lease_expires_at) AS lease_expires_at FROM ${this.names.table}
       WHERE status = 'pending' AND lease_owner IS NOT NULL AND lease_expires_at > ?
       GROUP BY lease_owner ORDER BY lease_owner LIMIT 100`,
      [Date.now()],
    ).map((row) => ({ owner: row.lease_owner, running: row.n, leaseExpiresAt: new Date(row.lease_expires_at) }));
  }

  async dashboardCompletions(since: Date): Promise<CompletionBucket[]> {
    return this.all<{ minute: number; status: CompletionBucket['status']; n: number }>(
      `SELECT (completed_at / 60000) * 60000 AS minute, status, count(*) AS n
       FROM ${this.names.table} WHERE completed_at >= ?
       GROUP BY 1, 2 ORDER BY 1`,
      [since.getTime()],
    ).map((row) => ({ minute: new Date(row.minute), status: row.status, count: row.n }));
  }

  async dashboardTargetStats(since: Date | null): Promise<TargetMethodStats[]> {
    const grouped = `SELECT target, method_name, status, count(*) AS n,
         max(CASE WHEN status = 'failed' THEN completed_at END) AS last_failure_at FROM ${this.names.table}`;
    return groupTargetRows(
      since === null
        ? this.all<TargetStatusRow>(
            `SELECT target, method_name, 'pending' AS status, count(*) AS n, NULL AS last_failure_at
             FROM ${this.names.table} WHERE ${PENDING} GROUP BY target, method_name
             UNION ALL
             ${grouped} WHERE ${PENDING_NOT} GROUP BY target, method_name, status
             ORDER BY 1, 2`,
          )
        : this.all<TargetStatusRow>(
            `SELECT target, method_name, 'pending' AS status, count(*) AS n, NULL AS last_failure_at
             FROM ${this.names.table} WHERE status = 'pending' GROUP BY target, method_name
             UNION ALL
             ${grouped} WHERE completed_at >= ? GROUP BY target, method_name, status
             ORDER BY 1, 2`,
            [since.getTime()],
          ),
    );
  }

  dashboardRunNow(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.write((writer) => {
      const now = Date.now();
      return (
        writer
          .prepare(
            `UPDATE ${this.names.table} SET scheduled_at = ?, updated_at = ?
             WHERE id IN (${ids.map(() => '?').join(', ')}) AND status = 'pending' AND scheduled_at > ?
             RETURNING id`,
          )
          .all(now, now, ...ids.map((id) => BigInt(id)), now) as { id: number | bigint }[]
      ).map((row) => String(row.id));
    });
  }

  async dashboardAttemptErrors(id: string, limit: number): Promise<RunError[]> {
    const rows = this.reader()
      .prepare(
        `SELECT run, error, failed_at FROM ${this.names.index('errors')} WHERE attempt_id = ? ORDER BY run DESC LIMIT ?`,
      )
      .all(BigInt(id), limit) as { run: number | bigint; error: string; failed_at: number | bigint }[];
    return rows.map((row) => ({ run: Number(row.run), error: row.error, failedAt: new Date(Number(row.failed_at)) }));
  }
}
