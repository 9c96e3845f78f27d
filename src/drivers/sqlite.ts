import { adaptStore } from '../adapters/adapted-store.js';
import { type SqliteDatabaseLike, SqliteStore, type SqliteStoreOptions } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';

export type { SqliteDatabaseLike, SqliteStatementLike, SqliteStoreOptions } from '../store/sqlite/sqlite-store.js';

/** The database handle of the SQLite driver: a better-sqlite3 `Database`. */
export type SqliteTx = SqliteDatabaseLike;

/**
 * The SQLite driver over a better-sqlite3 `Database` (the embedded default). `enqueue`/`enqueueSync`
 * take the application's database inside its transaction; the library performs on connections of its
 * own to the same file, in WAL mode. Call `asyncTask.close()` to close those.
 */
export function sqlite<Database extends SqliteDatabaseLike>(
  database: Database,
  options: SqliteStoreOptions = {},
): Store<Database> {
  const inner = new SqliteStore(database, options);
  return adaptStore<Database, SqliteDatabaseLike>(inner, {
    unwrap: (tx) => tx,
    // The store's own connections are opened with `database`'s constructor (an in-memory database is `database`
    // itself), and a target's scope is that connection: they are `Database`s, which the store's type does not carry.
    transaction: (fn, transactionOptions) =>
      inner.transaction((connection) => fn(connection as Database), transactionOptions),
    scoped: (scope) => scope.tx as Database,
  });
}
