import type { RegisteredMethod } from '../../core/registry.js';
import { knownMethod } from './known-methods.js';
import { type MysqlQueryable, run } from './mysql-client.js';
import type { MysqlTables } from './mysql-names.js';
import { integer, NOW } from './mysql-row.js';

/**
 * Inside a claim's transaction: locks up to `limit` due attempts of the hot table naming one of `methods`, oldest
 * due first, whose lease (if any) has lapsed, skipping rows others hold; returns their ids. The scan follows
 * `due_idx` (due_at, id); the lease is filtered in the row, so a claim changes no indexed column. In READ COMMITTED
 * it takes no gap locks: an enqueue never waits for a claim.
 */
export async function lockDueForClaim(
  tx: MysqlQueryable,
  tables: MysqlTables,
  limit: number,
  methods: readonly RegisteredMethod[],
): Promise<string[]> {
  const known = knownMethod(methods);
  const rows = await run<{ id: string }[]>(
    tx,
    `SELECT CAST(t.id AS CHAR) AS id FROM ${tables.hot} AS t FORCE INDEX (due_idx)
     WHERE due_at <= ${NOW} AND (lease_expires_at IS NULL OR lease_expires_at <= ${NOW}) AND ${known.sql}
     ORDER BY t.due_at, t.id LIMIT ${integer(limit)}
     FOR UPDATE SKIP LOCKED`,
    known.values,
  );
  return rows.map((row) => row.id);
}
