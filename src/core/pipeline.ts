import type { FailureRecord } from '../store/store.js';
import { abortable } from './abortable.js';
import { errorText, isInstance } from './error-text.js';
import {
  AsyncTaskError,
  DecryptionError,
  RunsExhaustedError,
  UnknownMethodError,
  UnknownTargetError,
  UnreadableAttemptError,
} from './errors.js';
import type { PerformDeps } from './perform-deps.js';
import { resolveMethod } from './registry.js';
import type { Attempt, Logger } from './types.js';

/*
 * The one perform pipeline: `perform()`, both worker runners and a relay's consumers go through these
 * steps, so a poison input is handled the same way wherever it runs.
 *   1. checkRunnable  — a row the library cannot read, or one run past its limit, is refused (permanent)
 *   2. invokeTarget   — open the args, resolve the method, call it under the abort signal
 *   3. failureVerdict — any thrown value → bounded text, and the retry policy's decision
 *   4. reportFailure  — after the failure is written: log and the user's hook, which can never throw
 */

/** The backoff used when the user's backoff function throws or returns no finite number. */
const FALLBACK_BACKOFF_MS = 1000;

const DATE_FIELDS = ['createdAt', 'updatedAt', 'scheduledAt', 'completedAt', 'leaseExpiresAt'] as const;

/**
 * Step 1, after the run was counted: throws a permanent error for a row that must not run — a time the
 * library cannot read, or more runs than `maxAttempts` (earlier runs died without an outcome).
 */
export function checkRunnable<Tx>(deps: PerformDeps<Tx>, attempt: Attempt): void {
  for (const field of DATE_FIELDS) {
    const value = attempt[field];
    if (value !== null && !(value instanceof Date && Number.isFinite(value.getTime()))) {
      throw new UnreadableAttemptError(`Attempt ${attempt.id} has an unreadable ${field}`);
    }
  }
  const { maxAttempts } = deps.retryPolicy(attempt.target, attempt.methodName);
  if (attempt.numAttempts > maxAttempts) throw new RunsExhaustedError(attempt.numAttempts, maxAttempts);
}

/** Step 2: opens the arguments, resolves the registered method, calls it with `ctx`, rejects when `signal` aborts. */
export async function invokeTarget<Tx>(
  deps: PerformDeps<Tx>,
  attempt: Attempt,
  tx: Tx,
  signal: AbortSignal,
): Promise<void> {
  const args = await deps.sealer.open(attempt);
  const method = resolveMethod(deps.targets, attempt.target, attempt.methodName);
  await abortable(
    Promise.resolve().then(() => method(args, { tx, attempt, signal })),
    signal,
  );
}

/** Errors that no retry can cure: the attempt is marked `failed` at once. */
export function isPermanent(error: unknown): boolean {
  return [DecryptionError, UnreadableAttemptError, RunsExhaustedError, UnknownTargetError, UnknownMethodError].some(
    (type) => isInstance(error, type),
  );
}

export interface VerdictOptions {
  /** The run failed through no fault of its target (its transaction was lost): due again at once. */
  readonly innocent?: boolean;
}

/** Step 3: what to write for a failed run. `attempt.numAttempts` already counts this run. */
export function failureVerdict<Tx>(
  deps: PerformDeps<Tx>,
  attempt: Attempt,
  error: unknown,
  options: VerdictOptions = {},
): FailureRecord {
  const lastError = errorText(error);
  const policy = deps.retryPolicy(attempt.target, attempt.methodName);
  if (isPermanent(error) || attempt.numAttempts >= policy.maxAttempts) return { lastError, retryInMs: null };
  if (options.innocent) return { lastError, retryInMs: 0 };
  let ms: number;
  try {
    ms = policy.backoff(attempt.numAttempts);
  } catch (backoffError) {
    deps.logger.error('retry backoff threw; using the fallback', { error: errorText(backoffError) });
    ms = FALLBACK_BACKOFF_MS;
  }
  return { lastError, retryInMs: Number.isFinite(ms) ? Math.max(0, ms) : FALLBACK_BACKOFF_MS };
}

/** Step 4: after the failed run is committed, tell the log and the user's hook; neither can make this throw. */
export async function reportFailure<Tx>(
  deps: PerformDeps<Tx>,
  logger: Logger,
  attempt: Attempt,
  updated: Attempt,
  error: unknown,
): Promise<void> {
  safely(() =>
    logger.warn('attempt failed', {
      id: attempt.id,
      target: attempt.target,
      method: attempt.methodName,
      numAttempts: attempt.numAttempts,
      willRetry: updated.status === 'pending',
      code: isInstance(error, AsyncTaskError) ? safely(() => error.code) : undefined,
      error: errorText(error),
    }),
  );
  if (!deps.onPerformError) return;
  try {
    await deps.onPerformError(error, updated);
  } catch (hookError) {
    safely(() => logger.error('onPerformError hook threw', { id: attempt.id, error: errorText(hookError) }));
  }
}

function safely<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
