import { type PgTransactorLike, PostgresStore } from '../../src/store/postgres/postgres-store.js';

/** A client that is never called: the store only needs one to tell its names. */
const idle: PgTransactorLike = {
  query: () => Promise.reject(new Error('not connected')),
  transaction: () => Promise.reject(new Error('not connected')),
} as unknown as PgTransactorLike;

/** `schema.table` of the attempts on PostgreSQL when no option is given, as the store itself names it. */
export const DEFAULT_PG_TABLE = new PostgresStore(idle).tableName;
/** The schema the library's objects go into by default: its own (tests that say `public` would miss a move). */
export const DEFAULT_PG_SCHEMA = DEFAULT_PG_TABLE.split('.')[0]!;
