import { TransactionAbortedError } from '../../core/errors.js';
import type { Attempt } from '../../core/types.js';
import type {
  AttemptScope,
  ClaimFailure,
  ClaimOptions,
  ClaimRef,
  PruneOptions,
  ReleaseOptions,
  WakeSubscription,
  WorkerStore,
} from '../worker-store.js';
import { KNOWN_METHOD, methodKeys } from './known-methods.js';
import type { SqliteNames } from './migrations.js';
import { inWriteTransaction, writeRunError } from './run-errors-sql.js';
import type { Mutex, SqliteDatabaseLike, SqliteStatementLike } from './sqlite-client.js';
import { type AttemptRow, COLUMNS, toAttempt } from './sqlite-row.js';

/** Due time, or the lease's expiry while one is held: the expression of migration 2's claim index. */
const CLAIM_KEY = 'max(COALESCE(scheduled_at, created_at), COALESCE(lease_expires_at, 0))';

/** The claims as a JSON array of [id, num_attempts], matched with json_each (ids stay exact as text). */
const claimsJson = (claims: readonly ClaimRef[]) =>
  JSON.stringify(claims.map((claim) => [claim.id, claim.numAttempts]));
const CLAIM_MATCH = `(id, num_attempts) IN (
  SELECT CAST(json_extract(value, '$[0]') AS INTEGER), json_extract(value, '$[1]') FROM json_each(?))`;

/** Workers of this process, per database file: an enqueue wakes them without waiting for a poll. */
const wakeListeners = new Map<string, Set<() => void>>();
/** Names run by `runExclusive` in this process, per file. */
const exclusiveRuns = new Set<string>();

function byDue(a: Attempt, b: Attempt): number {
  const due = (attempt: Attempt) => (attempt.scheduledAt ?? attempt.createdAt).getTime();
  return due(a) - due(b) || Number(BigInt(a.id) - BigInt(b.id));
}

/** The parts of the SQLite store this one works through. */
export interface SqliteStoreInternals {
  readonly names: SqliteNames;
  readonly writer: SqliteDatabaseLike;
  readonly writeLock: Mutex;
  statement(db: SqliteDatabaseLike, sql: string): SqliteStatementLike;
  write<T>(fn: () => T): Promise<T>;
}

/**
 * The worker's operations on SQLite. Every write goes through the store's single writer connection
 * under its lock (one transaction at a time), waiting for other processes' writers without blocking.
 */
export class SqliteWorkerStore implements WorkerStore<SqliteDatabaseLike> {
  private readonly table: string;
  /** The errors of failed runs (migration 6). */
  private readonly errors: string;

  constructor(
    private readonly store: SqliteStoreInternals,
    private readonly file: string,
  ) {
    this.table = store.names.table;
    this.errors = store.names.index('errors');
  }

  attemptsInserted(): void {
    const listeners = wakeListeners.get(this.file);
    if (listeners) for (const listener of listeners) listener();
  }

  /** One statement on the writer, in its own commit, after any transaction of this process on it. */
  private autocommit<T>(fn: (db: SqliteDatabaseLike) => T): Promise<T> {
    return this.store.writeLock.run(() => this.store.write(() => fn(this.store.writer)));
  }

  attemptClaimDue({ limit, owner, leaseMs, methods }: ClaimOptions): Promise<Attempt[]> {
    if (methods.length === 0) return Promise.resolve([]);
    return this.autocommit((db) => {
      const now = Date.now();
      const rows = this.store
        .statement(
          db,
          `UPDATE ${this.table} SET num_attempts = num_attempts + 1, lease_owner = ?, lease_expires_at = ?,
             updated_at = ?
           WHERE id IN (
             SELECT id FROM ${this.table} WHERE status = 'pending' AND ${CLAIM_KEY} <= ? AND ${KNOWN_METHOD}
             ORDER BY ${CLAIM_KEY}, id LIMIT ?)
           RETURNING ${COLUMNS}`,
        )
        .all(owner, now + leaseMs, now, now, methodKeys(methods), limit) as AttemptRow[];
      return rows.map(toAttempt).sort(byDue);
    });
  }

  attemptExtendLeases(owner: string, ids: readonly string[], leaseMs: number): Promise<string[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.autocommit((db) => {
      const rows = this.store
        .statement(
          db,
          `UPDATE ${this.table} SET lease_expires_at = ?
           WHERE id IN (SELECT CAST(value AS INTEGER) FROM json_each(?)) AND lease_owner = ? AND status = 'pending'
           RETURNING id`,
        )
        .all(Date.now() + leaseMs, JSON.stringify(ids), owner) as { id: number }[];
      return rows.map((row) => String(row.id));
    });
  }

  async attemptReleaseClaims(owner: string, claims: readonly ClaimRef[], { uncount }: ReleaseOptions): Promise<void> {
    if (claims.length === 0) return;
    await this.autocommit((db) =>
      this.store
        .statement(
          db,
          `UPDATE ${this.table} SET lease_owner = NULL, lease_expires_at = NULL, updated_at = ?,
             num_attempts = num_attempts - ?
           WHERE ${CLAIM_MATCH} AND lease_owner = ? AND status = 'pending'`,
        )
        .run(Date.now(), uncount ? 1 : 0, claimsJson(claims), owner),
    );
  }

