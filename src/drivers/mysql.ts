import { adaptStore } from '../adapters/adapted-store.js';
import {
  type MysqlPoolLike,
  type MysqlQueryable,
  MysqlStore,
  type MysqlStoreOptions,
} from '../store/mysql/mysql-store.js';
import type { Store } from '../store/store.js';

export type {
  MysqlPoolConnectionLike,
  MysqlPoolLike,
  MysqlQueryable,
  MysqlStoreOptions,
} from '../store/mysql/mysql-store.js';

/**
 * What `enqueue` accepts on MySQL: a `mysql2/promise` connection inside the application's transaction (after
 * `beginTransaction()`), but not a pool: a pool runs each statement on any connection and autocommits, so an
 * attempt enqueued through it would never be part of the caller's transaction.
 */
export type MysqlTx = MysqlQueryable & { readonly getConnection?: never };

/** The connection the pool lends: what targets receive as `ctx.tx` (a `PoolConnection` of `mysql2/promise`). */
export type MysqlPoolConnectionOf<Pool extends MysqlPoolLike> = Awaited<ReturnType<Pool['getConnection']>>;

/**
 * The MySQL 8.0+ / MariaDB 10.6+ driver over a `mysql2/promise` pool. `enqueue` takes a connection of the
 * application inside its transaction; targets receive a pooled connection inside the perform transaction as
 * `ctx.tx`. The pool stays the application's to end. Workers find other processes' enqueues by polling (MySQL has
 * no NOTIFY); enqueues through the same AsyncTask wake its workers at once.
 */
export function mysql<Pool extends MysqlPoolLike>(
  pool: Pool,
  options: MysqlStoreOptions = {},
): Store<MysqlPoolConnectionOf<Pool>, MysqlTx> {
  type Connection = MysqlPoolConnectionOf<Pool>;
  const inner = new MysqlStore(pool, options);
  return adaptStore<Connection, MysqlQueryable, MysqlTx>(inner, {
    unwrap: (tx) => tx,
    // The store runs its transactions on a connection `pool.getConnection()` lent, and a target's scope is that
    // connection (watched): both are the pool's own connections, which its type does not carry.
    transaction: (fn, transactionOptions) =>
      inner.transaction((connection) => fn(connection as Connection), transactionOptions),
    scoped: (scope) => scope.tx as Connection,
  });
}
