import { InvalidOptionsError } from '../core/errors.js';
import type { PerformDeps } from '../core/perform-deps.js';
import type { AsyncTask } from './async-task.js';

/**
 * What `createAsyncTask` composed (store, registry, sealer, policy, logger, schedules), per instance. Kept here,
 * off the public `AsyncTask` type, for this package's dashboard and tests; never exported from the index.
 */
const INTERNALS = new WeakMap<object, PerformDeps<any, any>>();

/** Records the internals of an instance `createAsyncTask` just made. */
export function attachInternals<T extends object>(asyncTask: T, deps: PerformDeps<any, any>): T {
  INTERNALS.set(asyncTask, deps);
  return asyncTask;
}

/** The internals of `asyncTask`, or `undefined` when it is not a value `createAsyncTask` returned. */
export function findInternals<Tx, AppTx>(asyncTask: AsyncTask<any, Tx, AppTx>): PerformDeps<Tx, AppTx> | undefined;
export function findInternals(asyncTask: unknown): PerformDeps<unknown, unknown> | undefined;
export function findInternals(asyncTask: unknown): PerformDeps<any, any> | undefined {
  return typeof asyncTask === 'object' && asyncTask !== null ? INTERNALS.get(asyncTask) : undefined;
}

/** The internals of `asyncTask`; `InvalidOptionsError` when it is not a value `createAsyncTask` returned. */
export function internalsOf<Tx, AppTx>(asyncTask: AsyncTask<any, Tx, AppTx>): PerformDeps<Tx, AppTx> {
  const deps = findInternals(asyncTask);
  if (!deps) throw new InvalidOptionsError('asyncTask must be the value createAsyncTask returned');
  return deps;
}
