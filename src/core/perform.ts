import type { CompiledSchedule } from '../recurring/schedule.js';
import type { Store } from '../store/store.js';
import { abortable } from './abortable.js';
import type { ArgsSealer } from './args-crypto.js';
import { AsyncTaskError, AttemptNotFoundError, AttemptTimeoutError, InvalidStateError } from './errors.js';
import { resolveMethod, type TargetRegistry } from './registry.js';
import type { ResolvedRetryPolicy } from './retry-policy.js';
import type { Attempt, Logger, PerformResult } from './types.js';

// AppTx defaults to any: the worker never enqueues, so it works with any application handle.
export interface PerformDeps<Tx, AppTx = any> {
  readonly store: Store<Tx, AppTx>;
  readonly targets: TargetRegistry;
  readonly sealer: ArgsSealer;
  readonly retryPolicy: (target: string, method: string) => ResolvedRetryPolicy;
  readonly onPerformError?: (error: unknown, attempt: Attempt) => void | Promise<void>;
  readonly logger: Logger;
  /** The recurring schedules a worker enqueues the ticks of (src/recurring/). Default: none. */
  readonly schedules?: readonly CompiledSchedule[];
}

export interface PerformOptions {
  /** Aborts the target through `ctx.signal` (e.g. on worker shutdown). */
  signal?: AbortSignal;
  /** Cut the target off after this long; it then counts as a failed run. Default: no limit. */
  timeoutMs?: number;
}

const MAX_ERROR_LENGTH = 8000;

/** The text kept in `last_error`: the stack when there is one, bounded. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}…` : text;
}

function linkSignals(options: PerformOptions): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (options.signal?.aborted) onOuterAbort();
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => controller.abort(new AttemptTimeoutError(options.timeoutMs as number)), options.timeoutMs);
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onOuterAbort);
    },
  };
}

/** The perform contract of DESIGN.md, steps 1–5. */
export async function performAttempt<Tx, AppTx>(
  deps: PerformDeps<Tx, AppTx>,
  id: string,
  options: PerformOptions = {},
): Promise<PerformResult> {
  const { store } = deps;
  // 1. Not due: nothing happens, num_attempts unchanged.
  const found = await store.attemptFindWithDue(id);
  if (!found) throw new AttemptNotFoundError(id);
  if (!found.due) return { outcome: 'not-due', attempt: found.attempt };
  // 2. Only pending attempts are performed.
  if (found.attempt.status !== 'pending') {
    throw new InvalidStateError(`Attempt ${id} is ${found.attempt.status}, not pending`);
  }
  // 3. Count the run in its own commit, before the call, so a crash still counts.
  const counted = await store.attemptCountRun(id);
  if (!counted) throw new InvalidStateError(`Attempt ${id} is no longer pending`);

  const { signal, dispose } = linkSignals(options);
  try {
    // 4. Under the row's lock: check again, call the target with ctx.tx, mark succeeded, commit together.
    const outcome = await store.transaction(
      async (tx) => {
        const locked = await store.attemptLock(tx, id);
        if (!locked) throw new AttemptNotFoundError(id);
        if (locked.attempt.status !== 'pending') {
          throw new InvalidStateError(`Attempt ${id} is ${locked.attempt.status}, not pending`);
        }
        // Another performer failed it meanwhile and moved it into the future: leave it for then.
        if (!locked.due) return { outcome: 'not-due' as const, attempt: locked.attempt };
        const args = await deps.sealer.open(locked.attempt);
        const method = resolveMethod(deps.targets, locked.attempt.target, locked.attempt.methodName);
        await abortable(
          Promise.resolve().then(() => method(args, { tx, attempt: locked.attempt, signal })),
          signal,
        );
        return { outcome: 'succeeded' as const, attempt: await store.attemptMarkSucceeded(tx, id) };
      },
      { abandonOnError: (error) => error instanceof AttemptTimeoutError || signal.aborted },
    );
    return outcome;
  } catch (error) {
    if (error instanceof InvalidStateError || error instanceof AttemptNotFoundError) throw error;
    return await recordFailure(deps, counted, error);
  } finally {
    dispose();
  }
}

/** 5. The transaction rolled back: keep the error, apply the retry policy, tell the hook. */
async function recordFailure<Tx, AppTx>(
  deps: PerformDeps<Tx, AppTx>,
  counted: Attempt,
  error: unknown,
): Promise<PerformResult> {
  const policy = deps.retryPolicy(counted.target, counted.methodName);
  const exhausted = counted.numAttempts >= policy.maxAttempts;
  const updated =
    (await deps.store.attemptRecordFailure(counted.id, {
      lastError: describeError(error),
      retryInMs: exhausted ? null : Math.max(0, policy.backoff(counted.numAttempts)),
    })) ?? counted;
  deps.logger.warn('attempt failed', {
    id: counted.id,
    target: counted.target,
    method: counted.methodName,
    numAttempts: counted.numAttempts,
    willRetry: !exhausted,
    code: error instanceof AsyncTaskError ? error.code : undefined,
  });
  if (deps.onPerformError) {
    try {
      await deps.onPerformError(error, updated);
    } catch (hookError) {
      deps.logger.error('onPerformError hook threw', { id: counted.id, error: describeError(hookError) });
    }
  }
  return { outcome: updated.status === 'failed' ? 'failed' : 'retrying', attempt: updated, error };
}
