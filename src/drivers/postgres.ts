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

/** The database handle of the PostgreSQL driver: a `pg` client (or anything with `query(text, values)`). */
export type PostgresTx = PgQueryable;

/**
 * The PostgreSQL driver over a node-postgres `pg.Pool` (any object with `query` and `connect`).
 * `enqueue` takes a client of the application inside its transaction; targets receive a pooled
 * client inside the perform transaction as `ctx.tx`. The pool stays the application's to end.
 */
export function postgres(pool: PgPoolLike, options: PostgresStoreOptions = {}): Store<PostgresTx> {
  return new PostgresStore(pool, options);
}
