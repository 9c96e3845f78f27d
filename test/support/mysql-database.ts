import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';

/** The server the MySQL tests use: ASYNC_TASK_TEST_MYSQL_URL, or the MariaDB of a development machine. */
export const MYSQL_TEST_URL = process.env.ASYNC_TASK_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/';

async function probe(): Promise<string | null> {
  try {
    const connection = await mysql.createConnection({ uri: MYSQL_TEST_URL, connectTimeout: 2000 });
    await connection.end();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const failure = await probe();

/** `null` when the server answers; otherwise why not, and how to run the MySQL tests (they are skipped). */
export const mysqlUnreachable: string | null = failure
  ? `no MySQL/MariaDB at ${MYSQL_TEST_URL} (${failure}); set ASYNC_TASK_TEST_MYSQL_URL`
  : null;

/** The title of a skipped MySQL suite: how to run it. */
export const mysqlSkipNote = (title: string) => `${title} — skipped: ${mysqlUnreachable}`;

const uniqueName = (prefix: string) => `${prefix}_${randomBytes(6).toString('hex')}`;

/** A connection URL to `database` on the test server. */
export function mysqlUrl(database: string): string {
  const url = new URL(MYSQL_TEST_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Fresh databases on the test server for one test file (one per test), all dropped by `drop`. */
export function mysqlTestDatabases() {
  const created: string[] = [];
  const admin = async <T>(fn: (connection: mysql.Connection) => Promise<T>): Promise<T> => {
    const connection = await mysql.createConnection({ uri: MYSQL_TEST_URL });
    try {
      return await fn(connection);
    } finally {
      await connection.end();
    }
  };
  return {
    /** A new empty database (utf8mb4) with an `effects` table for targets' writes; returns its name. */
    async create(): Promise<string> {
      const name = uniqueName('async_task_test');
      created.push(name);
      await admin(async (connection) => {
        await connection.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
        await connection.query(
          `CREATE TABLE ${name}.effects (id BIGINT AUTO_INCREMENT PRIMARY KEY, \`key\` VARCHAR(255) NOT NULL) ENGINE = InnoDB`,
        );
      });
      return name;
    },
    async drop(): Promise<void> {
      if (created.length === 0) return;
      await admin(async (connection) => {
        for (const name of created.splice(0)) await connection.query(`DROP DATABASE IF EXISTS ${name}`);
      });
    },
  };
}

/** Runs `fn` in a transaction on a connection of `pool`: commits when it resolves, rolls back when it throws. */
export async function withMysqlTransaction<T>(
  pool: mysql.Pool,
  fn: (connection: mysql.PoolConnection) => Promise<T>,
): Promise<T> {
  const connection = await pool.getConnection();
  try {
    await connection.beginTransaction();
    try {
      const result = await fn(connection);
      await connection.commit();
      return result;
    } catch (error) {
      await connection.rollback();
      throw error;
    }
  } finally {
    connection.release();
  }
}
