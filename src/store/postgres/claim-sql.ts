import { KNOWN_METHOD } from './known-methods.js';

/** Due time, or the lease's expiry while one is held: the expression of migration 2's claim index. */
export const CLAIM_KEY = `GREATEST(COALESCE(scheduled_at, created_at), COALESCE(lease_expires_at, '-infinity'::timestamptz))`;

/**
 * A claim (and a lease renewal) commits without waiting for its WAL flush: a claim is one commit per batch
 * on the hot path and one per pickup for an idle worker. It is visible to every other worker at once and
 * durable within moments (the WAL writer, or the next synchronous commit: every outcome and every
 * transactional group commits synchronously, which flushes the claim before it). Only a crash of the
 * database server in that moment can forget a claim — and with it the run's count, never an outcome.
 */
export const RELAXED_COMMIT = `relaxed AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true))`;

/**
 * The CTE `due` of every claim (the worker's and the relay's): up to `$1` due, pending, unleased attempts
 * naming one of the registry's pairs (`$4`, `$5`), oldest due first, locked, skipping rows others hold.
 */
export const dueForClaim = (table: string) => `due AS (
         SELECT id FROM ${table}
         WHERE status = 'pending' AND ${CLAIM_KEY} <= now() AND ${KNOWN_METHOD('$4', '$5')}
         ORDER BY ${CLAIM_KEY}, id
         LIMIT $1
         FOR UPDATE SKIP LOCKED
       )`;
