import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AsyncTask } from '../../async-task/async-task.js';
import { createAsyncTask } from '../../async-task/create-async-task.js';
import { DatabaseUnreachableError, SchemaNotMigratedError } from '../../core/errors.js';
import type { Logger } from '../../core/types.js';
import type { Store } from '../../store/store.js';
import { CliError, EXIT } from '../errors.js';
import type { AsyncTaskConfig } from './define-config.js';
import type { LoadedConfig } from './load-config.js';

export interface OpenOptions {
  /** `--url`: wins over `DATABASE_URL` and the config's `url`. */
  readonly url?: string;
  readonly logger: Logger;
  /** Connections of the pool the CLI opens for PostgreSQL. Default: the worker's concurrency + 5, at least 20. */
  readonly poolSize?: number;
  /** Skip the connection and schema check (`migrate` creates the schema). Default: false. */
  readonly skipReadyCheck?: boolean;
}

export interface OpenedAsyncTask {
  readonly asyncTask: AsyncTask<any, any>;
  readonly store: Store<any>;
  readonly config: AsyncTaskConfig;
  /** Where it connected, without a password, and where that came from (`… (from DATABASE_URL)`), for messages. */
  readonly where: string;
  close(): Promise<void>;
}

/** Where the URL came from, for messages. */
export type UrlSource = '--url' | 'DATABASE_URL' | 'the config';

export interface ResolvedUrl {
  readonly url: string;
  readonly source: UrlSource;
}

const POSTGRES_URL = /^postgres(ql)?:\/\//i;
const MYSQL_URL = /^(mysql|mariadb):\/\//i;
const ANY_URL = /^[a-z][a-z0-9+.-]*:\/\//i;

/** Whether `url` can name a database of `dialect`: a postgres:// or mysql:// URL, or a SQLite file path (`file:` allowed). */
export function urlFitsDialect(url: string, dialect: AsyncTaskConfig['dialect']): boolean {
  if (dialect === 'postgres') return POSTGRES_URL.test(url);
  if (dialect === 'mysql') return MYSQL_URL.test(url);
  return !ANY_URL.test(url) || /^file:/i.test(url);
}

/** What `--url` must be for `dialect`, for messages. */
const URL_KIND = { postgres: 'postgres:// URL', mysql: 'mysql:// URL', sqlite: 'SQLite file path' } as const;

/**
 * `--url`, then `DATABASE_URL`, then the config's `url`. `DATABASE_URL` applies only when it fits the
 * config's dialect (a PostgreSQL URL never replaces a SQLite file); `--url` must fit it.
 */
export function resolveUrl(
  config: AsyncTaskConfig,
  flag: string | undefined,
  logger?: Logger,
): ResolvedUrl | undefined {
  if (flag) {
    if (!urlFitsDialect(flag, config.dialect)) {
      throw new CliError(
        `--url ${redactUrl(flag)} is not a ${URL_KIND[config.dialect]}, but the config's dialect is ${config.dialect}`,
        EXIT.usage,
      );
    }
    return { url: flag, source: '--url' };
  }
  const env = process.env.DATABASE_URL;
  if (env) {
    if (urlFitsDialect(env, config.dialect)) return { url: env, source: 'DATABASE_URL' };
    logger?.warn(
      `DATABASE_URL (${redactUrl(env)}) is not a ${config.dialect} database; using the config's ${config.dialect} url`,
    );
  }
  return config.url ? { url: config.url, source: 'the config' } : undefined;
}

/** Loads a peer dependency from the user's project first (where it is installed), then from ours. */
async function importPeer(name: string, fromFile: string): Promise<any> {
  let specifier = name;
  try {
    specifier = pathToFileURL(createRequire(fromFile).resolve(name)).href;
  } catch {
    // Not in the user's project: fall back to normal resolution.
  }
  try {
    const module = await import(specifier);
    return module.default ?? module;
  } catch (error) {
    throw new CliError(`The ${name} package is needed for this dialect: npm install ${name}`, EXIT.config, {
      cause: error,
    });
  }
}

/** Connection-string parameters whose value is a secret (`?password=`, `sslpassword`, `sslkey`, …). */
const SECRET_PARAM = /pass|secret|token|key|pwd/i;

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    for (const name of [...parsed.searchParams.keys()]) {
      if (SECRET_PARAM.test(name)) parsed.searchParams.set(name, '***');
    }
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * The mysql2 pool the CLI opens on a `mysql://` URL (`mariadb://` is read as the same). The store needs no client
 * setting (times and ids are exact whatever `timezone` or `supportBigNumbers`); a dead connection is replaced by
 * the pool, and a connect that hangs fails after 10 s rather than holding a command.
 */
