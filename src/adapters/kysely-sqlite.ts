import { Kysely, SqliteDialect } from 'kysely';
import { type SqliteDatabaseLike, SqliteStore, type SqliteStoreOptions } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { adaptStore } from './adapted-store.js';

export type { SqliteStoreOptions } from '../store/sqlite/sqlite-store.js';

/**
 * The SQLite driver over a Kysely instance with `SqliteDialect`, and the better-sqlite3 `Database`
 * you gave that dialect (Kysely does not expose it). `enqueue` takes a `Transaction<DB>` of `db`
 * (any `Kysely<DB>` of it, in fact); targets receive, as `ctx.tx`, a `Kysely<DB>` with your plugins
 * on the library's own connection, inside the transaction that marks the attempt succeeded.
 */
export function kyselySqliteDriver<DB>(
  db: Kysely<DB>,
  database: SqliteDatabaseLike,
  options: SqliteStoreOptions = {},
): Store<Kysely<DB>> {
  const inner = new SqliteStore(database, options);
  const plugins = [...db.getExecutor().plugins];
  // One Kysely per connection of the library; never destroyed, since that would close the connection.
  const onConnection = new WeakMap<SqliteDatabaseLike, Kysely<DB>>();
  const connectionOf = new WeakMap<Kysely<DB>, SqliteDatabaseLike>();
  const kyselyOn = (connection: SqliteDatabaseLike) => {
    let kysely = onConnection.get(connection);
    if (!kysely) {
      kysely = new Kysely<DB>({ dialect: new SqliteDialect({ database: connection as never }), plugins });
      onConnection.set(connection, kysely);
      connectionOf.set(kysely, connection);
    }
    return kysely;
  };
  return adaptStore<Kysely<DB>, SqliteDatabaseLike>(inner, {
    // The application's transactions run on its one connection, the database given here.
    unwrap: (tx) => connectionOf.get(tx) ?? database,
    transaction: (fn, transactionOptions) =>
      inner.transaction((connection) => fn(kyselyOn(connection)), transactionOptions),
  });
}
