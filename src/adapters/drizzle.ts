import { type SQL, sql } from 'drizzle-orm';
import { type PgQueryable, PostgresStore, type PostgresStoreOptions } from '../store/postgres/postgres-store.js';
import type { Store } from '../store/store.js';
import { adaptStore } from './adapted-store.js';
import { withGuard } from './ended-guard.js';
import { pgResult, toPgParams } from './pg-values.js';

export type { PostgresStoreOptions } from '../store/postgres/postgres-store.js';

/** The part of a Drizzle PostgreSQL database (or transaction) the library uses. */
export interface DrizzlePgQueryable {
  execute(query: SQL): PromiseLike<unknown>;
}

/** The part of a Drizzle PostgreSQL database the library uses; `Tx` is its `PgTransaction`. */
export interface DrizzlePgLike<Tx extends DrizzlePgQueryable> extends DrizzlePgQueryable {
  transaction<T>(fn: (tx: Tx) => Promise<T>, config?: any): Promise<T>;
}

/** `$n` placeholders become Drizzle parameters, so the values are bound, never spliced into the text. */
function toSql(text: string, values: readonly unknown[]): SQL {
  if (values.length === 0) return sql.raw(text);
  const parts = text.split(/\$(\d+)/);
  return sql.join(parts.map((part, i) => (i % 2 === 0 ? sql.raw(part) : sql.param(values[Number(part) - 1]))));
}

function queryable(db: DrizzlePgQueryable): PgQueryable {
  return {
    async query(text: string, values?: unknown[]) {
      const result: any = await db.execute(toSql(text, toPgParams(values)));
      // node-postgres resolves to pg's result; postgres.js to an array of rows.
      return Array.isArray(result)
        ? pgResult(result, (result as { count?: number }).count)
        : pgResult(result.rows, result.rowCount);
    },
  };
}

/**
 * The PostgreSQL driver over a Drizzle database (`drizzle-orm/node-postgres` or
 * `drizzle-orm/postgres-js`). `enqueue` takes a Drizzle transaction
 * (`db.transaction(async (tx) => …)`); targets receive one as `ctx.tx`.
 */
export function drizzleDriver<Tx extends DrizzlePgQueryable>(
  db: DrizzlePgLike<Tx>,
  options: PostgresStoreOptions = {},
): Store<Tx> {
  const inner = new PostgresStore(
    { query: queryable(db).query, transaction: (fn) => db.transaction((tx) => fn(queryable(tx))) },
    options,
  );
  return adaptStore<Tx, PgQueryable>(inner, {
    unwrap: queryable,
    // Drizzle would run a late query of a timed-out target on a released connection: refuse it.
    transaction: (fn) => db.transaction((tx) => withGuard(tx, fn)),
  });
}
