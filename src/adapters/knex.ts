import { type PgQueryable, PostgresStore, type PostgresStoreOptions } from '../store/postgres/postgres-store.js';
import type { Store } from '../store/store.js';
import { adaptStore } from './adapted-store.js';
import { pgResult, toPgParams } from './pg-values.js';
import { toQuestionMarks } from './placeholders.js';

export type { PostgresStoreOptions } from '../store/postgres/postgres-store.js';

/** The part of a Knex instance (or transaction) the library uses. */
export interface KnexQueryable {
  raw(sql: string, bindings?: any): PromiseLike<any>;
}

/** The part of a `Knex` instance the library uses; `Trx` is its `Knex.Transaction`. */
export interface KnexLike<Trx extends KnexQueryable> extends KnexQueryable {
  transaction<T>(scope: (trx: Trx) => Promise<T>, config?: any): Promise<T>;
}

function queryable(knex: KnexQueryable): PgQueryable {
  return {
    async query(text: string, values?: unknown[]) {
      const translated = toQuestionMarks(text, toPgParams(values));
      // No bindings at all when there are none, so Knex leaves the text as it is.
      const result =
        translated.values.length === 0
          ? await knex.raw(translated.text)
          : await knex.raw(translated.text, translated.values);
      // With the pg client, Knex's raw() resolves to pg's own result.
      return pgResult(result.rows ?? [], result.rowCount);
    },
  };
}

/**
 * The PostgreSQL driver over a Knex instance with the `pg` client. `enqueue` takes a Knex
 * transaction (`knex.transaction(async (trx) => …)`); targets receive one as `ctx.tx`.
 */
export function knexDriver<Trx extends KnexQueryable>(
  knex: KnexLike<Trx>,
  options: PostgresStoreOptions = {},
): Store<Trx> {
  const inner = new PostgresStore(
    {
      query: queryable(knex).query,
      transaction: (fn) => knex.transaction((trx) => fn(queryable(trx))),
    },
    options,
  );
  return adaptStore<Trx, PgQueryable>(inner, {
    unwrap: queryable,
    transaction: (fn) => knex.transaction((trx) => fn(trx)),
  });
}
