import type { HandoffClaim, HandoffOptions, RelayStore } from '../relay-store.js';
import { KNOWN_METHOD, methodKeys } from './known-methods.js';
import type { SqliteStoreInternals } from './sqlite-worker-store.js';

/** The worker's claim order and condition (migration 2's claim index): due, and no lease held. */
const CLAIM_KEY = 'max(COALESCE(scheduled_at, created_at), COALESCE(lease_expires_at, 0))';

interface HandoffRow {
  id: number | bigint;
  num_attempts: number;
  target: string;
  method_name: string;
  due_at: number;
}

/** The relay's operations on SQLite, each one statement on the store's single writer, in its own commit. */
export class SqliteRelayStore implements RelayStore {
  private readonly table: string;

  constructor(private readonly store: SqliteStoreInternals) {
    this.table = store.names.table;
  }

  private autocommit<T>(fn: () => T): Promise<T> {
    return this.store.writeLock.run(() => this.store.write(fn));
  }

  attemptClaimForHandoff({ limit, owner, leaseMs, methods }: HandoffOptions): Promise<HandoffClaim[]> {
    return this.autocommit(() => {
      const now = Date.now();
      const rows = this.store
        .statement(
          this.store.writer,
          `UPDATE ${this.table} SET lease_owner = ?, lease_expires_at = ?, updated_at = ?
           WHERE id IN (
             SELECT id FROM ${this.table} WHERE status = 'pending' AND ${CLAIM_KEY} <= ? AND ${KNOWN_METHOD}
             ORDER BY ${CLAIM_KEY}, id LIMIT ?)
           RETURNING id, num_attempts, target, method_name, COALESCE(scheduled_at, created_at) AS due_at`,
        )
        .all(owner, now + leaseMs, now, now, methodKeys(methods), limit) as HandoffRow[];
      return rows
        .sort((a, b) => a.due_at - b.due_at || Number(BigInt(a.id) - BigInt(b.id)))
        .map((row) => ({
          id: String(row.id),
          numAttempts: row.num_attempts,
          target: row.target,
          methodName: row.method_name,
        }));
    });
  }

  async attemptReleaseHandoff(owner: string, claims: readonly HandoffClaim[]): Promise<void> {
    if (claims.length === 0) return;
    await this.autocommit(() =>
      this.store
        .statement(
          this.store.writer,
          `UPDATE ${this.table} SET lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
           WHERE (id, num_attempts) IN (
             SELECT CAST(json_extract(value, '$[0]') AS INTEGER), json_extract(value, '$[1]') FROM json_each(?))
             AND lease_owner = ? AND status = 'pending'`,
        )
        .run(Date.now(), JSON.stringify(claims.map((claim) => [claim.id, claim.numAttempts])), owner),
    );
  }
}
