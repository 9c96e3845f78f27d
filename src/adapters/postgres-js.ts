import { type PgQueryable, PostgresStore, type PostgresStoreOptions } from '../store/postgres/postgres-store.js';
import type { Store } from '../store/store.js';
import { adaptStore } from './adapted-store.js';
import { withGuard } from './ended-guard.js';
import { pgResult, toPgParams } from './pg-values.js';

export type { PostgresStoreOptions } from '../store/postgres/postgres-store.js';

/** The part of a postgres.js query the library uses. */
interface PostgresJsPending extends PromiseLike<readonly unknown[] & { count?: number | null }> {
  simple(): PromiseLike<readonly unknown[] & { count?: number | null }>;
}

/** The part of a postgres.js `sql` (or of the `sql` inside `sql.begin`) the library uses. */
export interface PostgresJsQueryable {
  unsafe(query: string, parameters?: any[]): PostgresJsPending;
}

/** The part of a postgres.js `sql` instance the library uses; `Tx` is its `TransactionSql`. */
export interface PostgresJsLike<Tx extends PostgresJsQueryable> extends PostgresJsQueryable {
  begin<T>(cb: (sql: Tx) => T | Promise<T>): Promise<any>;
  begin<T>(options: string, cb: (sql: Tx) => T | Promise<T>): Promise<any>;
}

function queryable(sql: PostgresJsQueryable): PgQueryable {
  return {
    async query(text: string, values?: unknown[]) {
      // Without parameters, the simple protocol: migrations hold several statements.
      const pending = sql.unsafe(text, toPgParams(values));
      const rows = values === undefined || values.length === 0 ? await pending.simple() : await pending;
      return pgResult(Array.isArray(rows) ? rows : [], rows.count);
    },
  };
}

/**
 * The PostgreSQL driver over a postgres.js `sql` instance. `enqueue` takes the `sql` given to
 * your `sql.begin(async (sql) => …)` callback; targets receive one as `ctx.tx`. The library runs
 * its own queries on the same `sql` instance; ending it stays the application's job.
 */
export function postgresJsDriver<Tx extends PostgresJsQueryable>(
  sql: PostgresJsLike<Tx>,
  options: PostgresStoreOptions = {},
): Store<Tx> {
  const self = queryable(sql);
  const inner = new PostgresStore(
    {
      query: self.query,
      transaction: (fn) => sql.begin((tx) => fn(queryable(tx))),
    },
    options,
  );
  return adaptStore<Tx, PgQueryable>(inner, {
    unwrap: queryable,
    // postgres.js would run a late query of a timed-out target outside the transaction: refuse it.
    transaction: (fn) => sql.begin((tx) => withGuard(tx, fn)),
  });
}
