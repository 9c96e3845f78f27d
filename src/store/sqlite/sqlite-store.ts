import type { RegisteredMethod } from '../../core/registry.js';
import type { Attempt, ListOptions } from '../../core/types.js';
import { addListConditions } from '../attempt-conditions.js';
import type { DashboardStore } from '../dashboard-store.js';
import { derivedName, quoteIdentifier } from '../identifiers.js';
import { positionalPlaceholder, SqlWhere } from '../sql-where.js';
import type {
  AttemptWithDue,
  FailureRecord,
  InsertResult,
  NewAttempt,
  SchemaVersion,
  Store,
  TransactionOptions,
} from '../store.js';
import { KNOWN_METHOD, methodKeys } from './known-methods.js';
import { sqliteMigrationsTableSql } from './migration-script.js';
import { type SqliteNames, sqliteMigrations } from './migrations.js';
import { inWriteTransaction, writeRunError } from './run-errors-sql.js';
import { isSqliteMissingTable, sqliteSchemaVersion } from './schema-version.js';
import { Mutex, type SqliteDatabaseLike, type SqliteStatementLike, whenNotBusy } from './sqlite-client.js';
import { SqliteDashboardStore } from './sqlite-dashboard-store.js';
import { SqliteRelayStore } from './sqlite-relay-store.js';
import { type AttemptRow, COLUMNS, toAttempt } from './sqlite-row.js';
import { SqliteWorkerStore } from './sqlite-worker-store.js';

export type { SqliteDatabaseLike, SqliteStatementLike } from './sqlite-client.js';

export interface SqliteStoreOptions {
  /** Default: `async_task_attempts`. */
  table?: string;
  /** How long a connection of the library waits for another writer, in ms. Default: 5000. */
  busyTimeoutMs?: number;
}

/**
 * SQLite store. The application's connection is used only for `enqueue` (inside its transaction).
 * The library writes on a connection of its own to the same file, one transaction at a time
 * (SQLite has one writer), and reads on another, so a long perform never blocks reads.
 * An in-memory database has only one connection: everything shares it (fit for tests only).
 */
export class SqliteStore implements Store<SqliteDatabaseLike> {
  readonly dialect = 'sqlite' as const;
  readonly tableName: string;
  /** @internal for the worker store, like the other non-private members below */
  readonly names: SqliteNames;
  private readonly migrationsTable: string;
  writer: SqliteDatabaseLike;
  readonly reader: SqliteDatabaseLike;
  private readonly openConnection: (() => SqliteDatabaseLike) | null;
  readonly writeLock = new Mutex();
  readonly busyTimeoutMs: number;
  private readonly worker: SqliteWorkerStore;
  private readonly statements = new WeakMap<SqliteDatabaseLike, Map<string, SqliteStatementLike>>();
  private readonly dashboard: DashboardStore;
  /** Hot statements' text, built once: the statement cache is keyed by it. */
  private readonly sql: {
    insert: string;
    insertMany: string;
    insertWithToken: string;
    findByToken: string;
    findById: string;
  };

