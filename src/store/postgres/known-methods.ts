import type { RegisteredMethod } from '../../core/registry.js';

/** SQL: the row names one of the (target, method) pairs passed as two parallel text arrays. */
export const KNOWN_METHOD = (targets: string, methods: string) =>
  `(target, method_name) IN (SELECT * FROM unnest(${targets}::text[], ${methods}::text[]))`;

/** The two parallel arrays `KNOWN_METHOD` reads. */
export function methodColumns(methods: readonly RegisteredMethod[]): [string[], string[]] {
  return [methods.map((pair) => pair.target), methods.map((pair) => pair.method)];
}
