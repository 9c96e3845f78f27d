import type { RegisteredMethod } from '../../core/registry.js';

/** Joins target and method with the unit separator, which no sane name contains. */
const SEPARATOR = '\u001f';

/** SQL: the row names one of the (target, method) pairs passed as one JSON array of joined keys. */
export const KNOWN_METHOD = `(target || char(31) || method_name) IN (SELECT value FROM json_each(?))`;

/** The parameter `KNOWN_METHOD` reads. */
export function methodKeys(methods: readonly RegisteredMethod[]): string {
  return JSON.stringify(methods.map((pair) => `${pair.target}${SEPARATOR}${pair.method}`));
}
