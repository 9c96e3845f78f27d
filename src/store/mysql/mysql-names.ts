import { InvalidOptionsError } from '../../core/errors.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** The longest suffix a table of the store adds to the configured name (`<table>_migrations`). */
const LONGEST_SUFFIX = '_migrations';
/** MySQL names are at most 64 characters: the configured table leaves room for its suffixes. */
export const MAX_MYSQL_TABLE_LENGTH = 64 - LONGEST_SUFFIX.length;

/** The store's tables, each validated and backtick-quoted (`database`.`name` when a database is configured). */
export interface MysqlTables {
  /** A view of every attempt (hot and history), for the application's own SQL; the library reads the tables. */
  readonly view: string;
  /** Pending attempts only: the worker's queue, with no index but the primary key and the claim's. */
  readonly hot: string;
  /** Completed attempts, each entered once at its outcome; the dashboard's indexes. */
  readonly history: string;
  /** One row per idempotence token in use, pending or completed: what keeps a token unique across both. */
  readonly keys: string;
  /** The error of each failed run (migration 2): the last 20 runs per attempt. */
  readonly errors: string;
  readonly migrations: string;
  /** The unquoted configured name, for messages and lock names. */
  readonly raw: string;
  /** Unquoted, for information_schema: the hot table's name, and the database (`null`: the connection's). */
  readonly rawHot: string;
  readonly rawDatabase: string | null;
}

function quote(name: string, what: string): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new InvalidOptionsError(`${what} ${JSON.stringify(name)} must match ${IDENTIFIER}`);
  }
  return `\`${name}\``;
}

/**
 * A table read by primary key in a locking statement. On a small table the optimizer may prefer a full scan to an
 * `id IN (…)` range, and a locking full scan waits on (and deadlocks with) rows other transactions hold.
 */
export const byId = (table: string, alias?: string) =>
  `${table}${alias === undefined ? '' : ` AS ${alias}`} FORCE INDEX (PRIMARY)`;

export function mysqlTables(table: string, database?: string): MysqlTables {
  quote(table, 'table');
  if (table.length > MAX_MYSQL_TABLE_LENGTH) {
    throw new InvalidOptionsError(
      `table ${JSON.stringify(table)} is ${table.length} characters; at most ${MAX_MYSQL_TABLE_LENGTH} on MySQL, so that ${table}${LONGEST_SUFFIX} fits in 64`,
    );
  }
  const prefix = database === undefined ? '' : `${quote(database, 'database')}.`;
  const name = (suffix: string) => `${prefix}\`${table}${suffix}\``;
  return {
    view: name(''),
    hot: name('_hot'),
    history: name('_history'),
    keys: name('_keys'),
    errors: name('_errors'),
    migrations: name(LONGEST_SUFFIX),
    raw: database === undefined ? table : `${database}.${table}`,
    rawHot: `${table}_hot`,
    rawDatabase: database ?? null,
  };
}
