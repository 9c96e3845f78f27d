import { type PgQueryable, PostgresStore, type PostgresStoreOptions } from '../store/postgres/postgres-store.js';
import type { Store } from '../store/store.js';
import { adaptStore } from './adapted-store.js';
import { pgResult, toPgParams } from './pg-values.js';

export type { PostgresStoreOptions } from '../store/postgres/postgres-store.js';

/** The part of a Kysely instance (or `Transaction`) the library uses. */
export interface KyselyQueryable {
  withoutPlugins(): {
    executeQuery(query: any): Promise<{ rows: readonly unknown[]; numAffectedRows?: bigint }>;
  };
}

/** The part of a `Kysely<DB>` the library uses; `Trx` is its `Transaction<DB>`. */
export interface KyselyLike<Trx extends KyselyQueryable> extends KyselyQueryable {
  transaction(): { execute<T>(callback: (trx: Trx) => Promise<T>): Promise<T> };
}

/** A compiled raw query in the shape Kysely's drivers read (`sql`, `parameters`). */
export function compiledQuery(text: string, values: readonly unknown[]) {
  return Object.freeze({
    sql: text,
    parameters: Object.freeze([...values]),
    query: Object.freeze({ kind: 'RawNode', sqlFragments: Object.freeze([text]), parameters: Object.freeze([]) }),
    queryId: Object.freeze({ queryId: 'async-task' }),
  });
}

function queryable(db: KyselyQueryable): PgQueryable {
  // Without the application's plugins: a CamelCasePlugin would rename the columns the store reads.
  const executor = db.withoutPlugins();
  return {
    async query(text: string, values?: unknown[]) {
      const result = await executor.executeQuery(compiledQuery(text, toPgParams(values)));
      return pgResult(result.rows, result.numAffectedRows);
    },
  };
}

/**
 * The PostgreSQL driver over a Kysely instance with a PostgreSQL dialect. `enqueue` takes a
 * Kysely `Transaction` (`db.transaction().execute(async (trx) => …)`); targets receive one as
 * `ctx.tx`, so they write with the same query builder. The application's plugins are not applied
 * to the library's own queries.
 */
export function kyselyDriver<Trx extends KyselyQueryable>(
  db: KyselyLike<Trx>,
  options: PostgresStoreOptions = {},
): Store<Trx> {
  const inner = new PostgresStore(
    {
      query: queryable(db).query,
      transaction: (fn) => db.transaction().execute((trx) => fn(queryable(trx))),
    },
    options,
  );
  return adaptStore<Trx, PgQueryable>(inner, {
    unwrap: queryable,
    transaction: (fn) => db.transaction().execute(fn),
  });
}
