import type { HandoffClaim, HandoffOptions, RelayStore } from '../relay-store.js';
import { dueForClaim, RELAXED_COMMIT } from './claim-sql.js';
import { methodColumns } from './known-methods.js';
import { postgresTables } from './pg-names.js';
import type { PostgresStoreInternals } from './postgres-worker-store.js';

interface HandoffRow {
  id: string;
  num_attempts: number;
  target: string;
  method_name: string;
}

export class PostgresRelayStore implements RelayStore {
  private readonly table: string;

  constructor(private readonly store: PostgresStoreInternals) {
    this.table = postgresTables(store.names).hot;
  }

  async attemptClaimForHandoff({ limit, owner, leaseMs, methods }: HandoffOptions): Promise<HandoffClaim[]> {
    // SKIP LOCKED also passes over rows a consumer's perform holds locked right now.
    const { rows } = await this.store.pool.query(
      `WITH ${RELAXED_COMMIT}, ${dueForClaim(this.table)}
       UPDATE ${this.table} AS t SET lease_owner = $2,
         lease_expires_at = now() + $3::double precision * interval '1 millisecond', updated_at = now()
       FROM due, relaxed WHERE t.id = due.id
       RETURNING t.id, t.num_attempts, t.target, t.method_name, COALESCE(t.scheduled_at, t.created_at) AS due_at`,
      [limit, owner, leaseMs, ...methodColumns(methods)],
    );
    return (rows as (HandoffRow & { due_at: Date | string })[])
      .sort(
        (a, b) => new Date(a.due_at).getTime() - new Date(b.due_at).getTime() || Number(BigInt(a.id) - BigInt(b.id)),
      )
      .map((row) => ({
        id: String(row.id),
        numAttempts: row.num_attempts,
        target: row.target,
        methodName: row.method_name,
      }));
  }

  async attemptReleaseHandoff(owner: string, claims: readonly HandoffClaim[]): Promise<void> {
    if (claims.length === 0) return;
    await this.store.pool.query(
      `UPDATE ${this.table} AS t SET lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
       FROM unnest($1::bigint[], $2::integer[]) AS c(id, num_attempts)
       WHERE t.id = c.id AND t.num_attempts = c.num_attempts AND t.lease_owner = $3`,
      [claims.map((claim) => claim.id), claims.map((claim) => claim.numAttempts), owner],
    );
  }
}
