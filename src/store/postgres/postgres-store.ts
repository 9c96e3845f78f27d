import type { RegisteredMethod } from '../../core/registry.js';
import type { Attempt, ListOptions } from '../../core/types.js';
import { addListConditions } from '../attempt-conditions.js';
import type { DashboardStore } from '../dashboard-store.js';
import { derivedName, quoteIdentifier, quotePostgresTable } from '../identifiers.js';
import { numberedPlaceholder, SqlWhere } from '../sql-where.js';
import type {
  AttemptWithDue,
  FailureRecord,
  InsertResult,
  NewAttempt,
  SchemaVersion,
  Store,
  TransactionOptions,
} from '../store.js';
import { insertMany } from './insert-many.js';
import { KNOWN_METHOD, methodColumns } from './known-methods.js';
import { postgresMigrationsTableSql } from './migration-script.js';
import { type PostgresNames, postgresMigrations } from './migrations.js';
import { moveToHistory, moveToHot } from './move-sql.js';
import {
  type ErrorEvents,
  hearDeadConnections,
  ignoreError,
  type PgPoolLike,
  type PgQueryable,
  type PgTransactorLike,
} from './pg-client.js';
import { type PostgresTables, postgresTables } from './pg-names.js';
import { COLUMNS, IS_DUE, prefixed, retryAssignments, toAttempt } from './pg-row.js';
import { PostgresDashboardStore } from './postgres-dashboard-store.js';
import { PostgresRelayStore } from './postgres-relay-store.js';
import { PostgresWorkerStore } from './postgres-worker-store.js';
import { failIntoHistory, retryInHot } from './run-errors-sql.js';
import { isPostgresMissingTable, postgresSchemaVersion } from './schema-version.js';

export type { PgPoolClientLike, PgPoolLike, PgQueryable, PgTransactorLike } from './pg-client.js';

export interface PostgresStoreOptions {
  /** Default: `async_task`, a schema of the library's own (`migrate` creates it). */
  schema?: string;
  /** Default: `async_task_attempts`. */
  table?: string;
  /**
   * After an enqueue, wake listening workers with a `pg_notify` sent on the pool outside the enqueue's
   * transaction, coalesced while one is in flight. Default: true.
   */
  notify?: boolean;
}

export class PostgresStore implements Store<PgQueryable> {
  readonly dialect = 'postgres' as const;
  readonly tableName: string;
  /** @internal for the worker store */
  readonly names: PostgresNames;
  /** @internal the tables behind the attempts view */
  readonly tables: PostgresTables;
  private readonly migrationsTable: string;
  private readonly worker: PostgresWorkerStore;
  private readonly dashboard: DashboardStore;

  constructor(
    /** @internal for the worker store */
    readonly pool: PgPoolLike | PgTransactorLike,
    options: PostgresStoreOptions = {},
  ) {
    const rawSchema = options.schema ?? 'async_task';
    const rawTable = options.table ?? 'async_task_attempts';
    const schema = quoteIdentifier(rawSchema, 'schema');
    const table = `${schema}.${quotePostgresTable(rawTable)}`;
    this.names = { table, schema, rawTable, index: (suffix) => derivedName(rawTable, suffix) };
    this.tables = postgresTables(this.names);
    this.migrationsTable = `${schema}.${derivedName(rawTable, 'migrations')}`;
    this.tableName = `${rawSchema}.${rawTable}`;
    this.worker = new PostgresWorkerStore(this, { notify: options.notify ?? true });
    hearDeadConnections(pool);
    this.dashboard = new PostgresDashboardStore(pool, this.names);
  }

  async migrate(): Promise<void> {
    await this.transaction(async (tx) => {
      // One migrator at a time per table, across processes; released at commit.
      // (Selecting a value rather than the function's void: some clients, Prisma, cannot read a void column.)
      await tx.query('SELECT true AS locked FROM pg_advisory_xact_lock(hashtext($1))', [
        `async-task:migrate:${this.tableName}`,
      ]);
      // CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema exists: a migrator that
      // owns a schema a DBA made would be refused. So it runs only when the schema is missing.
      const schema = await tx.query('SELECT to_regnamespace($1) IS NOT NULL AS present', [this.names.schema]);
      if (!schema.rows[0]?.present) await tx.query(`CREATE SCHEMA IF NOT EXISTS ${this.names.schema}`);
      await tx.query(postgresMigrationsTableSql(this.migrationsTable));
      const { rows } = await tx.query(`SELECT version FROM ${this.migrationsTable}`);
      const applied = new Set(rows.map((row: { version: number }) => row.version));
      for (const migration of postgresMigrations) {
        if (applied.has(migration.version)) continue;
        await tx.query(migration.sql(this.names));
        await tx.query(`INSERT INTO ${this.migrationsTable} (version, name) VALUES ($1, $2)`, [
          migration.version,
          migration.name,
        ]);
      }
    });
  }

