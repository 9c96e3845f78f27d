import type { Store, TransactionOptions } from '../store/store.js';

/** How a client's transaction handle maps onto the handle a dialect's store runs its SQL on. */
export interface TransactionBridge<Tx, Inner> {
  /** What the store's SQL runs on inside the client's transaction `tx` (the same connection). */
  inner(tx: Tx): Inner;
  /** Runs `fn` in a new transaction of the client: commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Tx) => Promise<T>, options?: TransactionOptions): Promise<T>;
}

// The Store operations that take the caller's transaction as their first argument.
const TX_OPERATIONS = new Set<string | symbol>([
  'attemptInsert',
  'attemptInsertSync',
  'attemptLock',
  'attemptMarkSucceeded',
  'attemptComplete',
  'attemptRequeue',
]);

/**
 * A store whose transactions are the client's own (a Kysely `Transaction`, a Knex `trx`, …):
 * `enqueue` takes one, and targets receive one as `ctx.tx`. Every other operation is the inner
 * store's, unchanged, so operations added to `Store` later pass through without an edit here.
 */
export function adaptStore<Tx, Inner>(inner: Store<Inner>, bridge: TransactionBridge<Tx, Inner>): Store<Tx> {
  return new Proxy(inner, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (key === 'transaction') {
        return <T>(fn: (tx: Tx) => Promise<T>, options?: TransactionOptions) => bridge.transaction(fn, options);
      }
      if (typeof value !== 'function') return value;
      if (TX_OPERATIONS.has(key)) return (tx: Tx, ...rest: unknown[]) => value.call(target, bridge.inner(tx), ...rest);
      return value.bind(target);
    },
  }) as unknown as Store<Tx>;
}
