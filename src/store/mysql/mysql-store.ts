import type { RegisteredMethod } from '../../core/registry.js';
import type { Attempt, ListOptions } from '../../core/types.js';
import type { DashboardStore } from '../dashboard-store.js';
import type {
  AttemptWithDue,
  FailureRecord,
  InsertResult,
  NewAttempt,
  SchemaVersion,
  Store,
  TransactionOptions,
} from '../store.js';
import { insertAttempt, insertUntokened } from './insert.js';
import { knownMethod } from './known-methods.js';
import { isMysqlMissingTable, migrateMysql, mysqlSchemaVersion } from './migrate.js';
import { moveToHistory, moveToHot } from './move-sql.js';
import { type MysqlPoolConnectionLike, type MysqlPoolLike, type MysqlQueryable, run } from './mysql-client.js';
import { MysqlDashboardStore } from './mysql-dashboard-store.js';
import { type MysqlTables, mysqlTables } from './mysql-names.js';
import { MysqlRelayStore } from './mysql-relay-store.js';
import { type AttemptRow, columns, integer, microsParam, NOW, RETRY_ASSIGNMENTS, toAttempt } from './mysql-row.js';
import { inOwnTransaction } from './mysql-transaction.js';
import { MysqlWorkerStore } from './mysql-worker-store.js';
import { writeRunError } from './run-errors-sql.js';

export type { MysqlPoolConnectionLike, MysqlPoolLike, MysqlQueryable } from './mysql-client.js';

export interface MysqlStoreOptions {
  /** Default: `async_task_attempts` (a view; the tables are `<table>_hot`, `_history`, `_keys`, `_migrations`). */
  table?: string;
  /** Default: the connection's database. */
  database?: string;
}

/** Whether the row is due by the database's clock, as a column `due` (1 or 0). */
const IS_DUE = `(scheduled_at IS NULL OR scheduled_at <= ${NOW}) AS due`;

type DueRow = AttemptRow & { due: number | string };

/**
 * MySQL 8.0+ and MariaDB 10.6+ store, over a `mysql2/promise` pool that stays the application's. Pending attempts
 * live in a small hot table, completed ones in the history (entered once, at the outcome), tokens in a keys table.
 * The library reads the tables directly (a UNION view is not narrowed by MySQL's planner).
 */
export class MysqlStore implements Store<MysqlPoolConnectionLike, MysqlQueryable> {
  readonly dialect = 'mysql' as const;
  readonly tableName: string;
  /** @internal for the worker, relay and dashboard stores */
  readonly tables: MysqlTables;
  private readonly worker: MysqlWorkerStore;
  private readonly dashboard: DashboardStore;

  constructor(
    /** @internal for the worker store */
    readonly pool: MysqlPoolLike,
    options: MysqlStoreOptions = {},
  ) {
    this.tables = mysqlTables(options.table ?? 'async_task_attempts', options.database);
    this.tableName = this.tables.raw;
    this.worker = new MysqlWorkerStore(pool, this.tables);
    this.dashboard = new MysqlDashboardStore(pool, this.tables);
  }

  migrate(): Promise<void> {
    return migrateMysql(this.pool, this.tables);
  }

  schemaVersion(): Promise<SchemaVersion> {
    return mysqlSchemaVersion(this.pool, this.tables);
  }

  isMissingTableError(error: unknown): boolean {
    return isMysqlMissingTable(error);
  }

  async attemptInsert(tx: MysqlQueryable, attempt: NewAttempt): Promise<InsertResult> {
    const result = await insertAttempt(tx, this.tables, attempt);
    if (result.created) this.worker.attemptsInserted();
    return result;
  }

  /**
   * Row by row, except that a run of attempts without tokens is one multi-row insert where the server numbers a
   * statement's rows consecutively. Ids ascend in input order either way.
   */
  async attemptInsertMany(tx: MysqlQueryable, attempts: readonly NewAttempt[]): Promise<InsertResult[]> {
    const results: InsertResult[] = [];
    const bulk = attempts.length > 1 && (await this.consecutiveIds());
    for (let index = 0; index < attempts.length; ) {
      let end = index;
      while (bulk && end < attempts.length && attempts[end]?.idempotenceToken === null) end++;
      if (end - index > 1) {
        results.push(...(await insertUntokened(tx, this.tables, attempts.slice(index, end))));
        index = end;
      } else {
        results.push(await insertAttempt(tx, this.tables, attempts[index] as NewAttempt));
        index++;
      }
    }
    if (results.some((result) => result.created)) this.worker.attemptsInserted();
    return results;
  }

