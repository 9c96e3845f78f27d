import type { RegisteredMethod } from '../../core/registry.js';
import { inList } from './in-list.js';

/** SQL and values: the row names one of the (target, method) pairs (callers skip an empty list). */
export function knownMethod(methods: readonly RegisteredMethod[], alias?: string): { sql: string; values: string[] } {
  const c = (name: string) => (alias ? `${alias}.${name}` : name);
  const pairs = inList(
    methods.flatMap((pair) => [pair.target, pair.method]),
    2,
  );
  return { sql: `(${c('target')}, ${c('method_name')}) IN (${pairs.sql})`, values: pairs.values };
}

/**
 * SQL and values: the row is one of these claims (id and run count), for guarded writes. The `id IN` list makes
 * it primary-key lookups: a locking scan of other rows would wait on rows other workers hold.
 */
export function claimPairs(claims: readonly { id: string; numAttempts: number }[]): { sql: string; values: unknown[] } {
  const ids = inList(claims.map((claim) => claim.id));
  const pairs = inList<unknown>(
    claims.flatMap((claim) => [claim.id, claim.numAttempts]),
    2,
  );
  return {
    sql: `id IN (${ids.sql}) AND (id, num_attempts) IN (${pairs.sql})`,
    values: [...ids.values, ...pairs.values],
  };
}
