import { ArgsSealer } from '../core/args-crypto.js';
import { attemptIdOrNull, checkEnqueueOptions, normalizeId } from '../core/attempt-inputs.js';
import { type EncryptionContext, nullEncryptor } from '../core/encryptors.js';
import {
  AttemptNotFoundError,
  DatabaseUnreachableError,
  InvalidArgumentsError,
  InvalidOptionsError,
  InvalidStateError,
  SchemaNotMigratedError,
  SyncTransactionError,
} from '../core/errors.js';
import { type PerformDeps, performAttempt } from '../core/perform.js';
import { registeredMethods, resolveMethod, type TargetRegistry } from '../core/registry.js';
import { retryPolicyResolver } from '../core/retry-policy.js';
import { ATTEMPT_TRANSITIONS, type AttemptAction, canApply } from '../core/transitions.js';
import {
  ATTEMPT_STATUSES,
  type Attempt,
  type EnqueueOptions,
  type PerformResult,
  silentLogger,
} from '../core/types.js';
import { compileSchedules } from '../recurring/schedule.js';
import { recurringView } from '../recurring/status.js';
import { createRelay } from '../relay/relay.js';
import type { NewAttempt } from '../store/store.js';
import { createWorker } from '../worker/worker.js';
import type { AsyncTask, AsyncTaskOptions } from './async-task.js';
import { attachInternals } from './internals.js';

/**
 * Creates the library's entry point over one database driver and a registry of targets. The composition root:
 * the one place that ties the contract (core) to the worker, the relay and the recurring schedules.
 */
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

  const asyncTask = Object.freeze({
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
        if (store.attemptInsertManySync) return store.attemptInsertManySync(tx, rows).map((result) => result.attempt);
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
  return attachInternals(asyncTask, deps);
}