export function mysqlPoolOptions(url: string, connectionLimit: number) {
  return { uri: url.replace(/^mariadb:/i, 'mysql:'), connectionLimit, connectTimeout: 10_000, enableKeepAlive: true };
}

/** Opens the database the config describes and creates the AsyncTask over it. */
export async function openAsyncTask(loaded: LoadedConfig, options: OpenOptions): Promise<OpenedAsyncTask> {
  const { config } = loaded;
  const resolved = resolveUrl(config, options.url, options.logger);
  if (!resolved) {
    throw new CliError(
      'No database: set url in the config, the DATABASE_URL environment variable, or pass --url',
      EXIT.config,
    );
  }
  // A SQLite path is relative to the config file; `file:./app.db` (Prisma's spelling) names the same file.
  const url =
    config.dialect === 'sqlite'
      ? path.resolve(path.dirname(loaded.path), resolved.url.replace(/^file:/i, ''))
      : resolved.url;
  const from = resolved.source === 'the config' ? path.basename(loaded.path) : resolved.source;
  const where = `${config.dialect === 'sqlite' ? url : redactUrl(url)} (from ${from})`;
  const closers: (() => Promise<unknown> | unknown)[] = [];
  let store: Store<any>;
  try {
    if (config.db) {
      store = await config.db({ url, onClose: (close) => closers.push(close) });
    } else if (config.dialect === 'postgres') {
      const pg = await importPeer('pg', loaded.path);
      // A transactional worker holds one connection per running attempt, plus its claims and LISTEN.
      const max = options.poolSize ?? Math.max(20, (config.worker?.concurrency ?? 10) + 5);
      const pool = new pg.Pool({ connectionString: url, max });
      // A dropped idle connection must not crash the CLI; the next query reports it.
      pool.on('error', () => {});
      closers.push(() => pool.end());
      const { postgres } = await import('../../drivers/postgres.js');
      store = postgres(pool, { schema: config.schema, table: config.table });
    } else if (config.dialect === 'mysql') {
      const mysql2 = await importPeer('mysql2/promise', loaded.path);
      const connectionLimit = options.poolSize ?? Math.max(20, (config.worker?.concurrency ?? 10) + 5);
      const pool = mysql2.createPool(mysqlPoolOptions(url, connectionLimit));
      closers.push(() => pool.end());
      const { mysql } = await import('../../drivers/mysql.js');
      store = mysql(pool, { table: config.table, database: config.database });
    } else {
      const Database = await importPeer('better-sqlite3', loaded.path);
      let database: { pragma(source: string): unknown; close(): void };
      try {
        database = new Database(url);
      } catch (error) {
        throw new DatabaseUnreachableError(error);
      }
      database.pragma('journal_mode = WAL');
      closers.push(() => database.close());
      const { sqlite } = await import('../../drivers/sqlite.js');
      store = sqlite(database as any, { table: config.table });
    }
  } catch (error) {
    for (const close of closers.reverse()) await close();
    throw explainDatabaseError(error, where);
  }
  const asyncTask = createAsyncTask({
    db: store,
    targets: config.targets,
    encryptor: config.encryptor,
    decryptors: config.decryptors,
    acceptPlaintext: config.acceptPlaintext,
    retry: config.retry,
    onPerformError: config.onPerformError,
    logger: config.logger ?? options.logger,
    recurring: config.recurring,
  });
  const close = async () => {
    await asyncTask.close();
    for (const closer of closers.reverse()) await closer();
  };
  if (!options.skipReadyCheck) {
    try {
      await asyncTask.checkReady();
    } catch (error) {
      await close().catch(() => {});
      throw explainDatabaseError(error, where);
    }
  }
  return { asyncTask, store, config, where, close };
}

/** The library's not-migrated and unreachable errors as one CLI line naming the database and the fix. */
export function explainDatabaseError(error: unknown, where: string): unknown {
  if (error instanceof SchemaNotMigratedError) {
    const message = error.message.replace(/: run .*$/, ` in ${where}: run \`async-task migrate\``);
    return new CliError(message, EXIT.database);
  }
  if (error instanceof DatabaseUnreachableError) {
    const reason = error.message.replace(/^Cannot reach the database: /, '');
    return new CliError(
      `Cannot reach the database ${where}: ${reason}. Check that it is running and that the URL is right.`,
      EXIT.database,
    );
  }
  return error;
}
