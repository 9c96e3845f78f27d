import { KNOWN_METHOD } from './known-methods.js';

/** The due time: the expression of the hot table's claim index (migration 6). */
export const DUE_KEY = 'COALESCE(scheduled_at, created_at)';

/**
 * A claim (and a lease renewal) commits without waiting for its WAL flush: a claim is one commit per batch
 * on the hot path and one per pickup for an idle worker. It is visible to every other worker at once and
 * durable within moments (the WAL writer, or the next synchronous commit: every outcome and every
 * transactional group commits synchronously, which flushes the claim before it). Only a crash of the
 * database server in that moment can forget a claim — and with it the run's count, never an outcome.
 */
export const RELAXED_COMMIT = `relaxed AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true))`;

/**
 * The CTE `due` of every claim (the worker's and the relay's): up to `$1` due attempts of the hot table naming one
 * of the registry's pairs (`$4`, `$5`), oldest due first, whose lease (if any) has lapsed, locked, skipping rows
 * others hold. The lease is filtered in the heap, not the index, so a claim changes no indexed column (a HOT
 * update); rows held by a live lease sit at the front of the index and are passed over, as graphile-worker does.
 * A row claimed or completed by another worker between the scan and the lock is re-checked on its new version.
 */
export const dueForClaim = (hot: string) => `due AS (
         SELECT id FROM ${hot}
         WHERE ${DUE_KEY} <= now() AND (lease_expires_at IS NULL OR lease_expires_at <= now())
           AND ${KNOWN_METHOD('$4', '$5')}
         ORDER BY ${DUE_KEY}, id
         LIMIT $1
         FOR UPDATE SKIP LOCKED
       )`;
