import { InvalidOptionsError } from '../core/errors.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Validates a configured table or schema name and returns it double-quoted for SQL. */
export function quoteIdentifier(name: string, what: string): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new InvalidOptionsError(`${what} ${JSON.stringify(name)} must match ${IDENTIFIER}`);
  }
  return `"${name}"`;
}

/** Derives an index or constraint name from the table name, quoted. */
export function derivedName(table: string, suffix: string): string {
  return `"${`${table}_${suffix}`.slice(0, 63)}"`;
}

/**
 * The longest suffix a PostgreSQL migration appends to the table name (`<table>_created_completed_idx`). A new
 * migration keeps its derived names within it, so every name validated today stays valid.
 */
const LONGEST_DERIVED_SUFFIX = 'created_completed_idx';
/** PostgreSQL cuts identifiers at 63 bytes: the table name leaves room for `_` and the longest suffix. */
export const MAX_POSTGRES_TABLE_LENGTH = 63 - 1 - LONGEST_DERIVED_SUFFIX.length;

/** {@link quoteIdentifier} for a PostgreSQL table: short enough that every name derived from it stays distinct. */
export function quotePostgresTable(name: string): string {
  const quoted = quoteIdentifier(name, 'table');
  if (name.length > MAX_POSTGRES_TABLE_LENGTH) {
    throw new InvalidOptionsError(
      `table ${JSON.stringify(name)} is ${name.length} characters; at most ${MAX_POSTGRES_TABLE_LENGTH} on PostgreSQL, ` +
        `so that index names derived from it (such as ${name}_${LONGEST_DERIVED_SUFFIX}) fit in 63`,
    );
  }
  return quoted;
}
