import type { RegisteredMethod } from '../core/registry.js';
import type { Attempt, AttemptStatus, ListOptions } from '../core/types.js';
import type { DashboardStore } from './dashboard-store.js';
import type { RelayStore } from './relay-store.js';
import type { WorkerStore } from './worker-store.js';

/** The row values `attemptInsert` writes; everything else takes its default. */
export interface NewAttempt {
  readonly target: string;
  readonly methodName: string;
  readonly methodArgs: string;
  readonly encryptor: string;
  readonly idempotenceToken: string | null;
  readonly scheduledAt: Date | null;
}

export interface InsertResult {
  readonly attempt: Attempt;
  /** false when an attempt with the same (target, method, idempotence token) already existed. */
  readonly created: boolean;
}

/** An attempt read for performing, with whether it is due by the database's clock. */
export interface AttemptWithDue {
  readonly attempt: Attempt;
  readonly due: boolean;
}

export interface FailureRecord {
  readonly lastError: string;
  /** `null`: mark the attempt `failed` now; otherwise due again after this many ms. */
  readonly retryInMs: number | null;
}

/** How far the database's schema is migrated. */
export interface SchemaVersion {
  /** The highest migration applied; 0 when none is (no bookkeeping table). */
  readonly applied: number;
  /** The highest migration this version of the library has. */
  readonly latest: number;
}

export interface TransactionOptions {
  readonly abandonOnError?: (error: unknown) => boolean;
}

/**
 * Internal: every database operation the library needs, one dialect per implementation.
 * `Tx` is the handle targets receive as `ctx.tx`; `AppTx` what the application passes to `enqueue`
 * (the same kind of handle, possibly wider: any `pg` client, where `ctx.tx` is a pooled one).
 * Operations that take a `tx` run inside it; the others run on the store's own connections,
 * each committed on its own. This interface will change between versions.
 */
export interface Store<Tx, AppTx = Tx> {
  readonly dialect: 'postgres' | 'sqlite' | 'mysql';
  /** The table as the dialect writes it, for messages. */
  readonly tableName: string;

  /** Applies the missing numbered migrations; safe to run from many processes at once. */
  migrate(): Promise<void>;
  /** Reads how far the schema is migrated, on the store's own connection; throws when the database is unreachable. */
  schemaVersion?(): Promise<SchemaVersion>;
  /** Whether an error of an operation means the table does not exist (the database was never migrated). */
  isMissingTableError?(error: unknown): boolean;

  attemptInsert(tx: AppTx, attempt: NewAttempt): Promise<InsertResult>;
  /** The same, synchronously, for drivers whose transactions are synchronous (better-sqlite3). */
  attemptInsertSync?(tx: AppTx, attempt: NewAttempt): InsertResult;
  /** Many at once inside `tx` (one statement where the dialect allows), results in input order. */
  attemptInsertMany?(tx: AppTx, attempts: readonly NewAttempt[]): Promise<InsertResult[]>;
  /** `attemptInsertMany`, synchronously (better-sqlite3): every row is written before it returns. */
  attemptInsertManySync?(tx: AppTx, attempts: readonly NewAttempt[]): InsertResult[];
  attemptFind(id: string): Promise<Attempt | null>;
  attemptList(options: ListOptions & { limit: number }): Promise<Attempt[]>;
  /**
   * The attempt of `target` and `method` whose idempotence token starts with `prefix` and sorts last
   * (byte order), whatever its status; `null` if none. For recurring schedules' last tick.
   */
  attemptFindLastByTokenPrefix?(target: string, method: string, prefix: string): Promise<Attempt | null>;
  /** Ids of due pending attempts naming one of `methods`, oldest due first. */
  attemptListDueIds(limit: number, methods: readonly RegisteredMethod[]): Promise<string[]>;
  /** The attempt and whether it is due (no `scheduled_at`, or not in the future), without locking it. */
  attemptFindWithDue(id: string): Promise<AttemptWithDue | null>;

  /** Adds one to `num_attempts` of a pending attempt, committed on its own; `null` if it is not pending. */
  attemptCountRun(id: string): Promise<Attempt | null>;
  /**
   * Runs `fn` in a new transaction on the store's own connection; commits when it resolves, rolls back
   * when it throws. When `abandonOnError` says so, the connection is discarded rather than reused, so
   * code still holding it (a timed-out target) cannot write into a later transaction.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Reads and locks the attempt inside `tx` until it ends. */
  attemptLock(tx: Tx, id: string): Promise<AttemptWithDue | null>;
  attemptMarkSucceeded(tx: Tx, id: string): Promise<Attempt>;
  /** Moves a pending attempt to `failed` or `expired` inside `tx` (already locked). */
  attemptComplete(tx: Tx, id: string, status: Extract<AttemptStatus, 'failed' | 'expired'>): Promise<Attempt>;
  /** Moves a failed or expired attempt back to pending, due now, inside `tx` (already locked). */
  attemptRequeue(tx: Tx, id: string): Promise<Attempt>;
  /** Records a failed run of a pending attempt: `last_error`, and a new due time or `failed`. `null` if no longer pending. */
  attemptRecordFailure(id: string, failure: FailureRecord): Promise<Attempt | null>;

  /** Releases the store's own connections (never the application's). */
  close(): Promise<void>;

  /** The worker's operations on this database (see worker-store.ts), over the same `Tx`. */
  workerStore(): WorkerStore<Tx>;
  /** The relay's operations on this database (see relay-store.ts). */
  relayStore(): RelayStore;
  /** The dashboard's and the CLI's reads and "run now" (see dashboard-store.ts). */
  dashboardQueries(): DashboardStore;
}
