import { compileSchedules } from '../recurring/schedule.js';
import { type RecurringView, recurringView } from '../recurring/status.js';
import type { RecurringSchedules } from '../recurring/types.js';
import { createRelay, type Relay, type RelayOptions } from '../relay/relay.js';
import type { NewAttempt, Store } from '../store/store.js';
import { createWorker, type Worker } from '../worker/worker.js';
import type { WorkerOptions } from '../worker/worker-options.js';
import { type AcceptPlaintext, ArgsSealer } from './args-crypto.js';
import { type EncryptionContext, type Encryptor, nullEncryptor } from './encryptors.js';
import {
  AttemptNotFoundError,
  DatabaseUnreachableError,
  InvalidArgumentsError,
  InvalidOptionsError,
  InvalidStateError,
  SchemaNotMigratedError,
  SyncTransactionError,
} from './errors.js';
import { type PerformDeps, type PerformOptions, performAttempt } from './perform.js';
import { type MethodArgs, type MethodName, registeredMethods, resolveMethod, type TargetRegistry } from './registry.js';
import { type RetryOptions, retryPolicyResolver } from './retry-policy.js';
import { ATTEMPT_TRANSITIONS, type AttemptAction, canApply } from './transitions.js';
import {
  ATTEMPT_STATUSES,
  type Attempt,
  type AttemptPage,
  type DrainResult,
  type EnqueueOptions,
  type ListOptions,
  type Logger,
  type PerformResult,
  silentLogger,
} from './types.js';

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
  /** Internal, for the worker and tools of this package. */
  readonly internals: PerformDeps<Tx, AppTx>;
}

const ID_PATTERN = /^[1-9][0-9]{0,18}$/;
const MAX_ID = 2n ** 63n - 1n;
/** What both databases store faithfully (PostgreSQL's timestamptz reaches further back, SQLite sorts ISO text). */
const MIN_SCHEDULED_AT = Date.UTC(1, 0, 1) - 1;
const MAX_SCHEDULED_AT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** An id both databases can hold (a positive 64-bit integer), as text; `null` for anything else. */
export function attemptIdOrNull(id: unknown): string | null {
  if (typeof id !== 'string' && typeof id !== 'number' && typeof id !== 'bigint') return null;
  const text = String(id);
  return ID_PATTERN.test(text) && BigInt(text) <= MAX_ID ? text : null;
}

function normalizeId(id: string | number | bigint): string {
  const text = attemptIdOrNull(id);
  if (text === null) throw new AttemptNotFoundError(String(id).slice(0, 100));
  return text;
}

function checkEnqueueOptions(options: EnqueueOptions | undefined): { token: string | null; scheduledAt: Date | null } {
  if (options === undefined) return { token: null, scheduledAt: null };
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentsError('enqueue options must be an object');
  const { idempotenceToken, scheduledAt } = options;
  if (idempotenceToken !== undefined && (typeof idempotenceToken !== 'string' || idempotenceToken.length === 0)) {
    throw new InvalidArgumentsError('idempotenceToken must be a non-empty string');
  }
  if (idempotenceToken?.includes('\u0000')) {
    throw new InvalidArgumentsError('idempotenceToken must not contain a NUL character');
  }
  if (scheduledAt !== undefined && !(scheduledAt instanceof Date && !Number.isNaN(scheduledAt.getTime()))) {
    throw new InvalidArgumentsError('scheduledAt must be a valid Date');
  }
  if (
    scheduledAt !== undefined &&
    !(scheduledAt.getTime() > MIN_SCHEDULED_AT && scheduledAt.getTime() <= MAX_SCHEDULED_AT)
  ) {
    throw new InvalidArgumentsError('scheduledAt must be between the years 1 and 9999');
  }
  return { token: idempotenceToken ?? null, scheduledAt: scheduledAt ?? null };
}

