import { errorText, isInstance } from '../core/error-text.js';
import { checkRunnable, failureVerdict, invokeTarget } from '../core/pipeline.js';
import type { Attempt } from '../core/types.js';
import { AttemptAbort } from './abort.js';
import { claimRef, type RunContext, reportFailure } from './run-context.js';
import type { AttemptTrace } from './telemetry.js';

/**
 * A group runs one attempt after another in one transaction; once its attempts have taken this long, the
 * rest go back to the worker's queue for other slots. Batching pays for fast targets only: a slow one
 * never holds back the attempts claimed with it, and a cut-off target takes little work down with it.
 */
const GROUP_BUDGET_MS = 100;

/** Thrown inside the group's transaction to abandon it: a target was aborted and may still hold `ctx.tx`. */
class AbandonGroup extends Error {
  constructor(
    readonly attempt: Attempt,
    override readonly cause: unknown,
  ) {
    super('abandoned');
  }
}

interface Started {
  readonly attempt: Attempt;
  readonly trace: AttemptTrace;
  readonly startedAt: number;
  /** Set once the target returned and its outcome is decided (inside the transaction). */
  outcome?: { readonly durationMs: number; readonly failure?: { readonly error: unknown; readonly updated: Attempt } };
}

/**
 * The transactional mode, batched. The claim already counted every run of the group in one commit
 * (contract step 3). Then one transaction locks the group's rows, checks each is still pending and
 * held by this claim, and performs them one after another through the one pipeline, each in its own
 * savepoint: a target that throws — or returns after catching a database error that left the transaction
 * aborted — rolls back only its own writes, and its failure is recorded in the same transaction. The
 * succeeded ones are marked in one statement and commit together with their targets' writes through
 * `ctx.tx` (step 4). A target cut off (timeout, stop) may still hold `ctx.tx`, so the whole transaction is
 * abandoned and its connection discarded; every run that started is then recorded as a failed run (its
 * count kept), and those that never started go back to the queue uncounted.
 */
export class TransactionalRunner<Tx> {
  constructor(private readonly context: RunContext<Tx>) {}

  async run(group: readonly Attempt[]): Promise<void> {
    const { context } = this;
    const { store, deps, owner } = context;
    let started: Started[] = [];
    let unstarted: Attempt[] = [];
    try {
      await deps.store.transaction(
        async (tx) => {
          started = [];
          unstarted = [];
          const locked = await store.attemptLockClaims(tx, owner, group.map(claimRef));
          const lockedIds = new Set(locked.map((attempt) => attempt.id));
          for (const attempt of group) {
            if (!lockedIds.has(attempt.id)) {
              context.forget(attempt.id);
              context.events.emit('attempt:lost', { attemptId: attempt.id });
            }
          }
          const groupStart = performance.now();
          for (let index = 0; index < locked.length; index++) {
            const overBudget = index > 0 && performance.now() - groupStart > GROUP_BUDGET_MS;
            if (context.stopping() || overBudget) {
              unstarted = locked.slice(index);
              break;
            }
            const attempt = locked[index] as Attempt;
            const run: Started = {
              attempt,
              trace: context.telemetry.startAttempt(attempt, 'transactional'),
              startedAt: performance.now(),
            };
            started.push(run);
            await this.perform(tx, run);
          }
          const succeeded = started.filter((run) => !run.outcome?.failure).map((run) => claimRef(run.attempt));
          await store.attemptMarkSucceededClaims(tx, owner, succeeded);
        },
        { abandonOnError: (error) => isInstance(error, AbandonGroup) },
      );
    } catch (error) {
      await this.afterRollback(group, started, error);
      return;
    }
    for (const { attempt, trace, outcome } of started) {
      context.forget(attempt.id);
      const durationMs = outcome?.durationMs ?? 0;
      if (outcome?.failure) {
        trace.end(outcome.failure.updated.status === 'failed' ? 'failed' : 'retrying', outcome.failure.error);
        await reportFailure(context, attempt, outcome.failure.updated, outcome.failure.error, durationMs);
      } else {
        trace.end('succeeded');
        context.events.emit('attempt:succeeded', { attempt, durationMs });
      }
    }
    if (unstarted.length === 0) return;
    // Stopping: back to pending, uncounted. Otherwise: still claimed by this worker, for the next free slots.
    if (context.stopping()) await this.release(unstarted);
    else context.requeue(unstarted);
  }

