import type { AttemptStatus, ListOptions } from '../core/types.js';
import type { AttemptFilter, AttemptTimeField } from './dashboard-store.js';
import type { SqlWhere } from './sql-where.js';

/** The time a filter's `from`/`to` bound: the creation time, or the due time (`scheduled_at`, else `created_at`). */
export const TIME_COLUMN: Readonly<Record<AttemptTimeField, string>> = Object.freeze({
  created: 'created_at',
  due: 'COALESCE(scheduled_at, created_at)',
});

export interface FilterEncoding {
  /** A time as the dialect compares it: a `Date` on PostgreSQL, epoch milliseconds on SQLite. */
  readonly time: (date: Date) => unknown;
}

/**
 * The dashboard filter's conditions: status (or `status` given here, for one branch of a search), target, method,
 * idempotence token, and the time range (`from` inclusive, `to` exclusive).
 */
export function addFilterConditions(
  where: SqlWhere,
  filter: AttemptFilter,
  encoding: FilterEncoding,
  status: AttemptStatus | undefined = filter.status,
): SqlWhere {
  const key = TIME_COLUMN[filter.timeField];
  const { from, to } = filter;
  if (status !== undefined) where.add((p) => `status = ${p(status)}`);
  if (filter.target !== undefined) where.add((p) => `target = ${p(filter.target)}`);
  if (filter.method !== undefined) where.add((p) => `method_name = ${p(filter.method)}`);
  if (filter.idempotenceToken !== undefined) where.add((p) => `idempotence_token = ${p(filter.idempotenceToken)}`);
  if (from !== undefined) where.add((p) => `${key} >= ${p(encoding.time(from))}`);
  if (to !== undefined) where.add((p) => `${key} < ${p(encoding.time(to))}`);
  return where;
}

export interface ListEncoding {
  /** An attempt id as the dialect compares it: text on PostgreSQL (cast by the column), a `BigInt` on SQLite. */
  readonly id: (id: string) => unknown;
}

/** `list()`'s conditions: status, target, method, idempotence token, and the cursor (ids below it, newest first). */
export function addListConditions(where: SqlWhere, options: ListOptions, encoding: ListEncoding): SqlWhere {
  const { cursor } = options;
  if (options.status !== undefined) where.add((p) => `status = ${p(options.status)}`);
  if (options.target !== undefined) where.add((p) => `target = ${p(options.target)}`);
  if (options.method !== undefined) where.add((p) => `method_name = ${p(options.method)}`);
  if (options.idempotenceToken !== undefined) where.add((p) => `idempotence_token = ${p(options.idempotenceToken)}`);
  if (cursor !== undefined) where.add((p) => `id < ${p(encoding.id(cursor))}`);
  return where;
}
