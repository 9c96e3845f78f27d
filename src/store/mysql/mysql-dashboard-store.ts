import { ATTEMPT_STATUSES, type AttemptStatus } from '../../core/types.js';
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
} from '../dashboard-store.js';
import { inList } from './in-list.js';
import { type MysqlPoolLike, run } from './mysql-client.js';
import { byId, type MysqlTables } from './mysql-names.js';
import {
  type AttemptRow,
  columns,
  fromMicros,
  integer,
  micros,
  microsToDate,
  NOW,
  toAttempt,
  utcText,
} from './mysql-row.js';
import { inOwnTransaction } from './mysql-transaction.js';

/** The time a filter's from/to bound, and a ranged or due page's order. */
const TIME_COLUMN = { created: 'created_at', due: 'due_at' } as const;

/** A WHERE clause with `?` parameters; values never enter the SQL text. */
class Where {
  readonly parts: string[] = [];
  readonly values: unknown[] = [];

  add(sql: string, ...values: unknown[]): void {
    this.parts.push(sql);
    this.values.push(...values);
  }

  toString(): string {
    return this.parts.length > 0 ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

/**
 * The dashboard's queries for MySQL. Each reads the hot table (pending attempts: small) and the history (with the
 * indexes of migration 1) separately, as ordered, limited ranges merged here: a UNION view is not narrowed by
 * MySQL's planner.
 */
export class MysqlDashboardStore implements DashboardStore {
  constructor(
    private readonly pool: MysqlPoolLike,
    private readonly tables: MysqlTables,
  ) {}

  /** The tables a status filter reads, with the status condition each needs. */
  private sides(status: AttemptStatus | undefined): { table: string; status?: AttemptStatus }[] {
    if (status === 'pending') return [{ table: this.tables.hot }];
    if (status !== undefined) return [{ table: this.tables.history, status }];
    return [{ table: this.tables.hot }, { table: this.tables.history }];
  }

  private where(filter: AttemptFilter, status: AttemptStatus | undefined): Where {
    const where = new Where();
    const key = TIME_COLUMN[filter.timeField];
    if (status !== undefined) where.add('status = ?', status);
    if (filter.target !== undefined) where.add('target = ?', filter.target);
    if (filter.method !== undefined) where.add('method_name = ?', filter.method);
    if (filter.idempotenceToken !== undefined) where.add('idempotence_token = ?', filter.idempotenceToken);
    if (filter.from !== undefined) where.add(`${key} >= ?`, utcText(filter.from));
    if (filter.to !== undefined) where.add(`${key} < ?`, utcText(filter.to));
    return where;
  }

  async dashboardAttemptSearch(search: AttemptSearch): Promise<AttemptSearchPage> {
    // Creation order is the id, except within a created_at range: then (created_at, id), like PostgreSQL.
    const ranged = search.from !== undefined || search.to !== undefined;
    const byId = search.timeField === 'created' && !ranged;
    const key = TIME_COLUMN[search.timeField];
    const direction = search.order === 'asc' ? 'ASC' : 'DESC';
    const comparison = search.order === 'asc' ? '>' : '<';
    const cursor = search.cursor === undefined ? null : decodeSearchCursor(search.cursor);
    const limit = integer(search.limit + 1);
    const order = byId ? `sort_id ${direction}` : `sort_time ${direction}, sort_id ${direction}`;
    const branches = this.sides(search.status).map(({ table, status }) => {
      const where = this.where(search, status);
      if (cursor && byId) where.add(`id ${comparison} ?`, cursor.id);
      else if (cursor) {
        where.add(
          `(${key} ${comparison} ${fromMicros('?')} OR (${key} = ${fromMicros('?')} AND id ${comparison} ?))`,
          cursor.key,
          cursor.key,
          cursor.id,
        );
      }
      return {
        sql: `(SELECT ${columns()}, id AS sort_id, ${key} AS sort_time, ${micros(key)} AS sort_key
               FROM ${table} AS t ${where} ORDER BY ${order.replaceAll('sort_id', 't.id').replaceAll('sort_time', `t.${key}`)} LIMIT ${limit})`,
        values: where.values,
      };
    });
    const rows = await run<(AttemptRow & { sort_key: string })[]>(
      this.pool,
      `${branches.map((branch) => branch.sql).join(' UNION ALL ')} ORDER BY ${order} LIMIT ${limit}`,
      branches.flatMap((branch) => branch.values),
    );
    const page = rows.slice(0, search.limit);
    const last = page.at(-1);
    return {
      attempts: page.map(toAttempt),
      nextCursor:
        rows.length > search.limit && last ? encodeSearchCursor(byId ? last.id : last.sort_key, last.id) : null,
    };
  }

  async dashboardAttemptCount(filter: AttemptFilter): Promise<number> {
    let total = 0;
    for (const { table, status } of this.sides(filter.status)) {
      const where = this.where(filter, status);
      const [row] = await run<{ n: number | string }[]>(
        this.pool,
        `SELECT COUNT(*) AS n FROM ${table} ${where}`,
        where.values,
      );
      total += Number(row?.n ?? 0);
    }
    return total;
  }

  async dashboardAttemptIds(filter: AttemptFilter, afterId: string | null, limit: number): Promise<string[]> {
    const count = integer(limit);
    const branches = this.sides(filter.status).map(({ table, status }) => {
      const where = this.where(filter, status);
      if (afterId !== null) where.add('id > ?', afterId);
      return { sql: `(SELECT id FROM ${table} ${where} ORDER BY id LIMIT ${count})`, values: where.values };
    });
    const rows = await run<{ id: string | number }[]>(
      this.pool,
      `SELECT CAST(id AS CHAR) AS id FROM (${branches.map((branch) => branch.sql).join(' UNION ALL ')}) AS a
       ORDER BY a.id LIMIT ${count}`,
      branches.flatMap((branch) => branch.values),
    );
    return rows.map((row) => String(row.id));
  }

  async dashboardStatusCounts(exactUpTo: number): Promise<StatusCounts> {
    const counts = emptyStatusCounts();
    const estimated: AttemptStatus[] = [];
    const cap = integer(exactUpTo + 1);
    for (const status of ATTEMPT_STATUSES) {
      const [{ table }] = this.sides(status) as [{ table: string }];
      const filter = status === 'pending' ? '' : 'WHERE status = ?';
      const values = status === 'pending' ? [] : [status];
      // Each count stops at the cap: a bounded range of an index.
      const [row] = await run<{ n: number | string }[]>(
        this.pool,
        `SELECT COUNT(*) AS n FROM (SELECT 1 FROM ${table} ${filter} LIMIT ${cap}) AS c`,
        values,
      );
      counts[status] = Number(row?.n ?? 0);
      if (counts[status] <= exactUpTo) continue;
      // Past the cap, the optimizer's estimate of the range (a status of our own list, not input).
      const [plan] = await run<{ rows: number | string }[]>(
        this.pool,
        `EXPLAIN SELECT 1 FROM ${table} ${status === 'pending' ? '' : `WHERE status = '${status}'`}`,
      );
      counts[status] = Math.max(exactUpTo + 1, Number(plan?.rows ?? 0));
      estimated.push(status);
    }
    return { counts, estimated };
  }

  async dashboardOldestDueAt(): Promise<Date | null> {
    const [row] = await run<{ due: string }[]>(
      this.pool,
      `SELECT ${micros('due_at')} AS due FROM ${this.tables.hot} WHERE due_at <= ${NOW} ORDER BY due_at, id LIMIT 1`,
    );
    return row ? microsToDate(row.due) : null;
  }

  async dashboardLeaseHolders(): Promise<LeaseHolder[]> {
    const rows = await run<{ lease_owner: string; n: number | string; expires: string }[]>(
      this.pool,
      `SELECT lease_owner, COUNT(*) AS n, ${micros('MAX(lease_expires_at)')} AS expires FROM ${this.tables.hot}
       WHERE lease_owner IS NOT NULL AND lease_expires_at > ${NOW}
       GROUP BY lease_owner ORDER BY lease_owner LIMIT 100`,
    );
    return rows.map((row) => ({
      owner: row.lease_owner,
      running: Number(row.n),
      leaseExpiresAt: microsToDate(row.expires) as Date,
    }));
  }

  async dashboardCompletions(since: Date): Promise<CompletionBucket[]> {
    const rows = await run<{ minute: string; status: CompletionBucket['status']; n: number | string }[]>(
      this.pool,
      `SELECT CAST(TIMESTAMPDIFF(MINUTE, '1970-01-01 00:00:00', completed_at) AS CHAR) AS minute, status, COUNT(*) AS n
       FROM ${this.tables.history} WHERE completed_at >= ?
       GROUP BY minute, status ORDER BY minute`,
      [utcText(since)],
    );
    return rows.map((row) => ({
      minute: new Date(Number(row.minute) * 60_000),
      status: row.status,
      count: Number(row.n),
    }));
  }

  async dashboardTargetStats(since: Date | null): Promise<TargetMethodStats[]> {
    // Pending: every pair of the hot table. Completed: the window, from completed_stats_idx (or all history).
    const rows = await run<
      { target: string; method_name: string; status: AttemptStatus; n: number | string; last: string | null }[]
    >(
      this.pool,
      `SELECT target, method_name, 'pending' AS status, COUNT(*) AS n, NULL AS last
       FROM ${this.tables.hot} GROUP BY target, method_name
       UNION ALL
       SELECT target, method_name, status, COUNT(*) AS n,
         ${micros("MAX(CASE WHEN status = 'failed' THEN completed_at END)")} AS last
       FROM ${this.tables.history} ${since === null ? '' : 'WHERE completed_at >= ?'}
       GROUP BY target, method_name, status`,
      since === null ? [] : [utcText(since)],
    );
    return groupTargetRows(
      rows.map((row) => ({
        target: row.target,
        method_name: row.method_name,
        status: row.status,
        n: Number(row.n),
        last_failure_at: row.last === null ? null : (microsToDate(row.last) as Date),
      })),
    );
  }

  dashboardRunNow(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return Promise.resolve([]);
    const list = inList(ids);
    return inOwnTransaction(this.pool, async (tx) => {
      const rows = await run<{ id: string }[]>(
        tx,
        `SELECT CAST(t.id AS CHAR) AS id FROM ${byId(this.tables.hot, 't')}
         WHERE id IN (${list.sql}) AND scheduled_at > ${NOW} ORDER BY t.id FOR UPDATE`,
        list.values,
      );
      const due = rows.map((row) => row.id);
      if (due.length > 0) {
        const dueList = inList(due);
        await run(
          tx,
          `UPDATE ${byId(this.tables.hot)} SET scheduled_at = ${NOW}, updated_at = ${NOW} WHERE id IN (${dueList.sql})`,
          dueList.values,
        );
      }
      return due;
    });
  }

  async dashboardAttemptErrors(id: string, limit: number): Promise<RunError[]> {
    const rows = await run<{ run: number | string; error: string; failed_at: string }[]>(
      this.pool,
      `SELECT run, error, ${micros('failed_at')} AS failed_at FROM ${this.tables.errors}
       WHERE attempt_id = ? ORDER BY run DESC LIMIT ${integer(limit)}`,
      [id],
    );
    return rows.map((row) => ({
      run: Number(row.run),
      error: row.error,
      failedAt: microsToDate(row.failed_at) as Date,
    }));
  }
}
