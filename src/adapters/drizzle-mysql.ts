import { type SQL, sql } from 'drizzle-orm';
import type { MysqlPoolLike, MysqlQueryable } from '../store/mysql/mysql-client.js';
import { MysqlStore, type MysqlStoreOptions } from '../store/mysql/mysql-store.js';
import type { Store } from '../store/store.js';
import { adaptStore } from './adapted-store.js';
import { withGuard } from './ended-guard.js';
import { splitAtPlaceholders } from './mysql-placeholders.js';

export type { MysqlStoreOptions } from '../store/mysql/mysql-store.js';

/** The part of a Drizzle MySQL database (or transaction) the library uses. */
export interface DrizzleMysqlQueryable {
  execute(query: SQL): PromiseLike<unknown>;
}

/** A mysql2 pool as Drizzle holds it: the promise API, or the callback API that gives one (`pool.promise()`). */
export type DrizzleMysqlClient = MysqlPoolLike | { promise(): MysqlPoolLike };

/** The part of a Drizzle database from `drizzle-orm/mysql2` the library uses; `Tx` is its `MySqlTransaction`. */
export interface DrizzleMysqlLike<Tx extends DrizzleMysqlQueryable> extends DrizzleMysqlQueryable {
  readonly $client: DrizzleMysqlClient;
  transaction<T>(fn: (tx: Tx) => Promise<T>, config: { isolationLevel: 'read committed' }): Promise<T>;
}

/** `?` placeholders become Drizzle parameters, so the values are bound, never spliced into the text. */
function toSql(text: string, values: readonly unknown[]): SQL {
  if (values.length === 0) return sql.raw(text);
  const parts = splitAtPlaceholders(text);
  return sql.join(
    parts.flatMap((part, i) => (i < values.length ? [sql.raw(part), sql.param(values[i])] : [sql.raw(part)])),
  );
}

function queryable(db: DrizzleMysqlQueryable): MysqlQueryable {
  return {
    // drizzle-orm/mysql2 resolves to mysql2's own `[rows or header, fields]`.
    query: async (text: string, values?: unknown[]) => (await db.execute(toSql(text, values ?? []))) as [any, any],
  };
}

function poolOf(client: DrizzleMysqlClient): MysqlPoolLike {
  return 'getConnection' in client && !('promise' in client)
    ? client
    : (client as { promise(): MysqlPoolLike }).promise();
}

/**
 * The MySQL 8.0+ / MariaDB 10.6+ driver over a Drizzle database from `drizzle-orm/mysql2` on a pool. `enqueue`
 * takes a Drizzle transaction (`db.transaction(async (tx) => …)`); targets receive one as `ctx.tx`, inside the READ
 * COMMITTED transaction that marks the attempt succeeded. The library's own transactions run on the same pool.
 */
export function drizzleMysqlDriver<Tx extends DrizzleMysqlQueryable>(
  db: DrizzleMysqlLike<Tx>,
  options: MysqlStoreOptions = {},
): Store<Tx> {
  const inner = new MysqlStore(poolOf(db.$client), options);
  return adaptStore<Tx, MysqlQueryable>(inner, {
    unwrap: queryable,
    // Drizzle would run a late query of a timed-out target on a released connection: refuse it.
    transaction: (fn) => db.transaction((tx) => withGuard(tx, fn), { isolationLevel: 'read committed' }),
  });
}
