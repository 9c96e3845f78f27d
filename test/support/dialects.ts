import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { inject } from 'vitest';
import { mysql as mysqlDriver } from '../../src/drivers/mysql.js';
import { postgres } from '../../src/drivers/postgres.js';
import { sqlite } from '../../src/drivers/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { mysqlTestDatabases, mysqlUnreachable, mysqlUrl, withMysqlTransaction } from './mysql-database.js';
import { withPgTransaction } from './pg-transaction.js';

/** A fresh, empty database namespace for one test, with the helpers the conformance suite needs. */
export interface TestDb<Tx> {
  /** A new driver on new connections to the same database (a second "process"). */
  driver(): Store<Tx, any>;
  /** Runs `fn` in an application transaction: commit when it resolves, roll back when it throws. */
  inTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** A side effect a target writes through `ctx.tx`. */
  writeEffect(tx: Tx, key: string): Promise<void>;
  countEffects(key?: string): Promise<number>;
  /** Overwrites the stored arguments of a row, as an attacker with database access could. */
  tamperArgs(id: string, methodArgs: string): Promise<void>;
  countAttempts(): Promise<number>;
  /** A table's name as raw SQL on the application's connection must write it (schema-qualified on PostgreSQL). */
  qualify(table: string): string;
  /** Raw SQL on the application's connection (placeholders: `$1` on PostgreSQL, `?` on SQLite and MySQL); the rows read. */
  query(sql: string, values?: unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export interface Dialect<Tx> {
  readonly name: 'postgres' | 'sqlite' | 'mysql';
  /** Why the dialect's tests cannot run here (no server), or `null`. */
  readonly unavailable?: string | null;
  create(): Promise<TestDb<Tx>>;
  /** Stops the dialect's shared resources (the per-file database). */
  dispose(): Promise<void>;
}

const uniqueName = (prefix: string) => `${prefix}_${randomBytes(6).toString('hex')}`;

export function postgresDialect(): Dialect<pg.PoolClient> {
  const adminUrl = inject('pgAdminUrl');
  const databaseName = uniqueName('async_task_test');
  let databaseUrl: Promise<string> | undefined;
  const admin = () => new pg.Client({ connectionString: adminUrl });

  const ensureDatabase = () => {
    databaseUrl ??= (async () => {
      const client = admin();
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${databaseName}`);
      } finally {
        await client.end();
      }
      const url = new URL(adminUrl);
      url.pathname = `/${databaseName}`;
      return url.toString();
    })();
    return databaseUrl;
  };

  return {
    name: 'postgres',
    async create() {
      const url = await ensureDatabase();
      const schema = uniqueName('s');
      const pools: pg.Pool[] = [];
      const newPool = () => {
        const pool = new pg.Pool({ connectionString: url, max: 10 });
        // An idle client is told 57P01 when the per-file database is dropped at the end: expected, not a failure.
        pool.on('error', () => {});
        pools.push(pool);
        return pool;
      };
      const appPool = newPool();
      await appPool.query(`CREATE SCHEMA ${schema}`);
      await appPool.query(`CREATE TABLE ${schema}.effects (key text NOT NULL)`);
      const count = async (sql: string, values: unknown[] = []) => Number((await appPool.query(sql, values)).rows[0].n);
      return {
        // The driver is typed over a structural client; the tests hand it pg's concrete one.
        driver: () => postgres(newPool(), { schema }) as unknown as Store<pg.PoolClient>,
        inTransaction: (fn) => withPgTransaction(appPool, fn),
        async writeEffect(tx, key) {
          await tx.query(`INSERT INTO ${schema}.effects (key) VALUES ($1)`, [key]);
        },
        countEffects: (key) =>
          key === undefined
            ? count(`SELECT count(*) AS n FROM ${schema}.effects`)
            : count(`SELECT count(*) AS n FROM ${schema}.effects WHERE key = $1`, [key]),
        async tamperArgs(id, methodArgs) {
          await appPool.query(`UPDATE ${schema}.async_task_attempts SET method_args = $2 WHERE id = $1`, [
            id,
            methodArgs,
          ]);
        },
        countAttempts: () => count(`SELECT count(*) AS n FROM ${schema}.async_task_attempts`),
        qualify: (table) => `${schema}.${table}`,
        query: async (sql, values = []) => (await appPool.query(sql, values)).rows,
        async close() {
          await Promise.all(pools.map((pool) => pool.end()));
        },
      };
    },
    async dispose() {
      if (!databaseUrl) return;
      await databaseUrl;
      const client = admin();
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export function sqliteDialect(): Dialect<Database.Database> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'async-task-sqlite-'));
  return {
    name: 'sqlite',
    async create() {
      const file = path.join(dir, `${uniqueName('db')}.sqlite`);
      const connections: Database.Database[] = [];
      const stores: Store<Database.Database, any>[] = [];
      const open = () => {
        const db = new Database(file);
        db.pragma('journal_mode = WAL');
        db.pragma('busy_timeout = 5000');
        connections.push(db);
        return db;
      };
      const app = open();
      app.exec('CREATE TABLE effects (key TEXT NOT NULL)');
      const count = (sql: string, ...values: unknown[]) => (app.prepare(sql).get(...values) as { n: number }).n;
      return {
        driver: () => {
          const store = sqlite(open()) as unknown as Store<Database.Database>;
          stores.push(store);
          return store;
        },
        async inTransaction(fn) {
          app.exec('BEGIN');
          try {
            const result = await fn(app);
            app.exec('COMMIT');
            return result;
          } catch (error) {
            app.exec('ROLLBACK');
            throw error;
          }
        },
        async writeEffect(tx, key) {
          tx.prepare('INSERT INTO effects (key) VALUES (?)').run(key);
        },
        countEffects: async (key) =>
          key === undefined
            ? count('SELECT count(*) AS n FROM effects')
            : count('SELECT count(*) AS n FROM effects WHERE key = ?', key),
        async tamperArgs(id, methodArgs) {
          app.prepare('UPDATE async_task_attempts SET method_args = ? WHERE id = ?').run(methodArgs, id);
        },
        countAttempts: async () => count('SELECT count(*) AS n FROM async_task_attempts'),
        qualify: (table) => table,
        async query(sql, values = []) {
          const statement = app.prepare(sql);
          if (statement.reader) return statement.all(...values) as Record<string, unknown>[];
          statement.run(...values);
          return [];
        },
        async close() {
          for (const store of stores) await store.close();
          for (const db of connections) db.close();
        },
      };
    },
    async dispose() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * MySQL or MariaDB at ASYNC_TASK_TEST_MYSQL_URL (default: the local server): a database per test. Attempts live in
 * two tables (pending and history) behind a read-only view, so writes by hand go to both tables.
 */
export function mysqlDialect(): Dialect<mysql.PoolConnection> {
  const databases = mysqlTestDatabases();
  return {
    name: 'mysql',
    unavailable: mysqlUnreachable,
    async create() {
      const database = await databases.create();
      const pools: mysql.Pool[] = [];
      const newPool = () => {
        const pool = mysql.createPool({ uri: mysqlUrl(database), connectionLimit: 10 });
        pools.push(pool);
        return pool;
      };
      const app = newPool();
      const count = async (sql: string, values: unknown[] = []) => {
        const [rows] = await app.query(sql, values);
        return Number((rows as { n: number | string }[])[0]?.n);
      };
      return {
        driver: () => mysqlDriver(newPool()) as unknown as Store<mysql.PoolConnection>,
        inTransaction: (fn) => withMysqlTransaction(app, fn),
        async writeEffect(tx, key) {
          await tx.query('INSERT INTO effects (`key`) VALUES (?)', [key]);
        },
        countEffects: (key) =>
          key === undefined
            ? count('SELECT COUNT(*) AS n FROM effects')
            : count('SELECT COUNT(*) AS n FROM effects WHERE `key` = ?', [key]),
        async tamperArgs(id, methodArgs) {
          for (const table of ['async_task_attempts_hot', 'async_task_attempts_history']) {
            await app.query(`UPDATE ${table} SET method_args = ? WHERE id = ?`, [methodArgs, id]);
          }
        },
        countAttempts: () => count('SELECT COUNT(*) AS n FROM async_task_attempts'),
        qualify: (table) => table,
        async query(sql, values = []) {
          const [rows] = await app.query(sql, values);
          return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
        },
        async close() {
          await Promise.all(pools.splice(0).map((pool) => pool.end()));
        },
      };
    },
    dispose: () => databases.drop(),
  };
}

/** Every dialect, or those named in ASYNC_TASK_DIALECTS (comma-separated). */
export function dialects(): Dialect<any>[] {
  const all = [postgresDialect, sqliteDialect, mysqlDialect];
  const wanted = process.env.ASYNC_TASK_DIALECTS?.split(',').map((name) => name.trim());
  return all.map((make) => make()).filter((dialect) => !wanted || wanted.includes(dialect.name));
}
