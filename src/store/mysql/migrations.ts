import type { MysqlTables } from './mysql-names.js';

export interface MysqlMigration {
  readonly version: number;
  readonly name: string;
  /**
   * Statements run one by one. MySQL commits each DDL statement on its own, so a migration cut short is run
   * again from its first statement: every statement is safe to repeat (IF NOT EXISTS, OR REPLACE).
   */
  statements(tables: MysqlTables, collation: BinaryCollation): readonly string[];
}

/**
 * Text columns compare and sort by bytes, as on PostgreSQL: tokens and names are exact, 4-byte UTF-8 included.
 * A NO PAD collation, so that `x` and `x ` are two tokens (utf8mb4_bin pads with spaces when it compares). Its name
 * differs: MySQL 8.0.17+ has utf8mb4_0900_bin, MariaDB 10.2+ utf8mb4_nopad_bin.
 */
export type BinaryCollation = 'utf8mb4_0900_bin' | 'utf8mb4_nopad_bin';
export const BINARY_COLLATIONS: readonly BinaryCollation[] = ['utf8mb4_0900_bin', 'utf8mb4_nopad_bin'];

/** Lengths are characters; the keys' primary key (3 × 255 × 4 bytes) fits InnoDB's 3072-byte limit. */
const tableOptions = (collation: BinaryCollation) => `ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = ${collation}`;

/** The columns of an attempt, shared by the hot table and the history; `due_at` is what claims and pages order by. */
const ATTEMPT_COLUMNS = `idempotence_token VARCHAR(255) NULL,
        status VARCHAR(16) NOT NULL DEFAULT 'pending',
        target VARCHAR(255) NOT NULL,
        method_name VARCHAR(255) NOT NULL,
        method_args LONGTEXT NOT NULL,
        encryptor VARCHAR(255) NOT NULL,
        num_attempts INT NOT NULL DEFAULT 0,
        scheduled_at DATETIME(6) NULL,
        completed_at DATETIME(6) NULL,
        created_at DATETIME(6) NOT NULL,
        updated_at DATETIME(6) NOT NULL,
        last_error MEDIUMTEXT NULL,
        lease_owner VARCHAR(255) NULL,
        lease_expires_at DATETIME(6) NULL,
        due_at DATETIME(6) AS (COALESCE(scheduled_at, created_at)) STORED`;

/** Numbered and immutable: once released, a migration never changes; a change is a new one. Times are UTC. */
export const mysqlMigrations: readonly MysqlMigration[] = [
  {
    version: 1,
    name: 'hot table, history, idempotence keys',
    statements: ({ view, hot, history, keys }, collation) => [
      // Pending attempts. Ids come from this table's AUTO_INCREMENT (persisted across restarts by MySQL 8.0 and
      // MariaDB 10.2.4+); an attempt keeps its id in the history, and `migrate` keeps the counter above both
      // tables. A claim writes only unindexed columns (count, lease): the lease is filtered in the row.
      `CREATE TABLE IF NOT EXISTS ${hot} (
        id BIGINT NOT NULL AUTO_INCREMENT,
        ${ATTEMPT_COLUMNS},
        PRIMARY KEY (id),
        KEY due_idx (due_at, id)
      ) ${tableOptions(collation)}`,
      // Completed attempts, entered once at their outcome, with the dashboard's and retention's indexes.
      `CREATE TABLE IF NOT EXISTS ${history} (
        id BIGINT NOT NULL,
        ${ATTEMPT_COLUMNS},
        PRIMARY KEY (id),
        KEY status_idx (status, id),
        KEY status_due_idx (status, due_at, id),
        KEY due_idx (due_at, id),
        KEY created_idx (created_at, id),
        KEY target_status_idx (target, method_name, status, id),
        KEY token_idx (idempotence_token),
        KEY completed_idx (completed_at, status),
        KEY completed_stats_idx (completed_at, target, method_name, status)
      ) ${tableOptions(collation)}`,
      // A token in use, with its attempt's id. Its primary key makes two enqueues with one token race safely:
      // the second waits for the first's commit, then finds its attempt (or, after a rollback, goes ahead).
      `CREATE TABLE IF NOT EXISTS ${keys} (
        target VARCHAR(255) NOT NULL,
        method_name VARCHAR(255) NOT NULL,
        idempotence_token VARCHAR(255) NOT NULL,
        id BIGINT NOT NULL,
        PRIMARY KEY (target, method_name, idempotence_token)
      ) ${tableOptions(collation)}`,
      // Every attempt as one set, for the application's own SQL (read-only: MySQL writes no UNION view).
      `CREATE OR REPLACE VIEW ${view} AS
        SELECT id, idempotence_token, status, target, method_name, method_args, encryptor, num_attempts, scheduled_at,
          completed_at, created_at, updated_at, last_error, lease_owner, lease_expires_at FROM ${hot}
        UNION ALL
        SELECT id, idempotence_token, status, target, method_name, method_args, encryptor, num_attempts, scheduled_at,
          completed_at, created_at, updated_at, last_error, lease_owner, lease_expires_at FROM ${history}`,
    ],
  },
  {
    version: 2,
    name: 'the error of each failed run',
    statements: ({ errors }, collation) => [
      // Written with a failure, in its transaction, never by a success; the last 20 runs per attempt. No foreign key:
      // an attempt moves between the hot table and the history, and retention deletes its errors with it.
      `CREATE TABLE IF NOT EXISTS ${errors} (
        attempt_id BIGINT NOT NULL,
        run INT NOT NULL,
        error MEDIUMTEXT NOT NULL,
        failed_at DATETIME(6) NOT NULL,
        PRIMARY KEY (attempt_id, run)
      ) ${tableOptions(collation)}`,
    ],
  },
];

export const LATEST_MYSQL_MIGRATION = Math.max(...mysqlMigrations.map((migration) => migration.version));
