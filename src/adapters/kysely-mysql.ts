import type { MysqlPoolConnectionLike, MysqlPoolLike, MysqlQueryable } from '../store/mysql/mysql-client.js';
import { MysqlStore, type MysqlStoreOptions } from '../store/mysql/mysql-store.js';
import type { Store } from '../store/store.js';
import { adaptStore } from './adapted-store.js';
import { compiledQuery, type KyselyQueryable } from './kysely.js';

export type { MysqlStoreOptions } from '../store/mysql/mysql-store.js';
export type { KyselyQueryable } from './kysely.js';

/** The part of a `Kysely<DB>` with `MysqlDialect` the library uses; `Trx` is its `Transaction<DB>`. */
export interface KyselyMysqlLike<Trx extends KyselyQueryable> extends KyselyQueryable {
  transaction(): {
    setIsolationLevel(level: 'read committed'): { execute<T>(callback: (trx: Trx) => Promise<T>): Promise<T> };
  };
  /** One connection of the pool, held while `callback` runs. */
  connection(): { execute<T>(callback: (db: KyselyQueryable) => Promise<T>): Promise<T> };
}

/** Statements through Kysely's MySQL driver, read back in the `[rows or header, fields]` shape of mysql2. */
function queryable(db: KyselyQueryable): MysqlQueryable {
  // Without the application's plugins: a CamelCasePlugin would rename the columns the store reads.
  const executor = db.withoutPlugins();
  return {
    async query(text: string, values?: unknown[]) {
      const result = await executor.executeQuery(compiledQuery(text, values ?? []));
      // The driver turns a write's header into `numAffectedRows`; a read has rows only.
      const rows =
        result.numAffectedRows === undefined ? result.rows : { affectedRows: Number(result.numAffectedRows) };
      return [rows, undefined];
    },
  };
}

/**
 * A pool over Kysely's: a lent connection is one Kysely holds (`db.connection()`) until released, so the store's own
 * transactions (claims, leases, migrations) run on the connections of the application's pool.
 */
function poolOf(db: KyselyMysqlLike<any>): MysqlPoolLike {
  return {
    query: queryable(db).query,
    getConnection: () =>
      new Promise<MysqlPoolConnectionLike>((resolve, reject) => {
        let release = () => {};
        const released = new Promise<void>((done) => {
          release = done;
        });
        db.connection()
          .execute(async (connection) => {
            resolve({ query: queryable(connection).query, release });
            await released;
          })
          .catch(reject);
      }),
  };
}

/**
 * The MySQL 8.0+ / MariaDB 10.6+ driver over a Kysely instance with `MysqlDialect` (mysql2). `enqueue` takes a
 * Kysely `Transaction` (`db.transaction().execute(async (trx) => …)`); targets receive one as `ctx.tx`, inside the
 * READ COMMITTED transaction that marks the attempt succeeded. The application's plugins are not applied to the
 * library's own queries. Workers find other processes' enqueues by polling (MySQL has no NOTIFY).
 */
export function kyselyMysqlDriver<Trx extends KyselyQueryable>(
  db: KyselyMysqlLike<Trx>,
  options: MysqlStoreOptions = {},
): Store<Trx> {
  const inner = new MysqlStore(poolOf(db), options);
  return adaptStore<Trx, MysqlQueryable>(inner, {
    unwrap: queryable,
    transaction: (fn) => db.transaction().setIsolationLevel('read committed').execute(fn),
  });
}
