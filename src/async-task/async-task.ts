import type { AcceptPlaintext } from '../core/args-crypto.js';
import type { Encryptor } from '../core/encryptors.js';
import type { PerformOptions } from '../core/perform.js';
import type { MethodArgs, MethodName, TargetRegistry } from '../core/registry.js';
import type { RetryOptions } from '../core/retry-policy.js';
import type {
  Attempt,
  AttemptPage,
  DrainResult,
  EnqueueOptions,
  ListOptions,
  Logger,
  PerformResult,
} from '../core/types.js';
import type { RecurringView } from '../recurring/status.js';
import type { RecurringSchedules } from '../recurring/types.js';
import type { Relay, RelayOptions } from '../relay/relay.js';
import type { Store } from '../store/store.js';
import type { Worker } from '../worker/worker.js';
import type { WorkerOptions } from '../worker/worker-options.js';

export interface AsyncTaskOptions<Targets extends TargetRegistry, Tx, AppTx = Tx> {
  /** The driver: `postgres(pool)` from `async-task-ts/postgres`, `sqlite(database)` from `async-task-ts/sqlite`. */
  db: Store<Tx, AppTx>;
  /** Name → object. Only these objects' methods can ever be called. */
  targets: Targets;
  /** Encrypts arguments at rest. Default: none (stored as JSON text). */
  encryptor?: Encryptor;
  /** Earlier encryptors, kept so rows they wrote still decrypt. Default: none. */
  decryptors?: readonly Encryptor[];
  /**
   * With an `encryptor`, which rows stored in plaintext (encryptor `null`: written before encryption was turned
   * on, or by the SQL enqueue function) are still performed: `true` for all, or a list of `'Target'` and
   * `'Target.method'`. Any other plaintext row fails with a `DecryptionError`, so a table writer cannot have a
   * method called with arguments of their choosing. Without an encryptor every row is plaintext and accepted.
   * Default: none.
   */
  acceptPlaintext?: AcceptPlaintext;
  /** Default: 10 runs in all, exponential backoff from 1 s to 1 h with jitter. */
  retry?: RetryOptions;
  /** Called after a failed run has been recorded (the gem's `handle_perform_error`). Errors it throws are logged. */
  onPerformError?: (error: unknown, attempt: Attempt) => void | Promise<void>;
  /** Default: silent. */
  logger?: Logger;
  /**
   * Name → cron schedule of a target method; every running worker enqueues each tick once
   * (see docs/recurring.md). Default: none.
   */
  recurring?: NoInfer<RecurringSchedules<Targets>>;
}

export interface EnqueueManyOptions {
  /** Not performed before this time. Default: due at once. */
  scheduledAt?: Date;
  /** One per item (same length as the arguments), `undefined` for none. Default: none. */
  idempotenceTokens?: readonly (string | undefined)[];
}

export interface DrainOptions {
  /** Stop after this many performs, as a guard against targets that keep enqueueing. Default: 10,000. */
  limit?: number;
}

export interface AsyncTask<Targets extends TargetRegistry, Tx, AppTx = Tx> {
  /** Creates or upgrades the attempts table. Idempotent; safe from many processes at once. */
  migrate(): Promise<void>;
  /**
   * Connects and checks that the attempts table is migrated: `DatabaseUnreachableError` or
   * `SchemaNotMigratedError` otherwise. `perform`, `find`, `list`, `drain`, `retry`, `expire` and `fail`
   * run it once, before their first query; `enqueue` (inside the caller's transaction) turns a missing
   * table into `SchemaNotMigratedError` from the insert's own error.
   */
  checkReady(): Promise<void>;
  /**
   * Creates an attempt inside the caller's transaction `tx`: performed only after it commits,
   * gone if it rolls back. With an `idempotenceToken` already used for this target and method,
   * returns the existing attempt and creates nothing.
   */
  enqueue<T extends keyof Targets & string, M extends MethodName<Targets[T]>>(
    tx: AppTx,
    target: T,
    method: M,
    args: MethodArgs<Targets[T], M>,
    options?: EnqueueOptions,
  ): Promise<Attempt>;
  /**
   * Many attempts of one target method inside `tx`, in one statement where the dialect allows; returned
   * in the order of `argsList`. Same guarantees as `enqueue`.
   */
  enqueueMany<T extends keyof Targets & string, M extends MethodName<Targets[T]>>(
    tx: AppTx,
    target: T,
    method: M,
    argsList: readonly MethodArgs<Targets[T], M>[],
    options?: EnqueueManyOptions,
  ): Promise<Attempt[]>;
  /** `enqueue` for synchronous transactions (better-sqlite3's `db.transaction(() => …)`). */
  enqueueSync<T extends keyof Targets & string, M extends MethodName<Targets[T]>>(
    tx: AppTx,
    target: T,
    method: M,
    args: MethodArgs<Targets[T], M>,
    options?: EnqueueOptions,
  ): Attempt;
  /** Performs one attempt under the contract; a target's error is recorded, not thrown. */
  perform(id: string | number | bigint, options?: PerformOptions): Promise<PerformResult>;
  /** pending → expired. Anything else: `InvalidStateError`. */
  expire(id: string | number | bigint): Promise<Attempt>;
  /** pending → failed. Anything else: `InvalidStateError`. */
  fail(id: string | number | bigint): Promise<Attempt>;
  /** failed or expired → pending, due now. Anything else: `InvalidStateError`. */
  retry(id: string | number | bigint): Promise<Attempt>;
  find(id: string | number | bigint): Promise<Attempt | null>;
  /** Newest first, keyset-paginated. */
  list(options?: ListOptions): Promise<AttemptPage>;
  /** Decrypts and decodes an attempt's arguments. */
  decodeArgs(attempt: Attempt): Promise<unknown>;
  /** Performs every due attempt now, in this process, until none is due. For the application's tests. */
  drain(options?: DrainOptions): Promise<DrainResult>;
  /**
   * A worker in this process: claims due attempts and performs them (see docs/worker.md). Call `start()`,
   * and `stop()` on SIGTERM/SIGINT.
   */
  worker(options?: WorkerOptions): Worker;
  /**
   * A relay in this process: hands due attempts off to a distributed queue (BullMQ, RabbitMQ, NATS
   * JetStream), one message each, for that queue's consumers to perform (see docs/relay.md).
   */
  relay(options: RelayOptions): Relay;
  /** Closes the library's own connections (never the application's pool or database). */
  close(): Promise<void>;
  /** The recurring schedules: their next and last ticks. */
  readonly recurring: RecurringView;
}
