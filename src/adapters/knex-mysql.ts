import type { MysqlPoolConnectionLike, MysqlPoolLike, MysqlQueryable } from '../store/mysql/mysql-client.js';
import { MysqlStore, type MysqlStoreOptions } from '../store/mysql/mysql-store.js';
import type { Store } from '../store/store.js';
import { adaptStore } from './adapted-store.js';
import type { KnexQueryable } from './knex.js';

export type { MysqlStoreOptions } from '../store/mysql/mysql-store.js';
export type { KnexQueryable } from './knex.js';

/** A raw connection of Knex's `mysql2` client (a callback-API mysql2 connection). */
interface RawMysqlConnection {
  promise(): MysqlQueryable;
  destroy(): void;
}

/** The part of a `Knex` instance with the `mysql2` client the library uses; `Trx` is its `Knex.Transaction`. */
export interface KnexMysqlLike<Trx extends KnexQueryable> extends KnexQueryable {
  transaction<T>(scope: (trx: Trx) => Promise<T>, config: { isolationLevel: 'read committed' }): Promise<T>;
  readonly client: {
    acquireConnection(): Promise<any>;
    releaseConnection(connection: any): Promise<unknown>;
  };
}

function queryable(knex: KnexQueryable): MysqlQueryable {
  return {
    // With the mysql2 client, Knex's raw() resolves to mysql2's own `[rows or header, fields]`; no bindings at all
    // when there are none, so Knex leaves the text as it is.
    query: async (text: string, values?: unknown[]) =>
      values && values.length > 0 ? await knex.raw(text, values) : await knex.raw(text),
  };
}

/**
 * A pool over Knex's: the store's own transactions (claims, leases, migrations) run on connections Knex lends, with
 * mysql2's prepared statements. A connection the store gives up on is destroyed; Knex then drops it from its pool.
 */
function poolOf(knex: KnexMysqlLike<any>): MysqlPoolLike {
  return {
    query: queryable(knex).query,
    async getConnection(): Promise<MysqlPoolConnectionLike> {
      const raw: RawMysqlConnection = await knex.client.acquireConnection();
      const connection = raw.promise();
      return {
        query: (text, values) => connection.query(text, values),
        execute: (text, values) => (connection.execute as NonNullable<MysqlQueryable['execute']>)(text, values),
        release: () => void knex.client.releaseConnection(raw),
        destroy: () => {
          raw.destroy();
          void knex.client.releaseConnection(raw);
        },
      };
    },
  };
}

/**
 * The MySQL 8.0+ / MariaDB 10.6+ driver over a Knex instance with the `mysql2` client. `enqueue` takes a Knex
 * transaction (`knex.transaction(async (trx) => …)`); targets receive one as `ctx.tx`, inside the READ COMMITTED
 * transaction that marks the attempt succeeded.
 */
export function knexMysqlDriver<Trx extends KnexQueryable>(
  knex: KnexMysqlLike<Trx>,
  options: MysqlStoreOptions = {},
): Store<Trx> {
  const inner = new MysqlStore(poolOf(knex), options);
  return adaptStore<Trx, MysqlQueryable>(inner, {
    unwrap: queryable,
    transaction: (fn) => knex.transaction((trx) => fn(trx), { isolationLevel: 'read committed' }),
  });
}
