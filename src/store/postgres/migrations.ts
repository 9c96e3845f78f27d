import { hotAndHistorySql } from './migration-hot-history.js';
import { runErrorsSql } from './migration-run-errors.js';

import type { PostgresNames } from './pg-names.js';

export type { PostgresNames } from './pg-names.js';

export interface PostgresMigration {
  readonly version: number;
  readonly name: string;
  sql(names: PostgresNames): string;
}

/** Numbered and immutable: once released, a migration never changes; a change is a new one. */
export const postgresMigrations: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'create attempts table',
    sql: ({ table, index }) => `
      CREATE TABLE ${table} (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        idempotence_token text,
        status text NOT NULL DEFAULT 'pending'
          CONSTRAINT ${index('status_check')} CHECK (status IN ('pending', 'succeeded', 'failed', 'expired')),
        target text NOT NULL,
        method_name text NOT NULL,
        method_args text NOT NULL,
        encryptor text NOT NULL,
        num_attempts integer NOT NULL DEFAULT 0,
        scheduled_at timestamptz,
        completed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_error text,
        lease_owner text,
        lease_expires_at timestamptz
      );
      -- Rows without a token never conflict, so they stay out of the unique index.
      CREATE UNIQUE INDEX ${index('idempotence_key')} ON ${table} (target, method_name, idempotence_token)
        WHERE idempotence_token IS NOT NULL;
      -- The hot path: pending rows by due time. Completed history never enters it.
      CREATE INDEX ${index('due_idx')} ON ${table} ((COALESCE(scheduled_at, created_at)), id)
        WHERE status = 'pending';
    `,
  },
  {
    version: 2,
    name: 'worker: claim and retention indexes, autovacuum',
    sql: ({ table, schema, index }) => `
      -- The worker's claim order: due time, or the lease's expiry while one is held. Rows a worker holds
      -- sort past now(), so a claim never wades through them, and a lapsed lease makes the row due again.
      CREATE INDEX ${index('claim_idx')} ON ${table}
        ((GREATEST(COALESCE(scheduled_at, created_at), COALESCE(lease_expires_at, '-infinity'::timestamptz))), id)
        WHERE status = 'pending';
      -- It replaces the due index of migration 1 (same rows, lease-aware): one index less to write per change.
      DROP INDEX ${schema}.${index('due_idx')};
      -- Retention finds old completed rows by age without scanning the table. BRIN: tiny and nearly free to
      -- maintain, since rows complete roughly in the order they sit in the table.
      CREATE INDEX ${index('completed_brin')} ON ${table} USING brin (completed_at);
      -- A queue table churns: vacuum and analyze it after a small share of changes, not the default 20 %.
      ALTER TABLE ${table} SET (
        autovacuum_vacuum_scale_factor = 0.01,
        autovacuum_vacuum_threshold = 1000,
        autovacuum_vacuum_insert_scale_factor = 0.05,
        autovacuum_analyze_scale_factor = 0.02,
        autovacuum_vacuum_cost_delay = 1
      );
    `,
  },
  {
    version: 3,
    name: 'create enqueue function',
    // Enqueue from plain SQL (any client, trigger or language) inside the caller's transaction.
    // Writes the row exactly as enqueue() with no encryptor does: args as JSON text, encryptor 'null'.
    // Two statements, not one: after ON CONFLICT waited for a racing insert, only a new statement sees it.
    sql: ({ table, schema, index }) => `
      CREATE FUNCTION ${schema}.${index('enqueue')}(
        target text,
        method text,
        args jsonb,
        idempotence_token text DEFAULT NULL,
        scheduled_at timestamptz DEFAULT NULL
      ) RETURNS ${table}
      LANGUAGE plpgsql
      AS $enqueue$
      #variable_conflict use_column
      DECLARE
        attempt ${table};
      BEGIN
        IF $1 IS NULL OR $1 = '' THEN
          RAISE EXCEPTION 'async-task: target must be a non-empty text' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF $2 IS NULL OR $2 = '' THEN
          RAISE EXCEPTION 'async-task: method must be a non-empty text' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF $3 IS NULL THEN
          RAISE EXCEPTION 'async-task: args must not be SQL NULL (pass ''null''::jsonb)'
            USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF $4 = '' THEN
          RAISE EXCEPTION 'async-task: idempotence_token must be NULL or a non-empty text'
            USING ERRCODE = 'invalid_parameter_value';
        END IF;
        INSERT INTO ${table} (target, method_name, method_args, encryptor, idempotence_token, scheduled_at)
          VALUES ($1, $2, $3::text, 'null', $4, $5)
          ON CONFLICT (target, method_name, idempotence_token) WHERE idempotence_token IS NOT NULL DO NOTHING
          RETURNING * INTO attempt;
        IF FOUND THEN
          RETURN attempt;
        END IF;
        SELECT * INTO attempt FROM ${table}
          WHERE target = $1 AND method_name = $2 AND idempotence_token = $4;
        RETURN attempt;
      END
      $enqueue$;
      COMMENT ON FUNCTION ${schema}.${index('enqueue')}(text, text, jsonb, text, timestamptz) IS
        'async-task: creates an attempt in the current transaction (arguments stored unencrypted). Returns the attempt, or the existing one for a used idempotence token.';
    `,
  },
  {
    version: 4,
    name: 'dashboard indexes',
    // Each keeps one page of the dashboard an index range scan at any table size (see bench/dashboard.ts), and
    // as few as possible: every full index gets all three versions of every attempt (insert, claim, outcome;
    // a status change is never a HOT update). Pages ordered by creation use the id (the primary key: ids are
    // allocated in insert order), so no full index holds created_at; an unfiltered page by due time, or by id
    // within a target and method, merges one ordered range per status of these status-led indexes.
    sql: ({ table, index }) => `
      CREATE INDEX ${index('status_idx')} ON ${table} (status, id);
      CREATE INDEX ${index('status_due_idx')} ON ${table} (status, (COALESCE(scheduled_at, created_at)), id);
      -- Also the targets page's pending counts (a skip scan over its (target, method_name) pairs).
      CREATE INDEX ${index('target_status_idx')} ON ${table} (target, method_name, status, id);
      -- A page within a creation-time range is ordered by (created_at, id): completed rows from this index (a row
      -- enters it once, at its outcome), pending ones from status_idx (the pending rows, read and sorted).
      CREATE INDEX ${index('created_completed_idx')} ON ${table} (created_at, id) WHERE completed_at IS NOT NULL;
      CREATE INDEX ${index('token_idx')} ON ${table} (idempotence_token) WHERE idempotence_token IS NOT NULL;
      -- The overview's workers: only attempts a worker holds right now are in it.
      CREATE INDEX ${index('leased_idx')} ON ${table} (lease_owner, lease_expires_at)
        WHERE status = 'pending' AND lease_owner IS NOT NULL;
      -- The overview's last hour and the targets page's window, read from the index alone; a row enters it
      -- once, at its outcome.
      CREATE INDEX ${index('completed_stats_idx')} ON ${table} (completed_at) INCLUDE (target, method_name, status)
        WHERE completed_at IS NOT NULL;
    `,
  },
  {
    version: 5,
    name: 'enqueue function: refuse blank names and numbers beyond a double',
    // The same function as migration 3, checking its input as enqueue() does: a target or method of only
    // whitespace is refused, and so is a number that JavaScript would read back as Infinity.
    sql: ({ table, schema, index }) => `
      CREATE OR REPLACE FUNCTION ${schema}.${index('enqueue')}(
        target text,
        method text,
        args jsonb,
        idempotence_token text DEFAULT NULL,
        scheduled_at timestamptz DEFAULT NULL
      ) RETURNS ${table}
      LANGUAGE plpgsql
      AS $enqueue$
      #variable_conflict use_column
      DECLARE
        attempt ${table};
      BEGIN
        IF $1 IS NULL OR btrim($1, E' \\t\\r\\n') = '' THEN
          RAISE EXCEPTION 'async-task: target must be a non-blank text' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF $2 IS NULL OR btrim($2, E' \\t\\r\\n') = '' THEN
          RAISE EXCEPTION 'async-task: method must be a non-blank text' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF $3 IS NULL THEN
          RAISE EXCEPTION 'async-task: args must not be SQL NULL (pass ''null''::jsonb)'
            USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF jsonb_path_exists($3, 'strict $.** ? (@.type() == "number" && (@ > 1.7976931348623157e308 || @ < -1.7976931348623157e308))') THEN
          RAISE EXCEPTION 'async-task: args hold a number beyond the range of a double'
            USING ERRCODE = 'numeric_value_out_of_range';
        END IF;
        IF $4 = '' THEN
          RAISE EXCEPTION 'async-task: idempotence_token must be NULL or a non-empty text'
            USING ERRCODE = 'invalid_parameter_value';
        END IF;
        INSERT INTO ${table} (target, method_name, method_args, encryptor, idempotence_token, scheduled_at)
          VALUES ($1, $2, $3::text, 'null', $4, $5)
          ON CONFLICT (target, method_name, idempotence_token) WHERE idempotence_token IS NOT NULL DO NOTHING
          RETURNING * INTO attempt;
        IF FOUND THEN
          RETURN attempt;
        END IF;
        SELECT * INTO attempt FROM ${table}
          WHERE target = $1 AND method_name = $2 AND idempotence_token = $4;
        RETURN attempt;
      END
      $enqueue$;
    `,
  },
  {
    version: 6,
    name: 'hot queue apart from its history',
    sql: (names) => hotAndHistorySql(names),
  },
  {
    version: 7,
    name: 'the error of each failed run',
    sql: (names) => runErrorsSql(names),
  },
];
