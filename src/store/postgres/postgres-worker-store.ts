import { createHash } from 'node:crypto';
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
import { dueForClaim, RELAXED_COMMIT } from './claim-sql.js';
import { methodColumns } from './known-methods.js';
import type { PostgresNames } from './migrations.js';
import { moveToHistory } from './move-sql.js';
import { ignoreError, type PgPoolLike, type PgQueryable, type PgTransactorLike } from './pg-client.js';
import { type PostgresTables, postgresTables } from './pg-names.js';
import { type AttemptRow, prefixed, retryAssignments, toAttempt } from './pg-row.js';
import { failIntoHistory, retryInHot } from './run-errors-sql.js';

/** A pooled client able to LISTEN (node-postgres' `PoolClient`). */
interface PgListenClient extends PgQueryable {
  on(event: 'notification', listener: (message: { channel: string }) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
  removeAllListeners(event?: string): unknown;
  release(destroy?: boolean | Error): void;
}

const idsOf = (claims: readonly ClaimRef[]) => claims.map((claim) => claim.id);
const countsOf = (claims: readonly ClaimRef[]) => claims.map((claim) => claim.numAttempts);

/** Orders claimed rows oldest due first (UPDATE … RETURNING has no order of its own). */
function byDue(a: Attempt, b: Attempt): number {
  const due = (attempt: Attempt) => (attempt.scheduledAt ?? attempt.createdAt).getTime();
  return due(a) - due(b) || Number(BigInt(a.id) - BigInt(b.id));
}

/** The parts of the PostgreSQL store this one works through. */
export interface PostgresStoreInternals {
  /** A pg pool, or an ORM's transaction runner (which lends out no client to LISTEN on). */
  readonly pool: PgPoolLike | PgTransactorLike;
  readonly names: PostgresNames;
  readonly tableName: string;
}
export class PostgresWorkerStore implements WorkerStore<PgQueryable> {
  /** The NOTIFY channel of this table: a hash keeps it a valid, short identifier. */
  private readonly channel: string;
  /** The hot table: every statement of the worker but prune reads and writes only it. */
  private readonly table: string;
  private readonly tables: PostgresTables;
  private notifyInFlight = false;
  private notifyAgain = false;
  private readonly localListeners = new Set<() => void>();

  constructor(
    private readonly store: PostgresStoreInternals,
    private readonly options: { notify: boolean },
  ) {
    this.tables = postgresTables(store.names);
    this.table = this.tables.hot;
    this.channel = `async_task_${createHash('sha256').update(store.tableName).digest('hex').slice(0, 16)}`;
  }

  /**
   * Called after each enqueue. Wakes this process's workers at once, and other processes' with one
   * `pg_notify` on the pool — outside the enqueue's transaction, so its commit is not serialized
   * behind the notify lock, and coalesced: while one is in flight, later enqueues share the next.
   * The wake may arrive before the enqueue commits; workers re-check shortly after an empty wake.
   */
  attemptsInserted(): void {
    for (const listener of this.localListeners) listener();
    if (!this.options.notify) return;
    if (this.notifyInFlight) {
      this.notifyAgain = true;
      return;
    }
    this.notifyInFlight = true;
    setImmediate(() => void this.sendNotify());
  }

  private async sendNotify(): Promise<void> {
    try {
      const source = this.store.pool;
      if ('connect' in source) {
        // Its own transaction, committed without waiting for the WAL flush: a NOTIFY takes a transaction
        // id, so a plain autocommit pg_notify would cost an fsync each. One simple query, one round trip;
        // the channel is our own hex name, not input.
        await source.query(
          `BEGIN; SET LOCAL synchronous_commit TO off; SELECT pg_notify('${this.channel}', ''); COMMIT`,
        );
      } else {
        // A value, not pg_notify's void: some clients (Prisma) cannot read a void column.
        await source.query('SELECT true AS notified FROM pg_notify($1, $2)', [this.channel, '']);
      }
    } catch {
      // Best effort: workers poll as the fallback.
    } finally {
      this.notifyInFlight = false;
      if (this.notifyAgain) {
        this.notifyAgain = false;
        this.notifyInFlight = true;
        setImmediate(() => void this.sendNotify());
      }
    }
  }

  async attemptClaimDue({ limit, owner, leaseMs, methods }: ClaimOptions): Promise<Attempt[]> {
    if (methods.length === 0) return [];
    const { rows } = await this.store.pool.query(
      `WITH ${RELAXED_COMMIT}, ${dueForClaim(this.table)}
       UPDATE ${this.table} AS t SET num_attempts = t.num_attempts + 1, lease_owner = $2,
         lease_expires_at = now() + $3::double precision * interval '1 millisecond', updated_at = now()
       FROM due, relaxed WHERE t.id = due.id
       RETURNING ${prefixed('t')}`,
      [limit, owner, leaseMs, ...methodColumns(methods)],
    );
    return rows.map((row: AttemptRow) => toAttempt(row)).sort(byDue);
  }

