import { errorText } from '../../core/error-text.js';
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
import { lockDueForClaim } from './claim-sql.js';
import { inList } from './in-list.js';
import { claimPairs } from './known-methods.js';
import { lockName, withNamedLock } from './migrate.js';
import { moveToHistory } from './move-sql.js';
import {
  control,
  ER_LOCK_DEADLOCK,
  ER_LOCK_WAIT_TIMEOUT,
  errnoOf,
  type MysqlPoolConnectionLike,
  type MysqlPoolLike,
  type MysqlQueryable,
  run,
} from './mysql-client.js';
import { byId, type MysqlTables } from './mysql-names.js';
import {
  type AttemptRow,
  columns,
  fromNow,
  integer,
  microsParam,
  NOW,
  RETRY_ASSIGNMENTS,
  toAttempt,
} from './mysql-row.js';
import { inOwnTransaction } from './mysql-transaction.js';

/** ER_UNKNOWN_SYSTEM_VARIABLE: MySQL has no `@@in_transaction` (MariaDB has). */
const ER_UNKNOWN_SYSTEM_VARIABLE = 1193;

/** Errors after which InnoDB may have rolled back the whole transaction, not just the statement. */
const ABORTING = new Set([ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT]);

/** Methods that would end the perform transaction behind the library's back (MySQL commits on a new BEGIN). */
const TRANSACTION_CONTROL = new Set(['beginTransaction', 'commit', 'rollback', 'changeUser']);

/**
 * Statements that end the transaction they run in: transaction control, and DDL, which MySQL commits implicitly
 * (temporary tables excepted). On `ctx.tx` they would commit the attempt's writes before its outcome.
 */
const ENDS_TRANSACTION =
  /^\s*(START\s+TRANSACTION|BEGIN|COMMIT|ROLLBACK(?!\s+(WORK\s+)?TO\b)|SET\s+(SESSION\s+)?AUTOCOMMIT|LOCK\s+TABLES?|UNLOCK\s+TABLES?|CREATE\s+(?!TEMPORARY\b)|ALTER\s|DROP\s+(?!TEMPORARY\b)|RENAME\s|TRUNCATE\s)/i;

export class MysqlWorkerStore implements WorkerStore<MysqlPoolConnectionLike> {
  private readonly localListeners = new Set<() => void>();
  private inTransactionUnknown = false;

  constructor(
    private readonly pool: MysqlPoolLike,
    private readonly tables: MysqlTables,
  ) {}

  /**
   * Called after each enqueue through this store: wakes this process's workers at once (the wake may come before
   * the enqueue commits; workers look again shortly after an empty wake). MySQL has no NOTIFY: other processes'
   * enqueues are found by polling.
   */
  attemptsInserted(): void {
    for (const listener of this.localListeners) listener();
  }

  private async selectHot(db: MysqlQueryable, ids: readonly string[]): Promise<Attempt[]> {
    if (ids.length === 0) return [];
    const list = inList(ids);
    const rows = await run<AttemptRow[]>(
      db,
      `SELECT ${columns()} FROM ${this.tables.hot} AS t WHERE id IN (${list.sql}) ORDER BY t.due_at, t.id`,
      list.values,
    );
    return rows.map(toAttempt);
  }

  attemptClaimDue({ limit, owner, leaseMs, methods }: ClaimOptions): Promise<Attempt[]> {
    if (methods.length === 0) return Promise.resolve([]);
    return inOwnTransaction(this.pool, async (tx) => {
      const ids = await lockDueForClaim(tx, this.tables, limit, methods);
      if (ids.length === 0) return [];
      const list = inList(ids);
      await run(
        tx,
        `UPDATE ${byId(this.tables.hot)} SET num_attempts = num_attempts + 1, lease_owner = ?,
           lease_expires_at = ${fromNow('?')}, updated_at = ${NOW}
         WHERE id IN (${list.sql})`,
        [owner, microsParam(leaseMs), ...list.values],
      );
      return this.selectHot(tx, ids);
    });
  }

  attemptExtendLeases(owner: string, ids: readonly string[], leaseMs: number): Promise<string[]> {
    if (ids.length === 0) return Promise.resolve([]);
    const list = inList(ids);
    return inOwnTransaction(this.pool, async (tx) => {
      const held = await run<{ id: string }[]>(
        tx,
        `SELECT CAST(t.id AS CHAR) AS id FROM ${byId(this.tables.hot, 't')}
         WHERE id IN (${list.sql}) AND lease_owner = ? ORDER BY t.id FOR UPDATE`,
        [...list.values, owner],
      );
      const heldIds = held.map((row) => row.id);
      if (heldIds.length > 0) {
        const heldList = inList(heldIds);
        await run(
          tx,
          `UPDATE ${byId(this.tables.hot)} SET lease_expires_at = ${fromNow('?')} WHERE id IN (${heldList.sql})`,
          [microsParam(leaseMs), ...heldList.values],
        );
      }
      return heldIds;
    });
  }

