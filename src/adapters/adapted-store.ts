import type { Store, TransactionOptions } from '../store/store.js';
import type { AttemptScope, WorkerStore } from '../store/worker-store.js';

/**
 * How a client's handles map onto the client a dialect's store runs its SQL on. `Tx` is what targets get as
 * `ctx.tx`, `AppTx` what the application passes to `enqueue`, `Inner` what the store speaks (`PgQueryable`,
 * `SqliteDatabaseLike`).
 */
export interface ClientBridge<Tx, Inner, AppTx = Tx> {
  /** The store's client on the same connection as `tx`, inside the same transaction. */
  unwrap(tx: Tx | AppTx): Inner;
  /** Runs `fn` in a new transaction of the client: commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Tx) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * What a target gets as `ctx.tx` for the store's scope of one attempt opened on `tx`, when the store can watch
   * the target's statements through it (the store's own clients). Absent (an ORM's handle, which the store cannot
   * watch): `tx` itself; the attempt's savepoint is then opened before the target runs, and the transaction is
   * asked after it returns whether a statement it caught an error from left it aborted.
   */
  scoped?(scope: AttemptScope<Inner>): Tx;
}

/** Every member of `T`, optional ones included (as `undefined` where absent): adding one to `T` breaks the build here. */
type Complete<T> = { [K in keyof Required<T>]: T[K] };

/**
 * The store over `inner` whose operations take and hand out the client's handles. Each operation maps its
 * handle explicitly through `bridge`; the rest are the inner store's.
 */
export function adaptStore<Tx, Inner, AppTx = Tx>(
  inner: Store<Inner>,
  bridge: ClientBridge<Tx, Inner, AppTx>,
): Store<Tx, AppTx> {
  const { unwrap } = bridge;
  const insertSync = inner.attemptInsertSync?.bind(inner);
  const insertMany = inner.attemptInsertMany?.bind(inner);
  const insertManySync = inner.attemptInsertManySync?.bind(inner);
  const workerStore = adaptWorkerStore(inner.workerStore(), bridge);
  const store: Complete<Store<Tx, AppTx>> = {
    dialect: inner.dialect,
    tableName: inner.tableName,
    migrate: () => inner.migrate(),
    schemaVersion: inner.schemaVersion?.bind(inner),
    isMissingTableError: inner.isMissingTableError?.bind(inner),
    attemptInsert: (tx, attempt) => inner.attemptInsert(unwrap(tx), attempt),
    attemptInsertSync: insertSync && ((tx, attempt) => insertSync(unwrap(tx), attempt)),
    attemptInsertMany: insertMany && ((tx, attempts) => insertMany(unwrap(tx), attempts)),
    attemptInsertManySync: insertManySync && ((tx, attempts) => insertManySync(unwrap(tx), attempts)),
    attemptFind: (id) => inner.attemptFind(id),
    attemptList: (options) => inner.attemptList(options),
    attemptFindLastByTokenPrefix: inner.attemptFindLastByTokenPrefix?.bind(inner),
    attemptListDueIds: (limit, methods) => inner.attemptListDueIds(limit, methods),
    attemptFindWithDue: (id) => inner.attemptFindWithDue(id),
    attemptCountRun: (id) => inner.attemptCountRun(id),
    transaction: (fn, options) => bridge.transaction(fn, options),
    attemptLock: (tx, id) => inner.attemptLock(unwrap(tx), id),
    attemptMarkSucceeded: (tx, id) => inner.attemptMarkSucceeded(unwrap(tx), id),
    attemptComplete: (tx, id, status) => inner.attemptComplete(unwrap(tx), id, status),
    attemptRequeue: (tx, id) => inner.attemptRequeue(unwrap(tx), id),
    attemptRecordFailure: (id, failure) => inner.attemptRecordFailure(id, failure),
    close: () => inner.close(),
    workerStore: () => workerStore,
    relayStore: () => inner.relayStore(),
    dashboardQueries: () => inner.dashboardQueries(),
  };
  return Object.freeze(store);
}

function adaptWorkerStore<Tx, Inner, AppTx>(
  inner: WorkerStore<Inner>,
  bridge: ClientBridge<Tx, Inner, AppTx>,
): WorkerStore<Tx> {
  const { unwrap, scoped } = bridge;
  const orNull = (tx: Tx | null) => (tx === null ? null : unwrap(tx));
  const attemptScope = (tx: Tx): AttemptScope<Tx> => {
    const scope = inner.attemptScope(unwrap(tx));
    if (scoped) {
      return {
        tx: scoped(scope),
        begin: () => scope.begin(),
        open: () => scope.open(),
        rollback: () => scope.rollback(),
        check: () => scope.check(),
        probe: () => scope.probe(),
      };
    }
    return {
      tx,
      begin: () => scope.open(),
      open: () => scope.open(),
      rollback: () => scope.rollback(),
      check: () => scope.probe(),
      probe: () => scope.probe(),
    };
  };
  const store: Complete<WorkerStore<Tx>> = {
    attemptClaimDue: (options) => inner.attemptClaimDue(options),
    attemptExtendLeases: (owner, ids, leaseMs) => inner.attemptExtendLeases(owner, ids, leaseMs),
    attemptReleaseClaims: (owner, claims, options) => inner.attemptReleaseClaims(owner, claims, options),
    attemptLockClaims: (tx, owner, claims) => inner.attemptLockClaims(unwrap(tx), owner, claims),
    attemptScope,
    attemptMarkSucceededClaims: (tx, owner, claims) => inner.attemptMarkSucceededClaims(orNull(tx), owner, claims),
    attemptRecordClaimFailure: (tx, owner, claim, failure) =>
      inner.attemptRecordClaimFailure(orNull(tx), owner, claim, failure),
    attemptPruneCompleted: (options) => inner.attemptPruneCompleted(options),
    runExclusive: (name, fn) => inner.runExclusive(name, fn),
    subscribeWake: (onWake, onError) => inner.subscribeWake(onWake, onError),
  };
  return Object.freeze(store);
}