  async attemptExtendLeases(owner: string, ids: readonly string[], leaseMs: number): Promise<string[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.store.pool.query(
      `WITH ${RELAXED_COMMIT}
       UPDATE ${this.table} SET lease_expires_at = now() + $3::double precision * interval '1 millisecond'
       FROM relaxed
       WHERE id = ANY($1::bigint[]) AND lease_owner = $2
       RETURNING id`,
      [ids, owner, leaseMs],
    );
    return rows.map((row: { id: string }) => String(row.id));
  }

  async attemptReleaseClaims(owner: string, claims: readonly ClaimRef[], { uncount }: ReleaseOptions): Promise<void> {
    if (claims.length === 0) return;
    await this.store.pool.query(
      `UPDATE ${this.table} AS t SET lease_owner = NULL, lease_expires_at = NULL, updated_at = now(),
         num_attempts = t.num_attempts - CASE WHEN $4 THEN 1 ELSE 0 END
       FROM unnest($1::bigint[], $2::integer[]) AS c(id, num_attempts)
       WHERE t.id = c.id AND t.num_attempts = c.num_attempts AND t.lease_owner = $3`,
      [idsOf(claims), countsOf(claims), owner, uncount],
    );
  }

  async attemptLockClaims(tx: PgQueryable, owner: string, claims: readonly ClaimRef[]): Promise<Attempt[]> {
    const { rows } = await tx.query(
      `SELECT ${prefixed('t')} FROM ${this.table} AS t
       JOIN unnest($1::bigint[], $2::integer[]) AS c(id, num_attempts)
         ON t.id = c.id AND t.num_attempts = c.num_attempts
       WHERE t.lease_owner = $3
       ORDER BY t.id
       FOR UPDATE OF t`,
      [idsOf(claims), countsOf(claims), owner],
    );
    return rows.map((row: AttemptRow) => toAttempt(row));
  }

