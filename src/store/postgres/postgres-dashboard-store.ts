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
import type { PostgresNames } from './migrations.js';
import type { PgQueryable } from './pg-client.js';
import { postgresTables } from './pg-names.js';
import { type AttemptRow, COLUMNS, toAttempt, toDate } from './pg-row.js';

/** The time a filter's from/to bound, and a ranged or due page's order (see dashboardAttemptSearch). */
const TIME_COLUMN = { created: 'created_at', due: 'COALESCE(scheduled_at, created_at)' } as const;
/** A cursor's key is microseconds since the epoch: exact for timestamptz, so no row is skipped or repeated. */
const FROM_MICROS = (param: string) => `(timestamptz 'epoch' + ${param}::bigint * interval '1 microsecond')`;

/** Builds a WHERE clause with numbered parameters; values never enter the SQL text. */
class Where {
  readonly parts: string[] = [];

  /** `values` may be shared by several WHERE clauses of one statement. */
  constructor(readonly values: unknown[] = []) {}

  param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  add(sql: (param: (value: unknown) => string) => string): void {
    this.parts.push(sql((value) => this.param(value)));
  }

  toString(): string {
    return this.parts.length > 0 ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

/** One branch of a search: a status (or any), and whether only completed rows (`completed_at IS NOT NULL`). */
interface Branch {
  readonly status?: AttemptStatus;
  readonly completed?: boolean;
}

/**
 * How a search is read. By id (creation order): the primary key, (status, id) or (target, method_name, status, id).
 * By due time: (status, due, id). By creation time within a created_at range: completed rows from
 * created_completed_idx, pending ones from (status, id), sorted. Where no single index range holds the
 * whole order (no status chosen), the search is one ordered range per branch, merged.
 */
function branchesOf(filter: AttemptFilter, order: 'id' | 'due' | 'created'): readonly Branch[] {
  if (order === 'created') {
    if (filter.idempotenceToken !== undefined) return [{ status: filter.status }];
    if (filter.status === 'pending') return [{ status: 'pending' }];
    if (filter.status !== undefined) return [{ status: filter.status, completed: true }];
    return [{ status: 'pending' }, { completed: true }];
  }
  if (filter.status !== undefined || filter.idempotenceToken !== undefined) return [{ status: filter.status }];
  const merge = order === 'due' || (filter.target !== undefined && filter.method !== undefined);
  return merge ? ATTEMPT_STATUSES.map((status) => ({ status })) : [{}];
}

/**
 * `SELECT … FROM table WHERE filter [AND more]`, one per branch, as one UNION ALL. Each branch of several is its
 * own ordered and limited index range: the planner does not merge a UNION ALL's ordered index scans by itself
 * (it sorts every matching row), so the caller sorts at most limit × branches rows.
 */
function branchedSelect(
  table: string,
  filter: AttemptFilter,
  branches: readonly Branch[],
  select: string,
  more: (where: Where) => void,
  values: unknown[],
  branchOrder: string,
  limit: number,
): string {
  return branches
    .map((branch) => {
      const where = filterWhere(filter, branch.status, values);
      if (branch.completed) where.add(() => 'completed_at IS NOT NULL');
      more(where);
      const sql = `SELECT ${select} FROM ${table} ${where}`;
      return branches.length === 1 ? sql : `(${sql} ORDER BY ${branchOrder} LIMIT ${where.param(limit)})`;
    })
    .join(' UNION ALL ');
}

function filterWhere(
  filter: AttemptFilter,
  status: AttemptStatus | undefined = filter.status,
  values: unknown[] = [],
): Where {
  const where = new Where(values);
  const key = TIME_COLUMN[filter.timeField];
  if (status !== undefined) where.add((p) => `status = ${p(status)}`);
  if (filter.target !== undefined) where.add((p) => `target = ${p(filter.target)}`);
  if (filter.method !== undefined) where.add((p) => `method_name = ${p(filter.method)}`);
  if (filter.idempotenceToken !== undefined) where.add((p) => `idempotence_token = ${p(filter.idempotenceToken)}`);
  if (filter.from !== undefined) where.add((p) => `${key} >= ${p(filter.from)}`);
  if (filter.to !== undefined) where.add((p) => `${key} < ${p(filter.to)}`);
  return where;
}

/** The dashboard's queries for PostgreSQL; every one is served by an index of migration 4 (or 1). */
export class PostgresDashboardStore implements DashboardStore {
  constructor(
    private readonly pool: PgQueryable,
    private readonly names: PostgresNames,
  ) {}

  async dashboardAttemptSearch(search: AttemptSearch): Promise<AttemptSearchPage> {
    // Creation order is the id, except within a created_at range: walking the primary key would first pass
    // every row outside it, so a ranged page is ordered by (created_at, id) instead.
    const ranged = search.from !== undefined || search.to !== undefined;
    const order = search.timeField === 'due' ? 'due' : ranged ? 'created' : 'id';
    const key = TIME_COLUMN[search.timeField];
    const direction = search.order === 'asc' ? 'ASC' : 'DESC';
    const comparison = search.order === 'asc' ? '>' : '<';
    const cursor = search.cursor === undefined ? null : decodeSearchCursor(search.cursor);
    const values: unknown[] = [];
    const branches = branchedSelect(
      this.names.table,
      search,
      branchesOf(search, order),
      `${COLUMNS}${order === 'id' ? '' : `, ${key} AS time_key`}`,
      (where) => {
        if (!cursor) return;
        if (order === 'id') where.add((p) => `id ${comparison} ${p(cursor.id)}::bigint`);
        else where.add((p) => `(${key}, id) ${comparison} (${FROM_MICROS(p(cursor.key))}, ${p(cursor.id)}::bigint)`);
      },
      values,
      order === 'id' ? `id ${direction}` : `${key} ${direction}, id ${direction}`,
      search.limit + 1,
    );
    values.push(search.limit + 1);
    const sortKey = order === 'id' ? 'id::text' : '(extract(epoch FROM time_key) * 1000000)::bigint::text';
    const outerOrder = order === 'id' ? `id ${direction}` : `time_key ${direction}, id ${direction}`;
    const { rows } = await this.pool.query(
      `SELECT *, ${sortKey} AS sort_key FROM (${branches}) AS a ORDER BY ${outerOrder} LIMIT $${values.length}`,
      values,
    );
    const page = rows.slice(0, search.limit) as (AttemptRow & { sort_key: string })[];
    const last = page.at(-1);
    return {
      attempts: page.map(toAttempt),
      nextCursor: rows.length > search.limit && last ? encodeSearchCursor(last.sort_key, String(last.id)) : null,
    };
  }

  async dashboardAttemptCount(filter: AttemptFilter): Promise<number> {
    const where = filterWhere(filter);
    const { rows } = await this.pool.query(`SELECT count(*) AS n FROM ${this.names.table} ${where}`, where.values);
    return Number(rows[0].n);
  }

  async dashboardAttemptIds(filter: AttemptFilter, afterId: string | null, limit: number): Promise<string[]> {
    const values: unknown[] = [];
    const branches = branchedSelect(
      this.names.table,
      filter,
      branchesOf(filter, 'id'),
      'id',
      (where) => {
        if (afterId !== null) where.add((p) => `id > ${p(afterId)}`);
      },
      values,
      'id',
      limit,
    );
    values.push(limit);
    const { rows } = await this.pool.query(
      `SELECT id FROM (${branches}) AS a ORDER BY id LIMIT $${values.length}`,
      values,
    );
    return rows.map((row: { id: string }) => String(row.id));
  }

  async dashboardStatusCounts(exactUpTo: number): Promise<StatusCounts> {
    // Each count stops at the cap: a bounded range of the (status, created_at, id) index.
    const { rows } = await this.pool.query(
      `SELECT s.status, (SELECT count(*) FROM (SELECT 1 FROM ${this.names.table} WHERE status = s.status LIMIT $1) AS c) AS n
       FROM unnest($2::text[]) AS s(status)`,
      [exactUpTo + 1, ATTEMPT_STATUSES],
    );
    const counts = emptyStatusCounts();
    const estimated: AttemptStatus[] = [];
    for (const row of rows as { status: AttemptStatus; n: string }[]) {
      counts[row.status] = Number(row.n);
      if (counts[row.status] <= exactUpTo) continue;
      // Past the cap, the planner's estimate (kept fresh by autovacuum's ANALYZE) is good enough to read.
      const plan = await this.pool.query(`EXPLAIN (FORMAT JSON) SELECT 1 FROM ${this.names.table} WHERE status = $1`, [
        row.status,
      ]);
      const planRows = Number(plan.rows[0]['QUERY PLAN'][0].Plan['Plan Rows']);
      counts[row.status] = Math.max(exactUpTo + 1, planRows);
      estimated.push(row.status);
    }
    return { counts, estimated };
  }

  async dashboardOldestDueAt(): Promise<Date | null> {
    // Shaped like the hot table's due index (migration 6), so it reads one index entry.
    const { rows } = await this.pool.query(
      `SELECT COALESCE(scheduled_at, created_at) AS due_at FROM ${postgresTables(this.names).hot}
       WHERE COALESCE(scheduled_at, created_at) <= now()
       ORDER BY COALESCE(scheduled_at, created_at), id LIMIT 1`,
    );
    return rows[0] ? toDate(rows[0].due_at) : null;
  }

  async dashboardLeaseHolders(): Promise<LeaseHolder[]> {
    const { rows } = await this.pool.query(
      `SELECT lease_owner, count(*) AS n, max(lease_expires_at) AS lease_expires_at FROM ${postgresTables(this.names).hot}
       WHERE lease_owner IS NOT NULL AND lease_expires_at > now()
       GROUP BY lease_owner ORDER BY lease_owner LIMIT 100`,
    );
    return rows.map((row: { lease_owner: string; n: string; lease_expires_at: Date }) => ({
      owner: row.lease_owner,
      running: Number(row.n),
      leaseExpiresAt: toDate(row.lease_expires_at),
    }));
  }

  async dashboardCompletions(since: Date): Promise<CompletionBucket[]> {
    const { rows } = await this.pool.query(
      `SELECT date_trunc('minute', completed_at) AS minute, status, count(*) AS n
       FROM ${this.names.table} WHERE completed_at >= $1
       GROUP BY 1, 2 ORDER BY 1`,
      [since],
    );
    return rows.map((row: { minute: Date; status: CompletionBucket['status']; n: string }) => ({
      minute: row.minute,
      status: row.status,
      count: Number(row.n),
    }));
  }

  async dashboardTargetStats(since: Date | null): Promise<TargetMethodStats[]> {
    const { hot, history } = postgresTables(this.names);
    // Pending counts from the hot table (pending attempts only, so read whole); completed ones from the history,
    // within the window by completed_stats_idx alone, or all of it for "all time".
    const { rows } = await this.pool.query(
      `SELECT target, method_name, 'pending' AS status, count(*) AS n, NULL::timestamptz AS last_failure_at
       FROM ${hot} GROUP BY target, method_name
       UNION ALL
       SELECT target, method_name, status, count(*) AS n,
         max(completed_at) FILTER (WHERE status = 'failed') AS last_failure_at
       FROM ${history} ${since === null ? '' : 'WHERE completed_at >= $1'} GROUP BY target, method_name, status
       ORDER BY 1, 2`,
      since === null ? [] : [since],
    );
    return groupTargetRows(rows);
  }

  async dashboardRunNow(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query(
      `UPDATE ${postgresTables(this.names).hot} SET scheduled_at = now(), updated_at = now()
       WHERE id = ANY($1::bigint[]) AND scheduled_at > now() RETURNING id`,
      [ids],
    );
    return rows.map((row: { id: string }) => String(row.id));
  }

  async dashboardAttemptErrors(id: string, limit: number): Promise<RunError[]> {
    // A range of the errors' primary key (attempt_id, run), read backwards.
    const { rows } = await this.pool.query(
      `SELECT run, error, failed_at FROM ${postgresTables(this.names).errors}
       WHERE attempt_id = $1 ORDER BY run DESC LIMIT $2`,
      [id, limit],
    );
    return rows.map((row: { run: number; error: string; failed_at: Date | string | number }) => ({
      run: Number(row.run),
      error: row.error,
      failedAt: toDate(row.failed_at),
    }));
  }
}