  async attemptLockClaims(tx: SqliteDatabaseLike, owner: string, claims: readonly ClaimRef[]): Promise<Attempt[]> {
    // The transaction (BEGIN IMMEDIATE) already holds SQLite's single write lock.
    const rows = this.store
      .statement(
        tx,
        `SELECT ${COLUMNS} FROM ${this.table} WHERE ${CLAIM_MATCH} AND lease_owner = ? AND status = 'pending'
         ORDER BY id`,
      )
      .all(claimsJson(claims), owner) as AttemptRow[];
    return rows.map(toAttempt);
  }

  attemptScope(tx: SqliteDatabaseLike): AttemptScope<SqliteDatabaseLike> {
    // In-process and cheap: opened at once, and released once the target's writes are known good. An open
    // savepoint makes every later write of the group copy its pages to a statement journal first.
    const run = (sql: string) => this.store.statement(tx, sql).run();
    run('SAVEPOINT async_task_attempt');
    const ended = () => {
      if (!tx.inTransaction) throw new TransactionAbortedError('the transaction ended inside the target');
    };
    return {
      tx,
      begin: async () => {},
      open: async () => {},
      rollback: async () => {
        run('ROLLBACK TO SAVEPOINT async_task_attempt');
        run('RELEASE SAVEPOINT async_task_attempt');
      },
      // SQLite undoes only the failed statement; only a few errors (or a COMMIT/ROLLBACK sent by the target)
      // end the whole transaction, and then nothing of the group can commit.
      check: async () => {
        ended();
        run('RELEASE SAVEPOINT async_task_attempt');
      },
      probe: async () => ended(),
    };
  }

  async attemptMarkSucceededClaims(
    tx: SqliteDatabaseLike | null,
    owner: string,
    claims: readonly ClaimRef[],
  ): Promise<string[]> {
    if (claims.length === 0) return [];
    const write = (db: SqliteDatabaseLike) => {
      const now = Date.now();
      const rows = this.store
        .statement(
          db,
          `UPDATE ${this.table} SET status = 'succeeded', completed_at = ?, updated_at = ?,
             lease_owner = NULL, lease_expires_at = NULL
           WHERE ${CLAIM_MATCH} AND lease_owner = ? AND status = 'pending'
           RETURNING id`,
        )
        .all(now, now, claimsJson(claims), owner) as { id: number }[];
      return rows.map((row) => String(row.id));
    };
    return tx ? write(tx) : this.autocommit(write);
  }

  async attemptRecordClaimFailure(
    tx: SqliteDatabaseLike | null,
    owner: string,
    claim: ClaimRef,
    failure: ClaimFailure,
  ): Promise<Attempt | null> {
    const write = (db: SqliteDatabaseLike) => {
      const now = Date.now();
      const failed = failure.retryInMs === null ? 1 : 0;
      // The failure and its run's error in one transaction: the caller's, or one of their own.
      return inWriteTransaction(this.store, db, () => {
        const row = this.store
          .statement(
            db,
            `UPDATE ${this.table} SET last_error = ?, updated_at = ?, lease_owner = NULL, lease_expires_at = NULL,
             status = CASE WHEN ? THEN 'failed' ELSE status END,
             completed_at = CASE WHEN ? THEN ? ELSE completed_at END,
             scheduled_at = CASE WHEN ? THEN scheduled_at ELSE ? END
           WHERE id = ? AND num_attempts = ? AND lease_owner = ? AND status = 'pending'
           RETURNING ${COLUMNS}`,
          )
          .get(
            failure.lastError,
            now,
            failed,
            failed,
            now,
            failed,
            now + (failure.retryInMs ?? 0),
            BigInt(claim.id),
            claim.numAttempts,
            owner,
          ) as AttemptRow | undefined;
        if (!row) return null;
        writeRunError(this.store, db, this.errors, row, now);
        return toAttempt(row);
      });
    };
    return tx ? write(tx) : this.autocommit(write);
  }

  attemptPruneCompleted({ statuses, olderThanMs, limit }: PruneOptions): Promise<number> {
    return this.autocommit((db) =>
      inWriteTransaction(this.store, db, () => {
        const ids = (
          this.store
            .statement(
              db,
              `SELECT id FROM ${this.table}
               WHERE completed_at IS NOT NULL AND completed_at < ? AND status IN (SELECT value FROM json_each(?))
               ORDER BY completed_at LIMIT ?`,
            )
            .all(Date.now() - olderThanMs, JSON.stringify(statuses), limit) as { id: number | bigint }[]
        ).map((row) => String(row.id));
        if (ids.length === 0) return 0;
        const list = JSON.stringify(ids);
        // A pruned attempt's runs' errors go with it.
        this.store
          .statement(
            db,
            `DELETE FROM ${this.errors} WHERE attempt_id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))`,
          )
          .run(list);
        return this.store
          .statement(db, `DELETE FROM ${this.table} WHERE id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))`)
          .run(list).changes;
      }),
    );
  }

  /** One per process and file; across processes SQLite's single writer already keeps the work serialized. */
  async runExclusive<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
    const key = `${this.file}\0${name}`;
    if (exclusiveRuns.has(key)) return undefined;
    exclusiveRuns.add(key);
    try {
      return await fn();
    } finally {
      exclusiveRuns.delete(key);
    }
  }

  async subscribeWake(onWake: () => void): Promise<WakeSubscription> {
    let listeners = wakeListeners.get(this.file);
    if (!listeners) {
      listeners = new Set();
      wakeListeners.set(this.file, listeners);
    }
    listeners.add(onWake);
    return {
      close: async () => {
        listeners.delete(onWake);
        if (listeners.size === 0) wakeListeners.delete(this.file);
      },
    };
  }
}
