import type { Encryptor } from '../../core/encryptors.js';
import type { TargetRegistry } from '../../core/registry.js';
import type { RetryOptions } from '../../core/retry-policy.js';
import type { Attempt, Logger, PerformContext } from '../../core/types.js';
import type { RecurringSchedules } from '../../recurring/types.js';
import type { Store } from '../../store/store.js';
import type { WorkerOptions } from '../../worker/worker-options.js';

export type ConfigDialect = 'postgres' | 'sqlite' | 'mysql';

/** What `async-task worker` passes to `asyncTask.worker(...)` (see docs/worker.md); its flags override these. */
export interface WorkerConfig extends WorkerOptions {
  /** How long `stop` lets running attempts finish on SIGTERM/SIGINT before aborting them. Default: 30000. */
  shutdownTimeoutMs?: number;
}

/** What the driver factory receives. */
export interface DbFactoryContext {
  /**
   * The URL (PostgreSQL, MySQL) or absolute file path (SQLite) after `--url` and `DATABASE_URL` were applied
   * (a SQLite path relative to the config file, `file:` removed).
   */
  readonly url: string;
  /** Registers what closes the instance the factory opened (`db.destroy()`, `pool.end()`…) when the command ends. */
  onClose(close: () => unknown): void;
}

/**
 * The shape of `async-task.config.ts` (or `.mts`, `.js`, `.mjs`): its default export. The CLI opens
 * the database from it; the application can import the same `targets` for its own `createAsyncTask`.
 */
export interface AsyncTaskConfig<Targets extends TargetRegistry = TargetRegistry, Tx = any> {
  /** `postgres`, `sqlite` or `mysql` (MySQL 8.0+ and MariaDB 10.6+). */
  dialect: ConfigDialect;
  /**
   * PostgreSQL: a `postgres://` URL. MySQL: a `mysql://` URL naming the database. SQLite: a file path, relative
   * to the config file.
   * `DATABASE_URL` overrides it, and `--url` overrides both. Default: none (then `db` or `DATABASE_URL` is needed).
   */
  url?: string;
  /**
   * Builds the driver yourself from the resolved `url`: an ORM's driver over its instance (targets then
   * receive that ORM's transaction as `ctx.tx`), or a pool of your own size, e.g.
   * `({ url, onClose }) => { const db = new Kysely(…); onClose(() => db.destroy()); return kyselyDriver(db); }`.
   * Targets whose `ctx` takes another transaction type are a type error.
   * Default: `postgres(pg.Pool)`, `mysql(mysql2 pool)` or `sqlite(Database)` (in WAL mode) opened on `url`.
   */
  db?: (context: DbFactoryContext) => Store<Tx, any> | Promise<Store<Tx, any>>;
  /** PostgreSQL schema of the table (`migrate` creates it). Default: `async_task`, the library's own. */
  schema?: string;
  /** Default: `async_task_attempts`. */
  table?: string;
  /** MySQL database of the tables, when not the URL's. Default: the URL's database. */
  database?: string;
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

/** The signature a method must have to be called with the driver's transaction `Tx`. */
export type MethodOverTx<Tx> = (args: never, ctx: PerformContext<Tx>) => unknown;

/**
 * `Targets`, with every method whose `ctx` cannot take `PerformContext<Tx>` replaced by the signature it
 * should have, so a target written for another driver's transaction fails to type-check.
 */
export type TargetsOverTx<Targets, Tx> = {
  [T in keyof Targets]: {
    [M in keyof Targets[T]]: Targets[T][M] extends (args: never, ctx: infer Ctx) => unknown
      ? PerformContext<Tx> extends Ctx
        ? Targets[T][M]
        : MethodOverTx<Tx>
      : Targets[T][M];
  };
};

/**
 * Types the config file's default export; returns it unchanged. With `db`, the targets' `ctx.tx` must be
 * the driver's transaction (a Kysely target under a pg driver does not compile).
 */
export function defineConfig<const Targets extends TargetRegistry, Tx = any>(
  config: AsyncTaskConfig<Targets, Tx> & { targets: NoInfer<TargetsOverTx<Targets, Tx>> },
): AsyncTaskConfig<Targets, Tx> {
  return config;
}