  async attemptReleaseClaims(owner: string, claims: readonly ClaimRef[], { uncount }: ReleaseOptions): Promise<void> {
    if (claims.length === 0) return;
    const pairs = claimPairs(claims);
    // WHERE is read before SET: the guard sees the claim's count, the SET gives it back.
    await run(
      this.pool,
      `UPDATE ${byId(this.tables.hot)} SET lease_owner = NULL, lease_expires_at = NULL, updated_at = ${NOW},
         num_attempts = num_attempts - ?
       WHERE ${pairs.sql} AND lease_owner = ?`,
      [uncount ? 1 : 0, ...pairs.values, owner],
    );
  }

  async attemptLockClaims(tx: MysqlQueryable, owner: string, claims: readonly ClaimRef[]): Promise<Attempt[]> {
    if (claims.length === 0) return [];
    const pairs = claimPairs(claims);
    const rows = await run<AttemptRow[]>(
      tx,
      `SELECT ${columns()} FROM ${byId(this.tables.hot, 't')} WHERE ${pairs.sql} AND lease_owner = ? ORDER BY t.id FOR UPDATE`,
      [...pairs.values, owner],
    );
    return rows.map(toAttempt);
  }

  attemptScope(tx: MysqlPoolConnectionLike): AttemptScope<MysqlPoolConnectionLike> {
    let opened = false;
    /** The last statement of the target's that failed, and whether it may have ended the transaction. */
    let failed: unknown;
    let aborted = false;
    const open = () => {
      opened = true;
      return control(tx, 'SAVEPOINT async_task_attempt');
    };
    const watch = (method: 'query' | 'execute') => {
      // mysql2 also takes an options object (`{ sql, … }`) where the seam's type says text.
      const original = tx[method]?.bind(tx) as ((...args: unknown[]) => Promise<[any, any]>) | undefined;
      if (!original) return undefined;
      return (...args: [string | { sql?: unknown }, unknown?]) => {
        const sql = typeof args[0] === 'string' ? args[0] : args[0]?.sql;
        if (typeof sql === 'string' && ENDS_TRANSACTION.test(sql)) {
          failed = new TransactionAbortedError(
            `ctx.tx refused ${JSON.stringify(sql.trim().slice(0, 40))}: MySQL would commit the attempt's transaction`,
          );
          aborted = true;
          return Promise.reject(failed);
        }
        // mysql2 runs a connection's commands in order: the savepoint is in place before this statement.
        if (!opened) open().catch(() => {});
        return original(...args).then(undefined, (error: unknown) => {
          failed = error;
          const errno = errnoOf(error);
          if (errno === undefined || ABORTING.has(errno)) aborted = true;
          throw error;
        });
      };
    };
    const query = watch('query');
    const execute = watch('execute');
    const scoped = new Proxy(tx, {
      get(target, property) {
        if (property === 'query') return query;
        if (property === 'execute') return execute;
        if (typeof property === 'string' && TRANSACTION_CONTROL.has(property)) {
          return () => {
            throw new TransactionAbortedError(`ctx.tx.${property}() would end the attempt's transaction`);
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const probe = async (cause: unknown) => {
      let open = true;
      try {
        open = await this.inTransaction(tx);
      } catch (error) {
        throw new TransactionAbortedError(errorText(cause ?? error), { cause: cause ?? error });
      }
      if (!open) {
        throw new TransactionAbortedError(cause === undefined ? 'the transaction was rolled back' : errorText(cause), {
          cause,
        });
      }
    };
    return {
      tx: scoped,
      begin: async () => {},
      open: async () => {
        if (!opened) await open();
      },
      rollback: async () => {
        if (opened) await control(tx, 'ROLLBACK TO SAVEPOINT async_task_attempt');
      },
      // A failed statement leaves a MySQL transaction usable, unless InnoDB rolled it back whole (a deadlock, a
      // lock wait timeout under innodb_rollback_on_timeout) or the connection failed: then nothing may commit.
      check: async () => {
        if (failed === undefined) return;
        if (aborted) throw new TransactionAbortedError(errorText(failed), { cause: failed });
        await probe(failed);
      },
      probe: () => probe(undefined),
    };
  }

  /** Whether the connection is still inside a transaction (MariaDB says; on MySQL, whether it answers at all). */
  private async inTransaction(tx: MysqlQueryable): Promise<boolean> {
    if (!this.inTransactionUnknown) {
      try {
        const [row] = await run<{ open: number | string }[]>(tx, 'SELECT @@in_transaction AS open');
        return Number(row?.open) === 1;
      } catch (error) {
        if (errnoOf(error) !== ER_UNKNOWN_SYSTEM_VARIABLE) throw error;
        this.inTransactionUnknown = true;
      }
    }
    await run(tx, 'SELECT 1 AS alive');
    return true;
  }

  /** Locks the claims `owner` still holds (same run) in `tx`; returns their ids. */
  private async lockHeld(tx: MysqlQueryable, owner: string, claims: readonly ClaimRef[]): Promise<string[]> {
    const pairs = claimPairs(claims);
    const rows = await run<{ id: string }[]>(
      tx,
      `SELECT CAST(t.id AS CHAR) AS id FROM ${byId(this.tables.hot, 't')} WHERE ${pairs.sql} AND lease_owner = ? ORDER BY t.id FOR UPDATE`,
      [...pairs.values, owner],
    );
    return rows.map((row) => row.id);
  }

  private within<T>(tx: MysqlQueryable | null, fn: (db: MysqlQueryable) => Promise<T>): Promise<T> {
    return tx ? fn(tx) : inOwnTransaction(this.pool, fn);
  }

  attemptMarkSucceededClaims(tx: MysqlQueryable | null, owner: string, claims: readonly ClaimRef[]) {
    if (claims.length === 0) return Promise.resolve([]);
    // Each claim still held (same owner, same run) leaves the hot table for the history.
    return this.within(tx, async (db) => {
      const ids = await this.lockHeld(db, owner, claims);
      await moveToHistory(db, this.tables, ids, 'succeeded');
      return ids;
    });
  }

  attemptRecordClaimFailure(
    tx: MysqlQueryable | null,
    owner: string,
    claim: ClaimRef,
    failure: ClaimFailure,
  ): Promise<Attempt | null> {
    return this.within(tx, async (db) => {
      const [id] = await this.lockHeld(db, owner, [claim]);
      if (id === undefined) return null;
      if (failure.retryInMs === null) {
        await moveToHistory(db, this.tables, [id], 'failed', '?', [failure.lastError]);
        const rows = await run<AttemptRow[]>(db, `SELECT ${columns()} FROM ${this.tables.history} WHERE id = ?`, [id]);
        return rows[0] ? toAttempt(rows[0]) : null;
      }
      await run(db, `UPDATE ${this.tables.hot} SET ${RETRY_ASSIGNMENTS} WHERE id = ?`, [
        failure.lastError,
        microsParam(failure.retryInMs),
        id,
      ]);
      const [updated] = await this.selectHot(db, [id]);
      return updated ?? null;
    });
  }

  attemptPruneCompleted({ statuses, olderThanMs, limit }: PruneOptions): Promise<number> {
    if (statuses.length === 0 || limit <= 0) return Promise.resolve(0);
    const { history, keys } = this.tables;
    const statusList = inList(statuses);
    return inOwnTransaction(this.pool, async (tx) => {
      const rows = await run<{ id: string; target: string; method_name: string; idempotence_token: string | null }[]>(
        tx,
        `SELECT CAST(id AS CHAR) AS id, target, method_name, idempotence_token FROM ${history} FORCE INDEX (completed_idx)
         WHERE completed_at < TIMESTAMPADD(MICROSECOND, -?, ${NOW}) AND status IN (${statusList.sql})
         ORDER BY completed_at LIMIT ${integer(limit)} FOR UPDATE`,
        [microsParam(olderThanMs), ...statusList.values],
      );
      if (rows.length === 0) return 0;
      // A pruned attempt's token is free again: its key goes with it (only the key naming this attempt).
      const tokened = rows.filter((row) => row.idempotence_token !== null);
      if (tokened.length > 0) {
        const keyList = inList<unknown>(
          tokened.flatMap((row) => [row.target, row.method_name, row.idempotence_token, row.id]),
          4,
        );
        await run(
          tx,
          `DELETE k FROM ${byId(keys, 'k')} WHERE (k.target, k.method_name, k.idempotence_token, k.id) IN (${keyList.sql})`,
          keyList.values,
        );
      }
      const ids = rows.map((row) => row.id);
      const idList = inList(ids);
      await run(tx, `DELETE h FROM ${byId(history, 'h')} WHERE h.id IN (${idList.sql})`, idList.values);
      return ids.length;
    });
  }

  async runExclusive<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
    return withNamedLock(this.pool, lockName(name, this.tables), 0, () => fn());
  }

  async subscribeWake(onWake: () => void, _onError: (error: unknown) => void): Promise<WakeSubscription> {
    this.localListeners.add(onWake);
    return {
      close: async () => {
        this.localListeners.delete(onWake);
      },
    };
  }
}
