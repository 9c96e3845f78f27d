import { InvalidStateError } from '../core/errors.js';
import type { PerformDeps } from '../core/perform-deps.js';
import { reportFailure as reportToHook } from '../core/pipeline.js';
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
  /** Room was made (outcomes written): the claim loop may claim again. */
  capacityFreed(): void;
  /** The claim is settled (outcome written, released or lost): stop renewing its lease. */
  forget(id: string): void;
  /** Claimed attempts a transactional group did not start (its time budget ran out): run them in other slots. */
  requeue(attempts: readonly Attempt[]): void;
}

export const claimRef = (attempt: Attempt): ClaimRef => ({ id: attempt.id, numAttempts: attempt.numAttempts });

/** After the failure is committed: the log and the user's hook (the one pipeline's step 4), then the event. */
export async function reportFailure<Tx>(
  context: RunContext<Tx>,
  attempt: Attempt,
  updated: Attempt,
  error: unknown,
  durationMs: number,
): Promise<void> {
  await reportToHook(context.deps, context.logger, attempt, updated, error);
  context.events.emit('attempt:failed', {
    attempt: updated,
    error,
    willRetry: updated.status === 'pending',
    durationMs,
  });
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