  /** One attempt through the pipeline, inside the group's transaction, in its own savepoint. */
  private async perform(tx: Tx, run: Started): Promise<void> {
    const { context } = this;
    const { attempt } = run;
    const abort = new AttemptAbort(context.options.timeoutMs);
    const scope = context.store.attemptScope(tx);
    const untrack = context.track(abort);
    context.events.emit('attempt:start', { attempt });
    try {
      checkRunnable(context.deps, attempt);
      await scope.begin();
      await invokeTarget(context.deps, attempt, scope.tx, abort.signal);
      // A database error the target caught may have left the transaction aborted: then its writes cannot commit.
      await scope.check();
      run.outcome = { durationMs: this.observe(run) };
    } catch (error) {
      const durationMs = this.observe(run);
      if (abort.signal.aborted) throw new AbandonGroup(attempt, error);
      await scope.rollback();
      const updated = await context.store.attemptRecordClaimFailure(
        tx,
        context.owner,
        claimRef(attempt),
        failureVerdict(context.deps, attempt, error),
      );
      run.outcome = { durationMs, failure: { error, updated: updated ?? attempt } };
    } finally {
      abort.dispose();
      untrack();
    }
  }

  private observe(run: Started): number {
    const durationMs = performance.now() - run.startedAt;
    this.context.observeDuration(durationMs);
    return durationMs;
  }

  /**
   * The transaction rolled back, so no write of the group survived. A run that started stays counted and
   * is recorded as a failed run in a commit of its own: the one running when it happened is charged with
   * the error (a cut-off target, a connection that died under it), the others — whose targets had
   * returned — are due again at once. Attempts that never started go back to pending, uncounted.
   */
  private async afterRollback(group: readonly Attempt[], started: readonly Started[], error: unknown): Promise<void> {
    const { context } = this;
    if (!isInstance(error, AbandonGroup)) {
      context.events.emit('error', { error, during: 'performing a batch of attempts' });
    }
    const culprit = isInstance(error, AbandonGroup)
      ? error.attempt.id
      : started.find((run) => run.outcome === undefined)?.attempt.id;
    const cause = isInstance(error, AbandonGroup) ? error.cause : error;
    for (const run of started) {
      const guilty = run.attempt.id === culprit;
      const reason = guilty
        ? cause
        : new Error(`This run's writes were rolled back with its group's transaction: ${describeLoss(error)}`);
      run.trace.end('lost', reason);
      await this.recordLostRun(run.attempt, reason, !guilty);
    }
    const startedIds = new Set(started.map((run) => run.attempt.id));
    await this.release(group.filter((attempt) => !startedIds.has(attempt.id)));
  }

  private async recordLostRun(attempt: Attempt, error: unknown, innocent: boolean): Promise<void> {
    const { context } = this;
    try {
      const updated = await context.store.attemptRecordClaimFailure(
        null,
        context.owner,
        claimRef(attempt),
        failureVerdict(context.deps, attempt, error, { innocent }),
      );
      if (updated) await reportFailure(context, attempt, updated, error, 0);
      else context.events.emit('attempt:lost', { attemptId: attempt.id });
    } catch (writeError) {
      // Its lease lapses and it runs again, still counted; past maxAttempts the pipeline fails it unrun.
      context.events.emit('error', { error: writeError, during: 'recording a run lost with its transaction' });
    } finally {
      context.forget(attempt.id);
    }
  }

  /** Claimed, never started: back to pending, due at once, the claim's count given back. */
  private async release(attempts: readonly Attempt[]): Promise<void> {
    if (attempts.length === 0) return;
    const { context } = this;
    try {
      await context.store.attemptReleaseClaims(context.owner, attempts.map(claimRef), { uncount: true });
    } catch (error) {
      // Their leases lapse instead, and they run again then.
      context.events.emit('error', { error, during: 'releasing claimed attempts' });
    } finally {
      for (const attempt of attempts) context.forget(attempt.id);
    }
  }
}

function describeLoss(error: unknown): string {
  if (isInstance(error, AbandonGroup)) return `attempt ${error.attempt.id} was cut off and its transaction abandoned`;
  return errorText(error).split('\n')[0] ?? 'the transaction failed';
}
