import type { RegisteredMethod } from '../core/registry.js';
import type { Attempt, AttemptStatus } from '../core/types.js';

/**
 * One claim of an attempt: `num_attempts` after the claim counted the run. With the lease owner it
 * identifies the claim, so every outcome write can be guarded against a newer claim of the same row.
 */
export interface ClaimRef {
  readonly id: string;
  readonly numAttempts: number;
}

/** A failed run as written: `retryInMs` null marks the attempt `failed` (the shape of Store's FailureRecord). */
export interface ClaimFailure {
  readonly lastError: string;
  readonly retryInMs: number | null;
}

export interface ClaimOptions {
  /** At most this many attempts. */
  readonly limit: number;
  /** Written to `lease_owner`; unique per worker instance. */
  readonly owner: string;
  /** The lease lasts this long from the claim; until then no other worker claims the attempt. */
  readonly leaseMs: number;
  /** Only attempts naming one of these (target, method) pairs: a worker never claims what it cannot call. */
  readonly methods: readonly RegisteredMethod[];
}

export interface ReleaseOptions {
  /** Undo the count of `num_attempts`: the target never ran for this claim. */
  readonly uncount: boolean;
}

export interface PruneOptions {
  readonly statuses: readonly Exclude<AttemptStatus, 'pending'>[];
  readonly olderThanMs: number;
  readonly limit: number;
}

export interface AttemptScope<Tx> {
  readonly tx: Tx;
  /** Called before the target runs: opens the savepoint, unless the scope opens it on the first statement. */
  begin(): Promise<void>;
  /** Opens the savepoint now if it is not open (for a `tx` the scope cannot watch, e.g. an ORM's handle). */
  open(): Promise<void>;
  /** Undoes the writes made through `tx` since the scope began. */
  rollback(): Promise<void>;
  /**
   * After the target returned: throws `TransactionAbortedError` when its writes through `tx` cannot commit
   * (a statement failed and the target caught the error, leaving PostgreSQL's transaction aborted).
   */
  check(): Promise<void>;
  /** Asks the transaction itself (one statement): throws `TransactionAbortedError` when it is aborted. */
  probe(): Promise<void>;
}

/** Wakes a worker when attempts may have become due; `close` stops listening. */
export interface WakeSubscription {
  close(): Promise<void>;
}

/**
 * Internal: the database operations of the worker, one implementation per dialect (SQL lives only there).
 * Operations without a `tx` commit on their own on the store's connections.
 */
export interface WorkerStore<Tx> {
  /**
   * Claims up to `limit` due pending attempts whose lease (if any) has lapsed, oldest due first, in one
   * commit: adds one to `num_attempts` (the contract's step 3, for the whole batch) and sets the lease.
   * Never returns an attempt another worker holds.
   */
  attemptClaimDue(options: ClaimOptions): Promise<Attempt[]>;
  /** Extends the leases still held by `owner`; returns the ids whose lease was extended. */
  attemptExtendLeases(owner: string, ids: readonly string[], leaseMs: number): Promise<string[]>;
  /** Gives claims back (pending, due at once, no lease), only where `owner` still holds that claim. */
  attemptReleaseClaims(owner: string, claims: readonly ClaimRef[], options: ReleaseOptions): Promise<void>;

  /** Inside `tx`: locks the claimed attempts still pending and held by this claim; returns those, ordered by id. */
  attemptLockClaims(tx: Tx, owner: string, claims: readonly ClaimRef[]): Promise<Attempt[]>;
  /**
   * Inside `tx`: the scope of one attempt's writes. Its `tx` is what the target gets as `ctx.tx`; the
   * attempt's savepoint is opened on its first statement (no round trip for a target that writes nothing
   * through it), so a failure can undo only that attempt's writes.
   */
  attemptScope(tx: Tx): AttemptScope<Tx>;

  /**
   * Marks the claims succeeded where `owner` still holds them; returns the ids written. With `tx`, inside it
   * (the transactional mode); without, in one commit of its own (the leased mode).
   */
  attemptMarkSucceededClaims(tx: Tx | null, owner: string, claims: readonly ClaimRef[]): Promise<string[]>;
  /** Records a failed run where `owner` still holds the claim; `null` when it no longer does. */
  attemptRecordClaimFailure(
    tx: Tx | null,
    owner: string,
    claim: ClaimRef,
    failure: ClaimFailure,
  ): Promise<Attempt | null>;

  /** Deletes up to `limit` attempts in the given statuses completed more than `olderThanMs` ago; returns how many. */
  attemptPruneCompleted(options: PruneOptions): Promise<number>;
  /**
   * Runs `fn` only if no other worker on this database is running it under the same `name` (an advisory
   * lock on PostgreSQL); returns `undefined` when another one holds it.
   */
  runExclusive<T>(name: string, fn: () => Promise<T>): Promise<T | undefined>;

  /** Calls `onWake` when new attempts were enqueued (LISTEN on PostgreSQL, in-process on SQLite). */
  subscribeWake(onWake: () => void, onError: (error: unknown) => void): Promise<WakeSubscription>;
}
