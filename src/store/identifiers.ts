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