/** Creates the library's entry point over one database driver and a registry of targets. */
export function createAsyncTask<const Targets extends TargetRegistry, Tx, AppTx = Tx>(
  options: AsyncTaskOptions<Targets, Tx, AppTx>,
): AsyncTask<Targets, Tx, AppTx> {
  if (!options || typeof options !== 'object') throw new InvalidOptionsError('createAsyncTask needs an options object');
  const { db: store, targets } = options;
  if (!store || typeof store.attemptInsert !== 'function') {
    throw new InvalidOptionsError(
      'db must be a driver: postgres(pool) from async-task-ts/postgres or sqlite(database) from async-task-ts/sqlite',
    );
  }
  if (!targets || typeof targets !== 'object')
    throw new InvalidOptionsError('targets must be an object of name → target');
  const methods = registeredMethods(targets);
  if (methods.length === 0) {
    throw new InvalidOptionsError(
      'targets has no target with a method: register at least one (only registered targets can ever be called)',
    );
  }
  if (options.onPerformError !== undefined && typeof options.onPerformError !== 'function') {
    throw new InvalidOptionsError('onPerformError must be a function');
  }
  const sealer = new ArgsSealer(options.encryptor ?? nullEncryptor, options.decryptors ?? [], options.acceptPlaintext);
  const deps: PerformDeps<Tx, AppTx> = Object.freeze({
    store,
    targets,
    sealer,
    retryPolicy: retryPolicyResolver(options.retry),
    onPerformError: options.onPerformError,
    logger: options.logger ?? silentLogger,
    schedules: compileSchedules(targets, options.recurring),
  });

  const checkReady = async () => {
    if (!store.schemaVersion) return;
    let version: Awaited<ReturnType<NonNullable<typeof store.schemaVersion>>>;
    try {
      version = await store.schemaVersion();
    } catch (error) {
      throw new DatabaseUnreachableError(error);
    }
    if (version.applied < version.latest) {
      throw new SchemaNotMigratedError(store.tableName, version.applied, version.latest);
    }
  };
  // Checked once per instance, before the first operation; a failed check is tried again next time.
  let ready: Promise<void> | undefined;
  const ensureReady = () => {
    ready ??= checkReady().catch((error) => {
      ready = undefined;
      throw error;
    });
    return ready;
  };

  // Enqueue runs inside the caller's transaction, which may hold the pool's last connection: instead of a
  // check on another connection first, a missing table is recognised from the insert's own error.
  const explainInsertError = (error: unknown): unknown =>
    store.isMissingTableError?.(error) ? new SchemaNotMigratedError(store.tableName, 0, 0) : error;

  const prepare = (target: string, method: string, enqueueOptions: EnqueueOptions | undefined) => {
    resolveMethod(targets, target, method);
    return checkEnqueueOptions(enqueueOptions);
  };

  // expire, fail and retry share one shape: under the lock, from the statuses the transitions table allows.
  const transition = async (
    rawId: string | number | bigint,
    action: AttemptAction,
    change: (tx: Tx, id: string) => Promise<Attempt>,
  ): Promise<Attempt> => {
    const id = normalizeId(rawId);
    await ensureReady();
    return store.transaction(async (tx) => {
      const locked = await store.attemptLock(tx, id);
      if (!locked) throw new AttemptNotFoundError(id);
      if (!canApply(action, locked.attempt.status)) {
        const allowed = ATTEMPT_TRANSITIONS[action].from.join(' or ');
        throw new InvalidStateError(`Attempt ${id} is ${locked.attempt.status}; expected ${allowed}`);
      }
      return change(tx, id);
    });
  };

  /**
   * With a synchronous driver (better-sqlite3) the row is written before this returns its promise: called
   * inside `db.transaction(() => …)`, awaited or not, the attempt joins that transaction and rolls back with it.
   */
  const sealSyncForJoin = (args: unknown, binding: EncryptionContext): string => {
    const sealed = sealer.sealNow(args, binding);
    if (typeof sealed !== 'string') {
      throw new SyncTransactionError(
        `the encryptor ${JSON.stringify(sealer.encryptorName)} is asynchronous: on SQLite, enqueue() writes the attempt synchronously so that it joins a synchronous transaction (use enqueueSync there), which needs a synchronous encryptor (aesGcmEncryptor is one)`,
      );
    }
    return sealed;
  };
  const insertNow = (tx: AppTx, row: Omit<NewAttempt, 'methodArgs'>, args: unknown): Attempt | null => {
    if (!store.attemptInsertSync) return null;
    return store.attemptInsertSync(tx, { ...row, methodArgs: sealSyncForJoin(args, row) }).attempt;
  };

  return Object.freeze({
    internals: deps,
    recurring: recurringView(deps),
    async migrate() {
      await store.migrate();
      ready = Promise.resolve();
    },
    checkReady: () => ensureReady(),

    async enqueue(tx, target, method, args, enqueueOptions) {
      const { token, scheduledAt } = prepare(target, method, enqueueOptions);
      const row = { target, methodName: method, encryptor: sealer.encryptorName, idempotenceToken: token, scheduledAt };
      try {
        const written = insertNow(tx, row, args);
        if (written) return written;
        const methodArgs = await sealer.seal(args, row);
        const { attempt } = await store.attemptInsert(tx, { ...row, methodArgs });
        return attempt;
      } catch (error) {
        throw explainInsertError(error);
      }
    },

    async enqueueMany(tx, target, method, argsList, manyOptions = {}) {
      if (!Array.isArray(argsList)) throw new InvalidArgumentsError('enqueueMany: argsList must be an array');
      const tokens = manyOptions.idempotenceTokens;
      if (tokens !== undefined && (!Array.isArray(tokens) || tokens.length !== argsList.length)) {
        throw new InvalidArgumentsError('enqueueMany: idempotenceTokens must have one entry per item');
      }
      const rows: NewAttempt[] = [];
      const syncStore = store.attemptInsertSync !== undefined;
      for (let index = 0; index < argsList.length; index++) {
        const token = tokens?.[index];
        const checked = prepare(target, method, {
          ...(token === undefined ? {} : { idempotenceToken: token }),
          ...(manyOptions.scheduledAt === undefined ? {} : { scheduledAt: manyOptions.scheduledAt }),
        });
        const binding = { target, methodName: method, idempotenceToken: checked.token };
        rows.push({
          target,
          methodName: method,
          methodArgs: syncStore
            ? sealSyncForJoin(argsList[index], binding)
            : await sealer.seal(argsList[index], binding),
          encryptor: sealer.encryptorName,
          idempotenceToken: checked.token,
          scheduledAt: checked.scheduledAt,
        });
      }
      try {
        // Synchronous drivers: every row is written before the first await (see insertNow).
        if (store.attemptInsertSync) return rows.map((row) => store.attemptInsertSync?.(tx, row).attempt as Attempt);
        if (store.attemptInsertMany) return (await store.attemptInsertMany(tx, rows)).map((result) => result.attempt);
        const attempts: Attempt[] = [];
        for (const row of rows) attempts.push((await store.attemptInsert(tx, row)).attempt);
        return attempts;
      } catch (error) {
        throw explainInsertError(error);
      }
    },

    enqueueSync(tx, target, method, args, enqueueOptions) {
      if (!store.attemptInsertSync) {
        throw new InvalidOptionsError(`enqueueSync needs a synchronous driver (sqlite); ${store.dialect} has none`);
      }
      const { token, scheduledAt } = prepare(target, method, enqueueOptions);
      const methodArgs = sealer.sealSync(args, { target, methodName: method, idempotenceToken: token });
      try {
        return store.attemptInsertSync(tx, {
          target,
          methodName: method,
          methodArgs,
          encryptor: sealer.encryptorName,
          idempotenceToken: token,
          scheduledAt,
        }).attempt;
      } catch (error) {
        throw explainInsertError(error);
      }
    },

    async perform(id, performOptions) {
      const key = normalizeId(id);
      await ensureReady();
      return performAttempt<Tx, AppTx>(deps, key, performOptions);
    },
    expire: async (id) => transition(id, 'expire', (tx, key) => store.attemptComplete(tx, key, 'expired')),
    fail: async (id) => transition(id, 'fail', (tx, key) => store.attemptComplete(tx, key, 'failed')),
    retry: async (id) => transition(id, 'retry', (tx, key) => store.attemptRequeue(tx, key)),

    async find(id) {
      const text = attemptIdOrNull(id);
      if (text === null) return null;
      await ensureReady();
      return store.attemptFind(text);
    },

    async list(listOptions = {}) {
      const limit = listOptions.limit ?? 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw new InvalidOptionsError('list: limit must be an integer from 1 to 1000');
      }
      if (listOptions.status !== undefined && !ATTEMPT_STATUSES.includes(listOptions.status)) {
        throw new InvalidOptionsError(`list: status must be one of ${ATTEMPT_STATUSES.join(', ')}`);
      }
      for (const field of ['target', 'method', 'idempotenceToken'] as const) {
        const value = listOptions[field];
        if (value !== undefined && (typeof value !== 'string' || value.includes('\u0000'))) {
          throw new InvalidOptionsError(`list: ${field} must be a string without NUL characters`);
        }
      }
      if (listOptions.cursor !== undefined && attemptIdOrNull(listOptions.cursor) === null) {
        throw new InvalidOptionsError('list: cursor is not one this library returned');
      }
      await ensureReady();
      const attempts = await store.attemptList({ ...listOptions, limit });
      const last = attempts.at(-1);
      return { attempts, nextCursor: attempts.length === limit && last ? last.id : null };
    },

    decodeArgs: (attempt) => sealer.open(attempt),

    async drain(drainOptions = {}) {
      const limit = drainOptions.limit ?? 10_000;
      const counts = { performed: 0, succeeded: 0, retrying: 0, failed: 0 };
      await ensureReady();
      while (counts.performed < limit) {
        const ids = await store.attemptListDueIds(Math.min(100, limit - counts.performed), methods);
        if (ids.length === 0) break;
        for (const id of ids) {
          let result: PerformResult;
          try {
            result = await performAttempt<Tx, AppTx>(deps, id);
          } catch (error) {
            // Someone else completed it between listing and performing.
            if (error instanceof InvalidStateError || error instanceof AttemptNotFoundError) continue;
            throw error;
          }
          if (result.outcome === 'not-due') continue;
          counts.performed++;
          counts[result.outcome]++;
        }
      }
      return counts;
    },

    worker: (workerOptions) => createWorker({ ...deps, checkReady: ensureReady }, workerOptions),
    relay: (relayOptions) => createRelay(deps, relayOptions),
    close: () => store.close(),
  } satisfies AsyncTask<Targets, Tx, AppTx>);
}
