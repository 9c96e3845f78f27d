import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type AsyncTask, createAsyncTask } from '../../core/async-task.js';
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
}

export interface OpenedAsyncTask {
  readonly asyncTask: AsyncTask<any, any>;
  readonly store: Store<any>;
  readonly config: AsyncTaskConfig;
  /** Where it connected, without a password, for messages. */
  readonly where: string;
  close(): Promise<void>;
}

/** `--url`, then `DATABASE_URL`, then the config's `url`. */
export function resolveUrl(config: AsyncTaskConfig, flag: string | undefined): string | undefined {
  return flag ?? (process.env.DATABASE_URL || undefined) ?? config.url;
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

/** Opens the database the config describes and creates the AsyncTask over it. */
export async function openAsyncTask(loaded: LoadedConfig, options: OpenOptions): Promise<OpenedAsyncTask> {
  const { config } = loaded;
  const url = resolveUrl(config, options.url);
  const closers: (() => Promise<unknown> | unknown)[] = [];
  let store: Store<any>;
  let where: string;
  if (config.db) {
    store = await config.db({ url });
    where = url ? redactUrl(url) : `${config.dialect} (from the config's db)`;
  } else if (!url) {
    throw new CliError(
      'No database: set url in the config, the DATABASE_URL environment variable, or pass --url',
      EXIT.config,
    );
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
    where = redactUrl(url);
  } else {
    const Database = await importPeer('better-sqlite3', loaded.path);
    // `file:./app.db` (Prisma's spelling) names the same file as `./app.db`.
    const file = path.resolve(path.dirname(loaded.path), url.replace(/^file:/, ''));
    const database = new Database(file);
    database.pragma('journal_mode = WAL');
    closers.push(() => database.close());
    const { sqlite } = await import('../../drivers/sqlite.js');
    store = sqlite(database, { table: config.table });
    where = file;
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
  return {
    asyncTask,
    store,
    config,
    where,
    async close() {
      await asyncTask.close();
      for (const close of closers.reverse()) await close();
    },
  };
}
