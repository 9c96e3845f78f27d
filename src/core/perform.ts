import { isInstance } from './error-text.js';
import { AttemptNotFoundError, AttemptTimeoutError, InvalidStateError } from './errors.js';
import type { PerformDeps } from './perform-deps.js';
import { checkRunnable, failureVerdict, invokeTarget, reportFailure } from './pipeline.js';
import { resolveMethod } from './registry.js';
import type { Attempt, PerformResult } from './types.js';

export type { PerformDeps } from './perform-deps.js';

export interface PerformOptions {
  /** Aborts the target through `ctx.signal` (e.g. on worker shutdown). */
  signal?: AbortSignal;
  /** Cut the target off after this long; it then counts as a failed run. Default: no limit. */
  timeoutMs?: number;
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

/** The perform contract, steps 1–5, over the one pipeline (pipeline.ts). */
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
  // 2. Only pending attempts are performed, and only those whose target and method this registry has:
  //    an attempt for another service's target stays pending, uncounted, for a process that knows it.
  if (found.attempt.status !== 'pending') {
    throw new InvalidStateError(`Attempt ${id} is ${found.attempt.status}, not pending`);
  }
  resolveMethod(deps.targets, found.attempt.target, found.attempt.methodName);
  // 3. Count the run in its own commit, before the call, so a crash still counts.
  const counted = await store.attemptCountRun(id);
  if (!counted) throw new InvalidStateError(`Attempt ${id} is no longer pending`);

  const { signal, dispose } = linkSignals(options);
  try {
    // 4. Under the row's lock: check again, call the target with ctx.tx, mark succeeded, commit together.
    return await store.transaction(
      async (tx) => {
        const locked = await store.attemptLock(tx, id);
        if (!locked) throw new AttemptNotFoundError(id);
        if (locked.attempt.status !== 'pending') {
          throw new InvalidStateError(`Attempt ${id} is ${locked.attempt.status}, not pending`);
        }
        // Another performer failed it meanwhile and moved it into the future: leave it for then.
        if (!locked.due) return { outcome: 'not-due' as const, attempt: locked.attempt };
        checkRunnable(deps, locked.attempt);
        await invokeTarget(deps, locked.attempt, tx, signal);
        return { outcome: 'succeeded' as const, attempt: await store.attemptMarkSucceeded(tx, id) };
      },
      { abandonOnError: (error) => signal.aborted || isInstance(error, AttemptTimeoutError) },
    );
  } catch (error) {
    if (isInstance(error, InvalidStateError) || isInstance(error, AttemptNotFoundError)) throw error;
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
  const updated = (await deps.store.attemptRecordFailure(counted.id, failureVerdict(deps, counted, error))) ?? counted;
  await reportFailure(deps, deps.logger, counted, updated, error);
  return { outcome: updated.status === 'failed' ? 'failed' : 'retrying', attempt: updated, error };
}