  isMissingTableError(error: unknown): boolean {
    return isPostgresMissingTable(error);
  }

  schemaVersion(): Promise<SchemaVersion> {
    return postgresSchemaVersion(this.pool, this.migrationsTable);
  }

  async attemptInsert(tx: PgQueryable, attempt: NewAttempt): Promise<InsertResult> {
    const { hot, keys, ids } = this.tables;
    const values = [
      attempt.target,
      attempt.methodName,
      attempt.methodArgs,
      attempt.encryptor,
      attempt.idempotenceToken,
      attempt.scheduledAt,
    ];
    if (attempt.idempotenceToken === null) {
      const { rows } = await tx.query(
        `INSERT INTO ${hot} (target, method_name, method_args, encryptor, idempotence_token, scheduled_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
        values,
      );
      this.worker.attemptsInserted();
      return { attempt: toAttempt(rows[0]), created: true };
    }
    // The token's key first: a racing transaction with the same token makes this wait for its outcome, then do nothing.
    const { rows } = await tx.query(
      `WITH key AS (
         INSERT INTO ${keys} (target, method_name, idempotence_token, id) VALUES ($1, $2, $5, nextval('${ids}'))
         ON CONFLICT DO NOTHING RETURNING id
       )
       INSERT INTO ${hot} (id, target, method_name, method_args, encryptor, idempotence_token, scheduled_at)
       SELECT key.id, $1::text, $2::text, $3::text, $4::text, $5::text, $6::timestamptz FROM key
       RETURNING ${COLUMNS}`,
      values,
    );
    if (rows.length > 0) {
      this.worker.attemptsInserted();
      return { attempt: toAttempt(rows[0]), created: true };
    }
    // A new statement: it sees the racing transaction's commit, and the attempt wherever it is now.
    const existing = await tx.query(
      `SELECT ${prefixed('a')} FROM ${keys} AS k JOIN ${this.names.table} AS a ON a.id = k.id
       WHERE k.target = $1 AND k.method_name = $2 AND k.idempotence_token = $3`,
      [attempt.target, attempt.methodName, attempt.idempotenceToken],
    );
    if (!existing.rows[0])
      throw new Error(`async-task: the idempotence key of ${attempt.idempotenceToken} names no attempt`);
    return { attempt: toAttempt(existing.rows[0]), created: false };
  }

  async attemptFindLastByTokenPrefix(target: string, method: string, prefix: string): Promise<Attempt | null> {
    // The keys' primary key narrows to this method; "C" orders by bytes.
    const { rows } = await this.pool.query(
      `SELECT ${prefixed('a')} FROM (
         SELECT id FROM ${this.tables.keys}
         WHERE target = $1 AND method_name = $2 AND left(idempotence_token, length($3)) = $3
         ORDER BY idempotence_token COLLATE "C" DESC LIMIT 1
       ) AS k JOIN ${this.names.table} AS a ON a.id = k.id`,
      [target, method, prefix],
    );
    return rows[0] ? toAttempt(rows[0]) : null;
  }

  async attemptInsertMany(tx: PgQueryable, attempts: readonly NewAttempt[]): Promise<InsertResult[]> {
    const results = await insertMany(this.names, this.tables, tx, attempts);
    if (results.some((result) => result.created)) this.worker.attemptsInserted();
    return results;
  }

  async attemptFind(id: string): Promise<Attempt | null> {
    const { rows } = await this.pool.query(`SELECT ${COLUMNS} FROM ${this.names.table} WHERE id = $1`, [id]);
    return rows[0] ? toAttempt(rows[0]) : null;
  }

  async attemptFindWithDue(id: string): Promise<AttemptWithDue | null> {
    const { rows } = await this.pool.query(`SELECT ${COLUMNS}, ${IS_DUE} FROM ${this.names.table} WHERE id = $1`, [id]);
    return rows[0] ? { attempt: toAttempt(rows[0]), due: rows[0].due } : null;
  }

  async attemptList(options: ListOptions & { limit: number }): Promise<Attempt[]> {
    const where = addListConditions(new SqlWhere(numberedPlaceholder), options, { id: (id) => id });
    const limit = where.param(options.limit);
    const { rows } = await this.pool.query(
      `SELECT ${COLUMNS} FROM ${this.names.table} ${where} ORDER BY id DESC LIMIT ${limit}`,
      where.values,
    );
    return rows.map(toAttempt);
  }

  async attemptListDueIds(limit: number, methods: readonly RegisteredMethod[]): Promise<string[]> {
    const { rows } = await this.pool.query(
      `SELECT id FROM ${this.tables.hot}
       WHERE COALESCE(scheduled_at, created_at) <= now() AND ${KNOWN_METHOD('$2', '$3')}
       ORDER BY COALESCE(scheduled_at, created_at), id LIMIT $1`,
      [limit, ...methodColumns(methods)],
    );
    return rows.map((row: { id: string }) => String(row.id));
  }

  async attemptCountRun(id: string): Promise<Attempt | null> {
    const { rows } = await this.pool.query(
      `UPDATE ${this.tables.hot} SET num_attempts = num_attempts + 1, updated_at = now()
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [id],
    );
    return rows[0] ? toAttempt(rows[0]) : null;
  }

  async transaction<T>(fn: (tx: PgQueryable) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const pool = this.pool;
    // An ORM's transaction owns its connection: it commits, rolls back and releases it.
    if (!('connect' in pool)) return pool.transaction(fn);
    const client = await pool.connect();
    let broken: Error | boolean = false;
    // A connection that dies between two queries (a server restart) emits 'error'; unheard, that would
    // crash the process. Heard here, the transaction's next query fails instead and the client is dropped.
    const onError = (error: Error) => {
      broken = error;
    };
    const events = client as Partial<ErrorEvents>;
    events.on?.('error', onError);
    try {
      await client.query('BEGIN');
      try {
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        if (options.abandonOnError?.(error)) {
          // No ROLLBACK: a query the abandoned target sends meanwhile would queue behind it and run in
          // autocommit. Dropping the connection instead makes the server roll back, and strays fail.
          broken = true;
          throw error;
        }
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw error;
      }
    } finally {
      events.off?.('error', onError);
      // A dead connection can still report (the socket closing): heard by nobody, that would crash the process.
      if (broken) events.on?.('error', ignoreError);
      // A client whose rollback failed, or that a timed-out target may still use, is dropped, not reused.
      client.release(broken);
    }
  }

  async attemptLock(tx: PgQueryable, id: string): Promise<AttemptWithDue | null> {
    const { hot, history } = this.tables;
    // The row may move between the tables while this waits for its lock (a worker completes it, an operator
    // retries it): a row lock that finds it gone looks again, in a new statement that sees where it went.
    for (let look = 0; look < 3; look++) {
      for (const table of [hot, history]) {
        const { rows } = await tx.query(`SELECT ${COLUMNS}, ${IS_DUE} FROM ${table} WHERE id = $1 FOR UPDATE`, [id]);
        if (rows[0]) return { attempt: toAttempt(rows[0]), due: rows[0].due };
      }
      const { rows } = await tx.query(`SELECT 1 FROM ${this.names.table} WHERE id = $1`, [id]);
      if (rows.length === 0) return null;
    }
    return null;
  }

  async attemptMarkSucceeded(tx: PgQueryable, id: string): Promise<Attempt> {
    const { rows } = await tx.query(
      moveToHistory(this.tables, `DELETE FROM ${this.tables.hot} WHERE id = $1 RETURNING *`, `'succeeded'`),
      [id],
    );
    return toAttempt(rows[0]);
  }

  async attemptComplete(tx: PgQueryable, id: string, status: 'failed' | 'expired'): Promise<Attempt> {
    const { rows } = await tx.query(
      moveToHistory(this.tables, `DELETE FROM ${this.tables.hot} WHERE id = $1 RETURNING *`, '$2::text'),
      [id, status],
    );
    if (rows[0]) return toAttempt(rows[0]);
    // Already completed (the caller holds its lock): a change of outcome within the history.
    const completed = await tx.query(
      `UPDATE ${this.tables.history} SET status = $2, completed_at = now(), updated_at = now()
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, status],
    );
    return toAttempt(completed.rows[0]);
  }

  async attemptRequeue(tx: PgQueryable, id: string): Promise<Attempt> {
    const { rows } = await tx.query(moveToHot(this.tables), [id]);
    if (rows[0]) {
      this.worker.attemptsInserted();
      return toAttempt(rows[0]);
    }
    const pending = await tx.query(
      `UPDATE ${this.tables.hot} SET scheduled_at = now(), updated_at = now(), lease_owner = NULL, lease_expires_at = NULL
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [id],
    );
    return toAttempt(pending.rows[0]);
  }

  async attemptRecordFailure(id: string, failure: FailureRecord): Promise<Attempt | null> {
    const { hot } = this.tables;
    // The run's error enters the errors table in the same statement (run-errors-sql.ts).
    const { rows } =
      failure.retryInMs === null
        ? await this.pool.query(
            failIntoHistory(this.tables, `DELETE FROM ${hot} WHERE id = $1 RETURNING *`, '$2::text'),
            [id, failure.lastError],
          )
        : await this.pool.query(
            retryInHot(this.tables, `UPDATE ${hot} SET ${retryAssignments('$2', '$3')} WHERE id = $1`),
            [id, failure.lastError, failure.retryInMs],
          );
    return rows[0] ? toAttempt(rows[0]) : null;
  }

  dashboardQueries(): DashboardStore {
    return this.dashboard;
  }

  async close(): Promise<void> {
    // The pool is the application's: it closes it.
  }

  workerStore(): PostgresWorkerStore {
    return this.worker;
  }

  relayStore(): PostgresRelayStore {
    return new PostgresRelayStore(this);
  }
}
