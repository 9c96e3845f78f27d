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
import { mysqlAttemptScope, type ProbeState } from './mysql-attempt-scope.js';
import { type MysqlPoolConnectionLike, type MysqlPoolLike, type MysqlQueryable, run } from './mysql-client.js';
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
import { writeRunError } from './run-errors-sql.js';

export class MysqlWorkerStore implements WorkerStore<MysqlPoolConnectionLike> {
  private readonly localListeners = new Set<() => void>();
  /** Shared by this store's scopes: whether the server lacks `@@in_transaction` (MySQL), learnt once. */
  private readonly probeState: ProbeState = { inTransactionUnknown: false };

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
    return mysqlAttemptScope(tx, this.probeState);
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
      // The run's error, in the failure's transaction; the claim's count is the run's number.
      await writeRunError(db, this.tables, id, claim.numAttempts, failure.lastError);
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
    const { history, keys, errors } = this.tables;
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
      // And its runs' errors.
      await run(tx, `DELETE FROM ${errors} WHERE attempt_id IN (${idList.sql})`, idList.values);
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
