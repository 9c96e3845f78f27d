/**
 * The part of `mysql2/promise` the MySQL store uses, declared structurally so `mysql2` stays an optional peer.
 * Results are `[rows, fields]`; a write's result is a header with `affectedRows`.
 */
export interface MysqlQueryable {
  query(sql: string, values?: any): Promise<[any, any]>;
  /** Server-side prepared statements: values are bound, never part of the SQL text. Used when present. */
  execute?(sql: string, values?: any): Promise<[any, any]>;
}

/** A connection lent by a pool (`mysql2/promise`'s `PoolConnection`). */
export interface MysqlPoolConnectionLike extends MysqlQueryable {
  release(): void;
  destroy?(): void;
}

/** A `mysql2/promise` pool (anything with `query` and `getConnection`). */
export interface MysqlPoolLike extends MysqlQueryable {
  getConnection(): Promise<MysqlPoolConnectionLike>;
}

/** Runs one parameterised statement (prepared where the client can) and returns its rows or result header. */
export async function run<T = any>(db: MysqlQueryable, sql: string, values: readonly unknown[] = []): Promise<T> {
  const [result] = db.execute ? await db.execute(sql, values) : await db.query(sql, values);
  return result as T;
}

/** A statement without parameters (transaction control, savepoints: not all of them can be prepared). */
export async function control(db: MysqlQueryable, sql: string): Promise<void> {
  await db.query(sql);
}

/** The server's error number of a `mysql2` error (or a cause of one), if any. */
export function errnoOf(error: unknown): number | undefined {
  for (let current: any = error, depth = 0; current && depth < 5; current = current.cause, depth++) {
    if (typeof current.errno === 'number') return current.errno;
  }
  return undefined;
}

/** ER_DUP_ENTRY: a unique key (here, an idempotence key) already holds the value. */
export const ER_DUP_ENTRY = 1062;
/** ER_NO_SUCH_TABLE. */
export const ER_NO_SUCH_TABLE = 1146;
/** ER_LOCK_DEADLOCK: InnoDB rolled back the whole transaction. */
export const ER_LOCK_DEADLOCK = 1213;
/** ER_LOCK_WAIT_TIMEOUT: the statement (or, with innodb_rollback_on_timeout, the transaction) was rolled back. */
export const ER_LOCK_WAIT_TIMEOUT = 1205;
