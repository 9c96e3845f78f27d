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
  // The library's own connections are opened with the same constructor, so they are `Database`s too.
  return new SqliteStore(database, options) as unknown as Store<Database>;
}
