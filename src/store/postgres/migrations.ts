/** Names a migration may use; every one already validated and quoted. */
export interface PostgresNames {
  /** `"schema"."table"` */
  readonly table: string;
  readonly schema: string;
  readonly rawTable: string;
  index(suffix: string): string;
}

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
  // 2 and 3 are reserved for the worker and the integrations' branches; the runner tolerates gaps.
  {
    version: 4,
    name: 'dashboard indexes',
    // Each keeps one page of the dashboard an index range scan at any table size (see bench/dashboard.ts).
    sql: ({ table, index }) => `
      CREATE INDEX ${index('created_idx')} ON ${table} (created_at, id);
      CREATE INDEX ${index('status_created_idx')} ON ${table} (status, created_at, id);
      CREATE INDEX ${index('status_due_idx')} ON ${table} (status, (COALESCE(scheduled_at, created_at)), id);
      CREATE INDEX ${index('due_all_idx')} ON ${table} ((COALESCE(scheduled_at, created_at)), id);
      -- INCLUDE lets the targets page count by status from the index alone.
      CREATE INDEX ${index('target_created_idx')} ON ${table} (target, method_name, created_at, id)
        INCLUDE (status, completed_at);
      CREATE INDEX ${index('token_idx')} ON ${table} (idempotence_token) WHERE idempotence_token IS NOT NULL;
      -- Pending attempts per target for the targets page; like due_idx, completed history stays out.
      CREATE INDEX ${index('pending_target_idx')} ON ${table} (target, method_name) WHERE status = 'pending';
      -- The overview's last hour and the targets page's window, read from the index alone.
      CREATE INDEX ${index('completed_idx')} ON ${table} (completed_at) INCLUDE (target, method_name, status)
        WHERE completed_at IS NOT NULL;
    `,
  },
];
