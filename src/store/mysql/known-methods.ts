import type { RegisteredMethod } from '../../core/registry.js';

/** SQL and values: the row names one of the (target, method) pairs (callers skip an empty list). */
export function knownMethod(methods: readonly RegisteredMethod[], alias?: string): { sql: string; values: string[] } {
  const c = (name: string) => (alias ? `${alias}.${name}` : name);
  return {
    sql: `(${c('target')}, ${c('method_name')}) IN (${methods.map(() => '(?, ?)').join(', ')})`,
    values: methods.flatMap((pair) => [pair.target, pair.method]),
  };
}

/**
 * SQL and values: the row is one of these claims (id and run count), for guarded writes. The `id IN` list makes
 * it primary-key lookups: a locking scan of other rows would wait on rows other workers hold.
 */
export function claimPairs(claims: readonly { id: string; numAttempts: number }[]): { sql: string; values: unknown[] } {
  return {
    sql: `id IN (${claims.map(() => '?').join(', ')}) AND (id, num_attempts) IN (${claims.map(() => '(?, ?)').join(', ')})`,
    values: [...claims.map((claim) => claim.id), ...claims.flatMap((claim) => [claim.id, claim.numAttempts])],
  };
}
