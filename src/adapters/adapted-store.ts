import type { Store, TransactionOptions } from '../store/store.js';
import type { WorkerStore } from '../store/worker-store.js';

/** How a client's transaction handle maps onto the handle a dialect's store runs its SQL on. */
export interface TransactionBridge<Tx, Inner> {
  /** What the store's SQL runs on inside the client's transaction `tx` (the same connection). */
  inner(tx: Tx): Inner;
  /** Runs `fn` in a new transaction of the client: commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Tx) => Promise<T>, options?: TransactionOptions): Promise<T>;
}

// The Store operations that take the caller's transaction as their first argument
// (test/unit/adapted-store.test.ts fails when a store gains one that is missing here).
export const TX_OPERATIONS: ReadonlySet<string | symbol> = new Set<string | symbol>([
  'attemptInsert',
  'attemptInsertSync',
  'attemptInsertMany',
  'attemptLock',
  'attemptMarkSucceeded',
  'attemptComplete',
  'attemptRequeue',
]);

// The WorkerStore operations that take a transaction (or null: none) as their first argument.
export const WORKER_TX_OPERATIONS: ReadonlySet<string | symbol> = new Set<string | symbol>([
  'attemptLockClaims',
  'attemptScope',
  'attemptMarkSucceededClaims',
  'attemptRecordClaimFailure',
]);

/** `target` with the named operations taking `Tx` (or null) first, mapped to `Inner` for it. */
function mapTxArgument<Tx, Inner>(target: object, operations: ReadonlySet<string | symbol>, inner: (tx: Tx) => Inner) {
  return new Proxy(target, {
    get(object, key) {
      const value: unknown = Reflect.get(object, key, object);
      if (typeof value !== 'function') return value;
      if (!operations.has(key)) return value.bind(object);
      return (tx: Tx | null, ...rest: unknown[]) => value.call(object, tx === null ? null : inner(tx), ...rest);
    },
  });
}

/**
 * A store whose transactions are the client's own (a Kysely `Transaction`, a Knex `trx`, …):
 * `enqueue` takes one, and targets receive one as `ctx.tx`. Operations that take no transaction
 * are the inner store's, unchanged: operations added to a store later pass through by themselves.
 */
export function adaptStore<Tx, Inner>(inner: Store<Inner>, bridge: TransactionBridge<Tx, Inner>): Store<Tx> {
  const transaction = <T>(fn: (tx: Tx) => Promise<T>, options?: TransactionOptions) => bridge.transaction(fn, options);
  const workerStore = inner.workerStore?.();
  const mappedWorkerStore = workerStore && mapTxArgument(workerStore, WORKER_TX_OPERATIONS, bridge.inner);
  // A target gets the client's own handle as ctx.tx; the scope cannot watch its statements, so the
  // attempt's savepoint is opened before the target runs, on the same connection, and the transaction is
  // asked after it returns whether a statement it caught an error from left it aborted.
  const adaptedWorkerStore =
    mappedWorkerStore &&
    new Proxy(mappedWorkerStore, {
      get(target, key) {
        if (key !== 'attemptScope') return Reflect.get(target, key);
        return (tx: Tx) => {
          const scope = (workerStore as WorkerStore<Inner>).attemptScope(bridge.inner(tx));
          return {
            tx,
            begin: () => scope.open(),
            open: () => scope.open(),
            rollback: () => scope.rollback(),
            check: () => scope.probe(),
            probe: () => scope.probe(),
          };
        };
      },
    });
  const adapted = mapTxArgument(inner, TX_OPERATIONS, bridge.inner);
  return new Proxy(adapted, {
    get(target, key) {
      if (key === 'transaction') return transaction;
      if (key === 'workerStore') return adaptedWorkerStore && (() => adaptedWorkerStore);
      return Reflect.get(target, key);
    },
  }) as unknown as Store<Tx>;
}
