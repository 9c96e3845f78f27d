import { drizzle } from 'drizzle-orm/better-sqlite3';
import { type SqliteDatabaseLike, SqliteStore, type SqliteStoreOptions } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { adaptStore } from './adapted-store.js';

export type { SqliteStoreOptions } from '../store/sqlite/sqlite-store.js';

/** The part of a Drizzle better-sqlite3 database the library uses. */
export interface DrizzleSqliteLike {
  readonly $client: SqliteDatabaseLike;
  readonly _: { readonly fullSchema?: Record<string, unknown> };
  transaction(fn: (tx: any) => any, config?: any): any;
}

/**
 * What `enqueueSync` takes and targets receive: the transaction of `db.transaction((tx) => …)`,
 * or, while performing, a Drizzle database on the library's connection inside its transaction.
 * Both are Drizzle SQLite databases of the same schema.
 */
export type DrizzleSqliteTx<DB extends DrizzleSqliteLike> = Omit<DB, '$client'>;

/**
 * The SQLite driver over a Drizzle database from `drizzle-orm/better-sqlite3`. Its transactions
 * are synchronous: enqueue with `asyncTask.enqueueSync(tx, …)` inside `db.transaction((tx) => …)`.
 * Targets receive, as `ctx.tx`, a Drizzle database with the same schema on the library's own
 * connection, inside the transaction that marks the attempt succeeded.
 */
export function drizzleSqliteDriver<DB extends DrizzleSqliteLike>(
  db: DB,
  options: SqliteStoreOptions = {},
): Store<DrizzleSqliteTx<DB>> {
  const inner = new SqliteStore(db.$client, options);
  // Each Drizzle database the library made, with the connection under it.
  const connections = new WeakMap<object, SqliteDatabaseLike>();
  const schema = db._.fullSchema;
  return adaptStore<DrizzleSqliteTx<DB>, SqliteDatabaseLike>(inner, {
    // A transaction of the application's database runs on its one connection.
    unwrap: (tx) => connections.get(tx) ?? db.$client,
    // On a timeout the store closes its connection: a late write through the wrapper then fails.
    transaction: (fn, transactionOptions) =>
      inner.transaction((connection) => {
        const wrapped = drizzle({ client: connection as never, ...(schema ? { schema } : {}) });
        connections.set(wrapped, connection);
        // Drizzle's database of the same schema as `db`; its type is built from the schema object, not from `DB`.
        return fn(wrapped as unknown as DrizzleSqliteTx<DB>);
      }, transactionOptions),
  });
}
