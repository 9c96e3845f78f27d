export interface SqliteNames {
  /** `"table"`, validated and quoted. */
  readonly table: string;
  index(suffix: string): string;
}

export interface SqliteMigration {
  readonly version: number;
  readonly name: string;
  sql(names: SqliteNames): string;
}

/** Numbered and immutable: once released, a migration never changes; a change is a new one. Times are epoch ms. */
export const sqliteMigrations: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'create attempts table',
    sql: ({ table, index }) => `
      CREATE TABLE ${table} (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        idempotence_token TEXT,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed', 'expired')),
        target TEXT NOT NULL,
        method_name TEXT NOT NULL,
        method_args TEXT NOT NULL,
        encryptor TEXT NOT NULL,
        num_attempts INTEGER NOT NULL DEFAULT 0,
        scheduled_at INTEGER,
        completed_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        last_error TEXT,
        lease_owner TEXT,
        lease_expires_at INTEGER
      );
      CREATE UNIQUE INDEX ${index('idempotence_key')} ON ${table} (target, method_name, idempotence_token)
        WHERE idempotence_token IS NOT NULL;
      CREATE INDEX ${index('due_idx')} ON ${table} (COALESCE(scheduled_at, created_at), id)
        WHERE status = 'pending';
    `,
  },
  {
    version: 2,
    name: 'worker: claim and retention indexes',
    sql: ({ table, index }) => `
      CREATE INDEX ${index('claim_idx')} ON ${table}
        (max(COALESCE(scheduled_at, created_at), COALESCE(lease_expires_at, 0)), id) WHERE status = 'pending';
      CREATE INDEX ${index('completed_idx')} ON ${table} (completed_at) WHERE completed_at IS NOT NULL;
      DROP INDEX ${index('due_idx')};
    `,
  },
  {
    version: 4,
    name: 'dashboard indexes',
    sql: ({ table, index }) => `
      -- Pages by creation order by id (the rowid, which every index ends with); within a created_at range by
      -- (created_at, id), as in PostgreSQL.
      CREATE INDEX ${index('status_idx')} ON ${table} (status);
      CREATE INDEX ${index('status_due_idx')} ON ${table} (status, COALESCE(scheduled_at, created_at), id);
      CREATE INDEX ${index('due_all_idx')} ON ${table} (COALESCE(scheduled_at, created_at), id);
      CREATE INDEX ${index('target_idx')} ON ${table} (target, method_name);
      CREATE INDEX ${index('target_status_idx')} ON ${table} (target, method_name, status);
      CREATE INDEX ${index('created_completed_idx')} ON ${table} (created_at, id) WHERE completed_at IS NOT NULL;
      CREATE INDEX ${index('token_idx')} ON ${table} (idempotence_token) WHERE idempotence_token IS NOT NULL;
      CREATE INDEX ${index('pending_target_idx')} ON ${table} (target, method_name) WHERE status = 'pending';
      CREATE INDEX ${index('leased_idx')} ON ${table} (lease_owner, lease_expires_at)
        WHERE status = 'pending' AND lease_owner IS NOT NULL;
      CREATE INDEX ${index('completed_stats_idx')} ON ${table} (completed_at, target, method_name, status)
        WHERE completed_at IS NOT NULL;
    `,
  },
  {
    version: 5,
    name: 'hot queue apart from history: history indexes only on completed attempts',
    // An enqueue wrote the table, 7 indexes and sqlite_sequence per commit, and every claim and outcome
    // rewrote history indexes. Now a pending attempt sits only in the claim index (and, with a token, the
    // idempotence index); it enters the history indexes once, at its outcome. Same rows and ids: nothing
    // moves. Queries for history add `status <> 'pending'` so that SQLite can use these partial indexes.
    sql: ({ table, index }) => `
      DROP INDEX IF EXISTS ${index('status_idx')};
      DROP INDEX IF EXISTS ${index('status_due_idx')};
      DROP INDEX IF EXISTS ${index('due_all_idx')};
      DROP INDEX IF EXISTS ${index('target_idx')};
      DROP INDEX IF EXISTS ${index('target_status_idx')};
      DROP INDEX IF EXISTS ${index('pending_target_idx')};
      DROP INDEX IF EXISTS ${index('leased_idx')};
      DROP INDEX IF EXISTS ${index('created_completed_idx')};
      -- completed_stats_idx starts with completed_at: it serves retention and the completions chart alone.
      DROP INDEX IF EXISTS ${index('completed_idx')};
      CREATE INDEX ${index('hist_created_idx')} ON ${table} (created_at, id) WHERE status <> 'pending';
      CREATE INDEX ${index('hist_status_idx')} ON ${table} (status, id) WHERE status <> 'pending';
      CREATE INDEX ${index('hist_status_due_idx')} ON ${table} (status, COALESCE(scheduled_at, created_at), id)
        WHERE status <> 'pending';
      CREATE INDEX ${index('hist_due_idx')} ON ${table} (COALESCE(scheduled_at, created_at), id)
        WHERE status <> 'pending';
      CREATE INDEX ${index('hist_target_idx')} ON ${table} (target, method_name, status, id)
        WHERE status <> 'pending';
    `,
  },
  {
    version: 6,
    name: 'the error of each failed run',
    // Written with a failure, in its transaction, never by a success; the last 20 runs per attempt. Retention
    // deletes an attempt's errors with it. WITHOUT ROWID: the rows live in the primary key's order.
    sql: ({ index }) => `
      CREATE TABLE ${index('errors')} (
        attempt_id INTEGER NOT NULL,
        run INTEGER NOT NULL,
        error TEXT NOT NULL,
        failed_at INTEGER NOT NULL,
        PRIMARY KEY (attempt_id, run)
      ) WITHOUT ROWID;
    `,
  },
];