  private consecutive: Promise<boolean> | undefined;

  /** Whether one INSERT's rows get consecutive ids: `innodb_autoinc_lock_mode` 0 or 1 (read once). */
  private consecutiveIds(): Promise<boolean> {
    this.consecutive ??= run<{ mode: number | string }[]>(this.pool, 'SELECT @@innodb_autoinc_lock_mode AS mode').then(
      ([row]) => Number(row?.mode) <= 1,
      () => false,
    );
    return this.consecutive;
  }

  /** One attempt by id from either table (`extra`: more columns). */
  private async findRow(db: MysqlQueryable, id: string, extra = ''): Promise<DueRow | null> {
    const { hot, history } = this.tables;
    const rows = await run<DueRow[]>(
      db,
      `SELECT ${columns()}${extra} FROM ${hot} WHERE id = ? UNION ALL SELECT ${columns()}${extra} FROM ${history} WHERE id = ?`,
      [id, id],
    );
    return rows[0] ?? null;
  }

  async attemptFind(id: string): Promise<Attempt | null> {
    const row = await this.findRow(this.pool, id);
    return row ? toAttempt(row) : null;
  }

  async attemptFindWithDue(id: string): Promise<AttemptWithDue | null> {
    const row = await this.findRow(this.pool, id, `, ${IS_DUE}`);
    return row ? { attempt: toAttempt(row), due: Number(row.due) === 1 } : null;
  }

  async attemptFindLastByTokenPrefix(target: string, method: string, prefix: string): Promise<Attempt | null> {
    // utf8mb4_bin sorts by bytes; the prefix is compared as text, never as a LIKE pattern. The keys' primary key
    // narrows to this method.
    const [key] = await run<{ id: string }[]>(
      this.pool,
      `SELECT CAST(id AS CHAR) AS id FROM ${this.tables.keys}
       WHERE target = ? AND method_name = ? AND LEFT(idempotence_token, CHAR_LENGTH(?)) = ?
       ORDER BY idempotence_token DESC LIMIT 1`,
      [target, method, prefix, prefix],
    );
    return key ? this.attemptFind(key.id) : null;
  }

