import type { Encryptor } from '../../core/encryptors.js';
import type { TargetRegistry } from '../../core/registry.js';
import type { RetryOptions } from '../../core/retry-policy.js';
import type { Attempt, Logger } from '../../core/types.js';
import type { RecurringSchedules } from '../../recurring/types.js';
import type { Store } from '../../store/store.js';
import type { WorkerOptions } from '../../worker/worker-options.js';

export type ConfigDialect = 'postgres' | 'sqlite';

/** What `async-task worker` passes to `asyncTask.worker(...)` (see docs/worker.md); its flags override these. */
export interface WorkerConfig extends WorkerOptions {
  /** How long `stop` lets running attempts finish on SIGTERM/SIGINT before aborting them. Default: 30000. */
  shutdownTimeoutMs?: number;
}

/** What the driver factory receives. */
export interface DbFactoryContext {
  /** The URL (PostgreSQL) or file path (SQLite) after `--url` and `DATABASE_URL` were applied. */
  readonly url: string | undefined;
}

/**
 * The shape of `async-task.config.ts` (or `.mts`, `.js`, `.mjs`): its default export. The CLI opens
 * the database from it; the application can import the same `targets` for its own `createAsyncTask`.
 */
export interface AsyncTaskConfig<Targets extends TargetRegistry = TargetRegistry> {
  /** `postgres` or `sqlite`. */
  dialect: ConfigDialect;
  /**
   * PostgreSQL: a connection URL. SQLite: a file path, relative to the config file.
   * `DATABASE_URL` overrides it, and `--url` overrides both. Default: none (then `db` or `DATABASE_URL` is needed).
   */
  url?: string;
  /**
   * Builds the driver yourself (pool size, TLS, pragmas…) from the resolved `url`, e.g.
   * `({ url }) => postgres(new pg.Pool({ connectionString: url, max: 20 }))`.
   * Default: a `pg.Pool` or a better-sqlite3 `Database` (in WAL mode) opened on `url`.
   */
  db?: (context: DbFactoryContext) => Store<any> | Promise<Store<any>>;
  /** PostgreSQL schema of the table. Default: `public`. */
  schema?: string;
  /** Default: `async_task_attempts`. */
  table?: string;
  /** Name → object: the targets the worker may call. */
  targets: Targets;
  /** Default: none (arguments stored as JSON text). */
  encryptor?: Encryptor;
  /** Default: none. */
  decryptors?: readonly Encryptor[];
  /** With an `encryptor`: plaintext rows still performed (`true`, or `'Target'` / `'Target.method'` entries). Default: none. */
  acceptPlaintext?: boolean | readonly string[];
  /** Default: 10 runs in all, exponential backoff from 1 s to 1 h with jitter. */
  retry?: RetryOptions;
  /** Default: none. */
  onPerformError?: (error: unknown, attempt: Attempt) => void | Promise<void>;
  /** Default: the CLI's own logger on stderr (quiet unless `--verbose`). */
  logger?: Logger;
  /** Default: the worker's own defaults (docs/worker.md). */
  worker?: WorkerConfig;
  /** Name → cron schedule of a target method, enqueued by `async-task worker` (docs/recurring.md). Default: none. */
  recurring?: NoInfer<RecurringSchedules<Targets>>;
}

/** Types the config file's default export; returns it unchanged. */
export function defineConfig<const Targets extends TargetRegistry>(
  config: AsyncTaskConfig<Targets>,
): AsyncTaskConfig<Targets> {
  return config;
}
