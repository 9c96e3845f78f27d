import type { HandoffClaim, HandoffOptions, RelayStore } from '../relay-store.js';
import { lockDueForClaim } from './claim-sql.js';
import { inList } from './in-list.js';
import { claimPairs } from './known-methods.js';
import { type MysqlPoolLike, run } from './mysql-client.js';
import { byId, type MysqlTables } from './mysql-names.js';
import { fromNow, microsParam, NOW } from './mysql-row.js';
import { inOwnTransaction } from './mysql-transaction.js';

export class MysqlRelayStore implements RelayStore {
  constructor(
    private readonly pool: MysqlPoolLike,
    private readonly tables: MysqlTables,
  ) {}

  attemptClaimForHandoff({ limit, owner, leaseMs, methods }: HandoffOptions): Promise<HandoffClaim[]> {
    if (methods.length === 0) return Promise.resolve([]);
    // SKIP LOCKED also passes over rows a consumer's perform holds locked right now.
    return inOwnTransaction(this.pool, async (tx) => {
      const ids = await lockDueForClaim(tx, this.tables, limit, methods);
      if (ids.length === 0) return [];
      const list = inList(ids);
      await run(
        tx,
        `UPDATE ${byId(this.tables.hot)} SET lease_owner = ?, lease_expires_at = ${fromNow('?')}, updated_at = ${NOW}
         WHERE id IN (${list.sql})`,
        [owner, microsParam(leaseMs), ...list.values],
      );
      const rows = await run<{ id: string; num_attempts: number; target: string; method_name: string }[]>(
        tx,
        `SELECT CAST(t.id AS CHAR) AS id, num_attempts, target, method_name FROM ${this.tables.hot} AS t
         WHERE id IN (${list.sql}) ORDER BY t.due_at, t.id`,
        list.values,
      );
      return rows.map((row) => ({
        id: row.id,
        numAttempts: Number(row.num_attempts),
        target: row.target,
        methodName: row.method_name,
      }));
    });
  }

  async attemptReleaseHandoff(owner: string, claims: readonly HandoffClaim[]): Promise<void> {
    if (claims.length === 0) return;
    const pairs = claimPairs(claims);
    await run(
      this.pool,
      `UPDATE ${byId(this.tables.hot)} SET lease_owner = NULL, lease_expires_at = NULL, updated_at = ${NOW}
       WHERE ${pairs.sql} AND lease_owner = ?`,
      [...pairs.values, owner],
    );
  }
}