  async attemptList(options: ListOptions & { limit: number }): Promise<Attempt[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      where.push(sql);
      values.push(value);
    };
    if (options.target !== undefined) add('target = ?', options.target);
    if (options.method !== undefined) add('method_name = ?', options.method);
    if (options.idempotenceToken !== undefined) add('idempotence_token = ?', options.idempotenceToken);
    if (options.cursor !== undefined) add('id < ?', options.cursor);
    const limit = integer(options.limit);
    const branch = (table: string, status?: string) => {
      const parts = status === undefined ? where : [...where, 'status = ?'];
      const sql = `(SELECT ${columns()}, id AS sort_id FROM ${table} AS t ${parts.length > 0 ? `WHERE ${parts.join(' AND ')}` : ''}
        ORDER BY t.id DESC LIMIT ${limit})`;
      return { sql, values: status === undefined ? values : [...values, status] };
    };
    const status = options.status;
    const branches =
      status === undefined
        ? [branch(this.tables.hot), branch(this.tables.history)]
        : status === 'pending'
          ? [branch(this.tables.hot)]
          : [branch(this.tables.history, status)];
    const rows = await run<AttemptRow[]>(
      this.pool,
      `${branches.map((part) => part.sql).join(' UNION ALL ')} ORDER BY sort_id DESC LIMIT ${limit}`,
      branches.flatMap((part) => part.values),
    );
    return rows.map(toAttempt);
  }

  async attemptListDueIds(limit: number, methods: readonly RegisteredMethod[]): Promise<string[]> {
    if (methods.length === 0) return [];
    const known = knownMethod(methods);
    const rows = await run<{ id: string }[]>(
      this.pool,
      `SELECT CAST(t.id AS CHAR) AS id FROM ${this.tables.hot} AS t WHERE due_at <= ${NOW} AND ${known.sql}
       ORDER BY t.due_at, t.id LIMIT ${integer(limit)}`,
      known.values,
    );
    return rows.map((row) => row.id);
  }

  async attemptCountRun(id: string): Promise<Attempt | null> {
    return inOwnTransaction(this.pool, async (tx) => {
      const updated = await run<{ affectedRows: number }>(
        tx,
        `UPDATE ${this.tables.hot} SET num_attempts = num_attempts + 1, updated_at = ${NOW} WHERE id = ?`,
        [id],
      );
      if (updated.affectedRows === 0) return null;
      const rows = await run<AttemptRow[]>(tx, `SELECT ${columns()} FROM ${this.tables.hot} WHERE id = ?`, [id]);
      return rows[0] ? toAttempt(rows[0]) : null;
    });
  }

  transaction<T>(fn: (tx: MysqlPoolConnectionLike) => Promise<T>, options?: TransactionOptions): Promise<T> {
    return inOwnTransaction(this.pool, fn, options);
  }

  async attemptLock(tx: MysqlQueryable, id: string): Promise<AttemptWithDue | null> {
    // The row may move between the tables while this waits for its lock (a worker completes it, an operator
    // retries it): a lock that finds it gone looks in the other table, which a locking read sees as committed.
    for (let look = 0; look < 3; look++) {
      for (const table of [this.tables.hot, this.tables.history]) {
        const rows = await run<DueRow[]>(tx, `SELECT ${columns()}, ${IS_DUE} FROM ${table} WHERE id = ? FOR UPDATE`, [
          id,
        ]);
        if (rows[0]) return { attempt: toAttempt(rows[0]), due: Number(rows[0].due) === 1 };
      }
      if (!(await this.findRow(tx, id))) return null;
    }
    return null;
  }

  private async readHistory(tx: MysqlQueryable, id: string): Promise<Attempt> {
    const rows = await run<AttemptRow[]>(tx, `SELECT ${columns()} FROM ${this.tables.history} WHERE id = ?`, [id]);
    return toAttempt(rows[0] as AttemptRow);
  }

  async attemptMarkSucceeded(tx: MysqlQueryable, id: string): Promise<Attempt> {
    await moveToHistory(tx, this.tables, [id], 'succeeded');
    return this.readHistory(tx, id);
  }

  async attemptComplete(tx: MysqlQueryable, id: string, status: 'failed' | 'expired'): Promise<Attempt> {
    const inHot = await run<unknown[]>(tx, `SELECT id FROM ${this.tables.hot} WHERE id = ? FOR UPDATE`, [id]);
    if (inHot.length > 0) await moveToHistory(tx, this.tables, [id], status);
    else {
      // Already completed (the caller holds its lock): a change of outcome within the history.
      await run(
        tx,
        `UPDATE ${this.tables.history} SET status = ?, completed_at = ${NOW}, updated_at = ${NOW} WHERE id = ?`,
        [status, id],
      );
    }
    return this.readHistory(tx, id);
  }

  async attemptRequeue(tx: MysqlQueryable, id: string): Promise<Attempt> {
    if (await moveToHot(tx, this.tables, id)) this.worker.attemptsInserted();
    else {
      await run(
        tx,
        `UPDATE ${this.tables.hot} SET scheduled_at = ${NOW}, updated_at = ${NOW}, lease_owner = NULL,
           lease_expires_at = NULL WHERE id = ?`,
        [id],
      );
    }
    const rows = await run<AttemptRow[]>(tx, `SELECT ${columns()} FROM ${this.tables.hot} WHERE id = ?`, [id]);
    return toAttempt(rows[0] as AttemptRow);
  }

  attemptRecordFailure(id: string, failure: FailureRecord): Promise<Attempt | null> {
    return inOwnTransaction(this.pool, async (tx) => {
      const held = await run<{ num_attempts: number }[]>(
        tx,
        `SELECT num_attempts FROM ${this.tables.hot} WHERE id = ? FOR UPDATE`,
        [id],
      );
      if (held[0] === undefined) return null;
      // The run's error, in the failure's transaction: the row is locked, its count is this run's number.
      await writeRunError(tx, this.tables, id, Number(held[0].num_attempts), failure.lastError);
      if (failure.retryInMs === null) {
        await moveToHistory(tx, this.tables, [id], 'failed', '?', [failure.lastError]);
        return this.readHistory(tx, id);
      }
      await run(tx, `UPDATE ${this.tables.hot} SET ${RETRY_ASSIGNMENTS} WHERE id = ?`, [
        failure.lastError,
        microsParam(failure.retryInMs),
        id,
      ]);
      const rows = await run<AttemptRow[]>(tx, `SELECT ${columns()} FROM ${this.tables.hot} WHERE id = ?`, [id]);
      return toAttempt(rows[0] as AttemptRow);
    });
  }

  dashboardQueries(): DashboardStore {
    return this.dashboard;
  }

  async close(): Promise<void> {
    // The pool is the application's: it ends it.
  }

  workerStore(): MysqlWorkerStore {
    return this.worker;
  }

  relayStore(): MysqlRelayStore {
    return new MysqlRelayStore(this.pool, this.tables);
  }
}
