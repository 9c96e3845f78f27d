import { adaptStore } from '../adapters/adapted-store.js';
import {
  type PgPoolLike,
  type PgQueryable,
  PostgresStore,
  type PostgresStoreOptions,
} from '../store/postgres/postgres-store.js';
import type { Store } from '../store/store.js';

export type {
  PgPoolClientLike,
  PgPoolLike,
  PgQueryable,
  PostgresStoreOptions,
} from '../store/postgres/postgres-store.js';

/**
 * What `enqueue` accepts on PostgreSQL: a `pg` client inside the application's transaction (anything with
 * `query(text, values)`), but not a `pg.Pool`: a pool runs each query on any connection and autocommits, so
 * an attempt enqueued through it would never be part of the caller's transaction.
 */
export type PostgresTx = PgQueryable & { readonly totalCount?: never; readonly idleCount?: never };

/** The client the pool hands out: what targets receive as `ctx.tx` (a `pg.PoolClient` for a `pg.Pool`). */
export type PoolClientOf<Pool extends PgPoolLike> = Pool extends {
  // pg.Pool's last `connect` overload takes a callback; overload inference sees only that one.
  connect(callback: (error: any, client: infer Client extends PgQueryable | undefined, done: any) => void): void;
}
  ? NonNullable<Client>
  : Awaited<ReturnType<Pool['connect']>>;

/**
 * The PostgreSQL driver over a node-postgres `pg.Pool` (any object with `query` and `connect`).
 * `enqueue` takes a client of the application inside its transaction; targets receive a pooled
 * client inside the perform transaction as `ctx.tx`. The pool stays the application's to end.
 */
export function postgres<Pool extends PgPoolLike>(
  pool: Pool,
  options: PostgresStoreOptions = {},
): Store<PoolClientOf<Pool>, PostgresTx> {
  type Client = PoolClientOf<Pool>;
  const inner = new PostgresStore(pool, options);
  return adaptStore<Client, PgQueryable, PostgresTx>(inner, {
    unwrap: (tx) => tx,
    // The store runs its transactions on a client `pool.connect()` lent, and a target's scope is that client
    // (watched): both are the pool's own clients, which its type does not carry.
    transaction: (fn, transactionOptions) => inner.transaction((client) => fn(client as Client), transactionOptions),
    scoped: (scope) => scope.tx as Client,
  });
}