  constructor(appDatabase: SqliteDatabaseLike, options: SqliteStoreOptions = {}) {
    const rawTable = options.table ?? 'async_task_attempts';
    this.names = { table: quoteIdentifier(rawTable, 'table'), index: (suffix) => derivedName(rawTable, suffix) };
    this.migrationsTable = derivedName(rawTable, 'migrations');
    this.tableName = rawTable;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    if (appDatabase.memory) {
      this.openConnection = null;
      this.writer = appDatabase;
      this.reader = appDatabase;
    } else {
      const Database = appDatabase.constructor as new (
        filename: string,
        options?: { timeout?: number },
      ) => SqliteDatabaseLike;
      // No synchronous busy wait on our connections: see whenNotBusy.
      this.openConnection = () => {
        const connection = new Database(appDatabase.name, { timeout: 0 });
        // Our own connections only (the application's keeps its settings): a savepoint's or a sort's
        // temporary pages stay in memory instead of a temp file.
        connection.pragma('temp_store = MEMORY');
        return connection;
      };
      this.writer = this.openConnection();
      this.reader = this.openConnection();
    }
    const insert = `INSERT INTO ${this.names.table}
      (target, method_name, method_args, encryptor, idempotence_token, scheduled_at, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;
    this.sql = {
      insert,
      // Text and integers keep their exact values through JSON; the row order is the array's.
      insertMany: `INSERT INTO ${this.names.table}
      (target, method_name, method_args, encryptor, scheduled_at, created_at, updated_at)
      SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]'),
        json_extract(value, '$[4]'), ?, ?
      FROM json_each(?) ORDER BY key`,
      insertWithToken: `${insert} ON CONFLICT (target, method_name, idempotence_token) WHERE idempotence_token IS NOT NULL
       DO NOTHING`,
      findByToken: `SELECT ${COLUMNS} FROM ${this.names.table}
       WHERE target = ? AND method_name = ? AND idempotence_token = ?`,
      findById: `SELECT ${COLUMNS} FROM ${this.names.table} WHERE id = ?`,
    };
    this.worker = new SqliteWorkerStore(this, appDatabase.memory ? `:memory:${Math.random()}` : appDatabase.name);
    this.dashboard = new SqliteDashboardStore(
      () => this.reader,
      this.names,
      (fn) => this.writeLock.run(() => this.write(() => fn(this.writer))),
    );
  }

  statement(db: SqliteDatabaseLike, sql: string): SqliteStatementLike {
    let cache = this.statements.get(db);
    if (!cache) {
      cache = new Map();
      this.statements.set(db, cache);
    }
    let statement = cache.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  }

  one(db: SqliteDatabaseLike, sql: string, ...params: unknown[]): Attempt | null {
    const row = this.statement(db, sql).get(...params) as AttemptRow | undefined;
    return row ? toAttempt(row) : null;
  }

  async migrate(): Promise<void> {
    await this.writeLock.run(async () => {
      const db = this.writer;
      if (!db.memory) await whenNotBusy(() => db.pragma('journal_mode = WAL'), this.busyTimeoutMs);
      // IMMEDIATE takes the write lock first: a second migrator waits, then sees the work done.
      await whenNotBusy(() => db.exec('BEGIN IMMEDIATE'), this.busyTimeoutMs);
      try {
        db.exec(sqliteMigrationsTableSql(this.migrationsTable));
        const applied = new Set(
          (db.prepare(`SELECT version FROM ${this.migrationsTable}`).all() as { version: number }[]).map(
            (row) => row.version,
          ),
        );
        for (const migration of sqliteMigrations) {
          if (applied.has(migration.version)) continue;
          db.exec(migration.sql(this.names));
          db.prepare(`INSERT INTO ${this.migrationsTable} (version, name, applied_at) VALUES (?, ?, ?)`).run(
            migration.version,
            migration.name,
            Date.now(),
          );
        }
        db.exec('COMMIT');
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  isMissingTableError(error: unknown): boolean {
    return isSqliteMissingTable(error);
  }

  async schemaVersion(): Promise<SchemaVersion> {
    return sqliteSchemaVersion(this.reader, this.migrationsTable);
  }

  attemptInsertSync(tx: SqliteDatabaseLike, attempt: NewAttempt): InsertResult {
    const result = this.insertSync(tx, attempt);
    if (result.created) this.worker.attemptsInserted();
    return result;
  }

  private insertSync(tx: SqliteDatabaseLike, attempt: NewAttempt): InsertResult {
    const now = Date.now();
    const values = [
      attempt.target,
      attempt.methodName,
      attempt.methodArgs,
      attempt.encryptor,
      attempt.idempotenceToken,
      attempt.scheduledAt?.getTime() ?? null,
      now,
      now,
    ];
    // No RETURNING: SQLite runs it like a trigger, which makes every insert open a statement journal (a temp
    // file per row inside a bulk transaction). The new row is known already, but for its id.
    const sql = attempt.idempotenceToken === null ? this.sql.insert : this.sql.insertWithToken;
    const result = this.statement(tx, sql).run(...values);
    if (result.changes === 1) {
      const row = newRow(result.lastInsertRowid, attempt, now);
      return { attempt: toAttempt(row), created: true };
    }
    const existing = this.one(tx, this.sql.findByToken, attempt.target, attempt.methodName, attempt.idempotenceToken);
    return { attempt: existing as Attempt, created: false };
  }

  async attemptInsertMany(tx: SqliteDatabaseLike, attempts: readonly NewAttempt[]): Promise<InsertResult[]> {
    return this.attemptInsertManySync(tx, attempts);
  }

  /**
   * Attempts without a token in one statement (`INSERT … SELECT FROM json_each`): one statement journal for
   * the lot instead of a statement per row. SQLite has one writer and AUTOINCREMENT hands out ids one above
   * the last, so the rows get consecutive ids ending at the statement's last rowid. With a token: row by
   * row, since each may find its attempt already there.
   */
  attemptInsertManySync(tx: SqliteDatabaseLike, attempts: readonly NewAttempt[]): InsertResult[] {
    if (attempts.length < 2 || attempts.some((attempt) => attempt.idempotenceToken !== null)) {
      return attempts.map((attempt) => this.attemptInsertSync(tx, attempt));
    }
    const now = Date.now();
    const rows = attempts.map((attempt) => [
      attempt.target,
      attempt.methodName,
      attempt.methodArgs,
      attempt.encryptor,
      attempt.scheduledAt?.getTime() ?? null,
    ]);
    const result = this.statement(tx, this.sql.insertMany).run(now, now, JSON.stringify(rows));
    if (result.changes !== attempts.length) {
      throw new Error(`inserted ${result.changes} of ${attempts.length} attempts`);
    }
    const first = BigInt(result.lastInsertRowid) - BigInt(attempts.length - 1);
    this.worker.attemptsInserted();
    return attempts.map((attempt, index) => ({
      attempt: toAttempt(newRow(first + BigInt(index), attempt, now)),
      created: true,
    }));
  }

  async attemptInsert(tx: SqliteDatabaseLike, attempt: NewAttempt): Promise<InsertResult> {
    return this.attemptInsertSync(tx, attempt);
  }

  async attemptFind(id: string): Promise<Attempt | null> {
    return this.one(this.reader, this.sql.findById, BigInt(id));
  }

  async attemptFindLastByTokenPrefix(target: string, method: string, prefix: string): Promise<Attempt | null> {
    // Text compares by bytes here, so the prefix is a range: the unique (target, method_name,
    // idempotence_token) index finds the last row without reading the others.
    const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    return this.one(
      this.reader,
      `SELECT ${COLUMNS} FROM ${this.names.table}
       WHERE target = ? AND method_name = ? AND idempotence_token >= ? AND idempotence_token < ?
       ORDER BY idempotence_token DESC LIMIT 1`,
      target,
      method,
      prefix,
      end,
    );
  }

  async attemptFindWithDue(id: string): Promise<AttemptWithDue | null> {
    const attempt = await this.attemptFind(id);
    return attempt ? { attempt, due: isDue(attempt) } : null;
  }

  async attemptList(options: ListOptions & { limit: number }): Promise<Attempt[]> {
    const where = addListConditions(new SqlWhere(positionalPlaceholder), options, { id: BigInt });
    // The history's partial indexes serve a completed status only when the query names their condition.
    const { status } = options;
    if (status !== undefined) where.add(() => (status === 'pending' ? "status = 'pending'" : "status <> 'pending'"));
    const rows = this.statement(
      this.reader,
      `SELECT ${COLUMNS} FROM ${this.names.table} ${where} ORDER BY id DESC LIMIT ?`,
    ).all(...where.values, options.limit) as AttemptRow[];
    return rows.map(toAttempt);
  }

  async attemptListDueIds(limit: number, methods: readonly RegisteredMethod[]): Promise<string[]> {
    const rows = this.statement(
      this.reader,
      `SELECT id FROM ${this.names.table}
       WHERE status = 'pending' AND COALESCE(scheduled_at, created_at) <= ? AND ${KNOWN_METHOD}
       ORDER BY COALESCE(scheduled_at, created_at), id LIMIT ?`,
    ).all(Date.now(), methodKeys(methods), limit) as { id: number }[];
    return rows.map((row) => String(row.id));
  }

  attemptCountRun(id: string): Promise<Attempt | null> {
    return this.writeLock.run(() =>
      this.write(() =>
        this.one(
          this.writer,
          `UPDATE ${this.names.table} SET num_attempts = num_attempts + 1, updated_at = ?
         WHERE id = ? AND status = 'pending' RETURNING ${COLUMNS}`,
          Date.now(),
          BigInt(id),
        ),
      ),
    );
  }

  write<T>(fn: () => T): Promise<T> {
    return whenNotBusy(fn, this.busyTimeoutMs);
  }

  transaction<T>(fn: (tx: SqliteDatabaseLike) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    return this.writeLock.run(async () => {
      const db = this.writer;
      await this.write(() => this.statement(db, 'BEGIN IMMEDIATE').run());
      try {
        const result = await fn(db);
        this.statement(db, 'COMMIT').run();
        return result;
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        if (options.abandonOnError?.(error) && this.openConnection) {
          // Whoever still holds the old connection gets "connection is not open" instead of writing here.
          this.statements.delete(db);
          db.close();
          this.writer = this.openConnection();
        }
        throw error;
      }
    });
  }

  async attemptLock(tx: SqliteDatabaseLike, id: string): Promise<AttemptWithDue | null> {
    // BEGIN IMMEDIATE already holds the database's single write lock: no row lock is needed.
    const attempt = this.one(tx, this.sql.findById, BigInt(id));
    return attempt ? { attempt, due: isDue(attempt) } : null;
  }

  async attemptMarkSucceeded(tx: SqliteDatabaseLike, id: string): Promise<Attempt> {
    const now = Date.now();
    return this.one(
      tx,
      `UPDATE ${this.names.table} SET status = 'succeeded', completed_at = ?, updated_at = ?,
         lease_owner = NULL, lease_expires_at = NULL
       WHERE id = ? RETURNING ${COLUMNS}`,
      now,
      now,
      BigInt(id),
    ) as Attempt;
  }

  async attemptComplete(tx: SqliteDatabaseLike, id: string, status: 'failed' | 'expired'): Promise<Attempt> {
    const now = Date.now();
    return this.one(
      tx,
      `UPDATE ${this.names.table} SET status = ?, completed_at = ?, updated_at = ?,
         lease_owner = NULL, lease_expires_at = NULL
       WHERE id = ? RETURNING ${COLUMNS}`,
      status,
      now,
      now,
      BigInt(id),
    ) as Attempt;
  }

  async attemptRequeue(tx: SqliteDatabaseLike, id: string): Promise<Attempt> {
    const now = Date.now();
    return this.one(
      tx,
      `UPDATE ${this.names.table} SET status = 'pending', scheduled_at = ?, completed_at = NULL, updated_at = ?,
         lease_owner = NULL, lease_expires_at = NULL
       WHERE id = ? RETURNING ${COLUMNS}`,
      now,
      now,
      BigInt(id),
    ) as Attempt;
  }

  attemptRecordFailure(id: string, failure: FailureRecord): Promise<Attempt | null> {
    return this.writeLock.run(() =>
      this.write(() => {
        const now = Date.now();
        const failed = failure.retryInMs === null;
        const db = this.writer;
        // The failure and its run's error in one transaction.
        return inWriteTransaction(this, db, () => {
          const row = this.statement(
            db,
            `UPDATE ${this.names.table} SET last_error = ?, updated_at = ?, lease_owner = NULL, lease_expires_at = NULL,
             status = CASE WHEN ? THEN 'failed' ELSE status END,
             completed_at = CASE WHEN ? THEN ? ELSE completed_at END,
             scheduled_at = CASE WHEN ? THEN scheduled_at ELSE ? END
           WHERE id = ? AND status = 'pending' RETURNING ${COLUMNS}`,
          ).get(
            failure.lastError,
            now,
            failed ? 1 : 0,
            failed ? 1 : 0,
            now,
            failed ? 1 : 0,
            now + (failure.retryInMs ?? 0),
            BigInt(id),
          ) as AttemptRow | undefined;
          if (!row) return null;
          writeRunError(this, db, this.names.index('errors'), row, now);
          return toAttempt(row);
        });
      }),
    );
  }

  dashboardQueries(): DashboardStore {
    return this.dashboard;
  }

  async close(): Promise<void> {
    await this.writeLock.run(() => {
      if (this.writer !== this.reader) {
        this.writer.close();
        this.reader.close();
      }
    });
  }

  workerStore(): SqliteWorkerStore {
    return this.worker;
  }

  relayStore(): SqliteRelayStore {
    return new SqliteRelayStore(this);
  }
}

/** An unreadable due time counts as due, so that performing it records why it cannot run. */
function isDue(attempt: Attempt): boolean {
  return attempt.scheduledAt === null || !(attempt.scheduledAt.getTime() > Date.now());
}

/** The row an insert of `attempt` just wrote, as SQLite's defaults fill it in. */
function newRow(id: number | bigint, attempt: NewAttempt, now: number): AttemptRow {
  return {
    id,
    idempotence_token: attempt.idempotenceToken,
    status: 'pending',
    target: attempt.target,
    method_name: attempt.methodName,
    method_args: attempt.methodArgs,
    encryptor: attempt.encryptor,
    num_attempts: 0,
    scheduled_at: attempt.scheduledAt?.getTime() ?? null,
    completed_at: null,
    created_at: now,
    updated_at: now,
    last_error: null,
    lease_owner: null,
    lease_expires_at: null,
  };
}
