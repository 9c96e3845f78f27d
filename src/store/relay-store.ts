import type { RegisteredMethod } from '../core/registry.js';

/** One attempt handed off to a queue: what its message carries. */
export interface HandoffClaim {
  readonly id: string;
  /** `num_attempts` when handed off: the consumer's perform counts the next run. */
  readonly numAttempts: number;
  readonly target: string;
  readonly methodName: string;
}

export interface HandoffOptions {
  /** At most this many attempts. */
  readonly limit: number;
  /** Written to `lease_owner`; unique per relay instance. */
  readonly owner: string;
  /** No relay or worker claims the attempt again until this lapses (unless a perform completes it first). */
  readonly leaseMs: number;
  /** Only attempts naming one of these (target, method) pairs: the ones this application registered. */
  readonly methods: readonly RegisteredMethod[];
}

/**
 * Internal: the relay's database operations, one implementation per dialect (SQL lives only there).
 * Each operation commits on its own, on the store's connections.
 */
export interface RelayStore {
  /**
   * Leases up to `limit` due pending attempts of `methods` that no worker or relay holds (the worker's claim condition),
   * oldest due first, in one commit — without counting a run: the consumer's `perform(id)` counts it.
   */
  attemptClaimForHandoff(options: HandoffOptions): Promise<HandoffClaim[]>;
  /** Gives hand-offs back (due again at once) where `owner` still holds them unchanged: their publish failed. */
  attemptReleaseHandoff(owner: string, claims: readonly HandoffClaim[]): Promise<void>;
}