  attemptScope(tx: PgQueryable): AttemptScope<PgQueryable> {
    let opened = false;
    /** The last statement of the target's that failed: the transaction may be aborted (checked after). */
    let failed: unknown;
    const open = () => {
      opened = true;
      return tx.query('SAVEPOINT async_task_attempt');
    };
    const query = (...args: Parameters<PgQueryable['query']>) => {
      // node-postgres runs a client's queries in order: the savepoint is in place before this query.
      // If it fails, the transaction is aborted and the target's query reports that.
      if (!opened) open().catch(() => {});
      const result = tx.query(...args);
      // Callback-style and submittable queries return no promise; a failed one still aborts, and the probe finds it.
      if (!(result && typeof result.then === 'function')) {
        failed ??= 'a statement whose result the library could not watch';
        return result;
      }
      return result.then(undefined, (error: unknown) => {
        failed = error;
        throw error;
      });
    };
    const scoped = new Proxy(tx, {
      get(target, property) {
        if (property === 'query') return query;
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const probe = async (cause: unknown) => {
      try {
        await tx.query('SELECT 1');
      } catch (error) {
        throw new TransactionAbortedError(cause === undefined ? errorText(error) : errorText(cause), {
          cause: cause ?? error,
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
        if (opened) await tx.query('ROLLBACK TO SAVEPOINT async_task_attempt');
      },
      // Statements all succeeded: nothing to check, no round trip. One failed: the target may have recovered
      // with a savepoint of its own, so ask the transaction itself.
      check: async () => {
        if (failed !== undefined) await probe(failed);
      },
      probe: () => probe(undefined),
    };
  }

  async attemptMarkSucceededClaims(tx: PgQueryable | null, owner: string, claims: readonly ClaimRef[]) {
    if (claims.length === 0) return [];
    // One statement for the batch: each claim still held (same owner, same run) leaves the hot table for the history.
    const { rows } = await (tx ?? this.store.pool).query(
      moveToHistory(
        this.tables,
        `DELETE FROM ${this.table} AS t USING unnest($1::bigint[], $2::integer[]) AS c(id, num_attempts)
         WHERE t.id = c.id AND t.num_attempts = c.num_attempts AND t.lease_owner = $3 RETURNING t.*`,
        `'succeeded'`,
        'last_error',
        'id',
      ),
      [idsOf(claims), countsOf(claims), owner],
    );
    return rows.map((row: { id: string }) => String(row.id));
  }

  async attemptRecordClaimFailure(
    tx: PgQueryable | null,
    owner: string,
    claim: ClaimRef,
    failure: ClaimFailure,
  ): Promise<Attempt | null> {
    const db = tx ?? this.store.pool;
    const guard = 'id = $1 AND num_attempts = $2 AND lease_owner = $3';
    // The run's error enters the errors table in the same statement, only if the guard lets the failure through.
    const { rows } =
      failure.retryInMs === null
        ? await db.query(
            failIntoHistory(this.tables, `DELETE FROM ${this.table} WHERE ${guard} RETURNING *`, '$4::text'),
            [claim.id, claim.numAttempts, owner, failure.lastError],
          )
        : await db.query(
            retryInHot(this.tables, `UPDATE ${this.table} SET ${retryAssignments('$4', '$5')} WHERE ${guard}`),
            [claim.id, claim.numAttempts, owner, failure.lastError, failure.retryInMs],
          );
    return rows[0] ? toAttempt(rows[0]) : null;
  }

  async attemptPruneCompleted({ statuses, olderThanMs, limit }: PruneOptions): Promise<number> {
    const { history, keys, errors } = this.tables;
    // A pruned attempt's token is free again: its key goes with it, and so do its runs' errors.
    const { rows } = await this.store.pool.query(
      `WITH gone AS (
         DELETE FROM ${history} WHERE id IN (
           SELECT id FROM ${history}
           WHERE completed_at < now() - $2::double precision * interval '1 millisecond' AND status = ANY($1::text[])
           ORDER BY completed_at LIMIT $3)
         RETURNING id, target, method_name, idempotence_token
       ), freed AS (
         DELETE FROM ${keys} AS k USING gone
         WHERE k.target = gone.target AND k.method_name = gone.method_name
           AND k.idempotence_token = gone.idempotence_token AND k.id = gone.id
       ), forgotten AS (
         DELETE FROM ${errors} AS e USING gone WHERE e.attempt_id = gone.id
       )
       SELECT count(*) AS n FROM gone`,
      [statuses, olderThanMs, limit],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async runExclusive<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
    const key = `async-task:${name}:${this.store.tableName}`;
    const source = this.store.pool;
    if (!('connect' in source)) {
      // No client of our own to hold a session lock: a transaction-scoped one, held while fn runs.
      return source.transaction(async (tx) => {
        const { rows } = await tx.query('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked', [key]);
        return rows[0]?.locked ? fn() : undefined;
      });
    }
    const client = (await source.connect()) as unknown as PgListenClient;
    let broken = false;
    // A connection dying while held would emit 'error' (crashing an unheard process); its next query fails instead.
    const onError = () => {
      broken = true;
    };
    client.on('error', onError);
    try {
      const { rows } = await client.query('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [key]);
      if (!rows[0]?.locked) return undefined;
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]).catch(() => {
          broken = true;
        });
      }
    } finally {
      client.off('error', onError);
      if (broken) client.on('error', ignoreError);
      // A session lock that could not be released goes with its connection.
      client.release(broken);
    }
  }

  async subscribeWake(onWake: () => void, onError: (error: unknown) => void): Promise<WakeSubscription> {
    this.localListeners.add(onWake);
    const source = this.store.pool;
    if (!('connect' in source)) {
      // Without a client to LISTEN on, other processes' enqueues are found by polling; this process's still wake.
      return {
        close: async () => {
          this.localListeners.delete(onWake);
        },
      };
    }
    let client: PgListenClient | undefined;
    try {
      client = (await source.connect()) as unknown as PgListenClient;
      client.on('notification', (message) => {
        if (message.channel === this.channel) onWake();
      });
      client.on('error', (error) => onError(error));
      await client.query(`LISTEN ${this.channel}`);
    } catch (error) {
      this.localListeners.delete(onWake);
      client?.removeAllListeners('notification');
      client?.removeAllListeners('error');
      client?.on('error', ignoreError);
      client?.release(true);
      throw error;
    }
    const listening = client;
    let closed = false;
    return {
      close: async () => {
        if (closed) return;
        closed = true;
        this.localListeners.delete(onWake);
        let broken = false;
        await listening.query(`UNLISTEN ${this.channel}`).catch(() => {
          broken = true;
        });
        listening.removeAllListeners('notification');
        listening.removeAllListeners('error');
        // A dead connection can still report (the socket closing): heard by nobody, that would crash the process.
        if (broken) listening.on('error', ignoreError);
        listening.release(broken);
      },
    };
  }
}
