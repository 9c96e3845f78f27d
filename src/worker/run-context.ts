import { AsyncTaskError, InvalidStateError } from '../core/errors.js';
import { describeError, type PerformDeps } from '../core/perform.js';
import type { Attempt, Logger } from '../core/types.js';
import type { ClaimRef, WorkerStore } from '../store/worker-store.js';
import type { AttemptAbort } from './abort.js';
import type { WorkerEmitter } from './events.js';
import type { Telemetry } from './telemetry.js';
import type { ResolvedWorkerOptions } from './worker-options.js';

/** What the runners of both modes share with the worker that started them. */
export interface RunContext<Tx> {
  readonly deps: PerformDeps<Tx>;
  readonly store: WorkerStore<Tx>;
  readonly options: ResolvedWorkerOptions;
  readonly owner: string;
  readonly logger: Logger;
  readonly events: WorkerEmitter;
  readonly telemetry: Telemetry;
  /** True once `stop()` began: runners start nothing new. */
  stopping(): boolean;
  /** Registers a running attempt's abort so `stop()` past its timeout can abort it. */
  track(abort: AttemptAbort): () => void;
  /** Feeds the running average of target durations that sizes claims and transactions. */
  observeDuration(ms: number): void;
  /** The claim is settled (outcome written, released or lost): stop renewing its lease. */
  forget(id: string): void;
}

export const claimRef = (attempt: Attempt): ClaimRef => ({ id: attempt.id, numAttempts: attempt.numAttempts });

/** The retry policy's verdict on a failed run, as the guarded write wants it. */
export function failureRecord<Tx>(deps: PerformDeps<Tx>, attempt: Attempt, error: unknown) {
  const policy = deps.retryPolicy(attempt.target, attempt.methodName);
  const exhausted = attempt.numAttempts >= policy.maxAttempts;
  return {
    lastError: describeError(error),
    retryInMs: exhausted ? null : Math.max(0, policy.backoff(attempt.numAttempts)),
  };
}

/** After the failure is committed: log, the user's hook, the event. */
export async function reportFailure<Tx>(
  context: RunContext<Tx>,
  attempt: Attempt,
  updated: Attempt,
  error: unknown,
  durationMs: number,
): Promise<void> {
  const willRetry = updated.status === 'pending';
  context.logger.warn('attempt failed', {
    id: attempt.id,
    target: attempt.target,
    method: attempt.methodName,
    numAttempts: attempt.numAttempts,
    willRetry,
    code: error instanceof AsyncTaskError ? error.code : undefined,
  });
  if (context.deps.onPerformError) {
    try {
      await context.deps.onPerformError(error, updated);
    } catch (hookError) {
      context.logger.error('onPerformError hook threw', { id: attempt.id, error: describeError(hookError) });
    }
  }
  context.events.emit('attempt:failed', { attempt: updated, error, willRetry, durationMs });
}

/** `ctx.tx` of the leased mode: there is no transaction to write through, and using it says so. */
export function noTransaction<Tx>(): Tx {
  return new Proxy(Object.create(null), {
    get(_target, property) {
      if (property === 'then' || typeof property === 'symbol') return undefined;
      throw new InvalidStateError(
        `ctx.tx is not available in the leased mode (read .${String(property)}): the target runs outside any transaction; use the transactional mode for writes that must commit with the outcome`,
      );
    },
  }) as Tx;
}
