import { resolveMethod } from '../core/registry.js';
import type { Attempt } from '../core/types.js';
import { AttemptAbort, abortable } from './abort.js';
import { claimRef, failureRecord, type RunContext, reportFailure } from './run-context.js';
import type { AttemptTrace } from './telemetry.js';

/** Thrown inside the group's transaction to abandon it: a target was aborted and may still hold `ctx.tx`. */
class AbandonGroup extends Error {
  constructor(
    readonly attempt: Attempt,
    override readonly cause: unknown,
  ) {
    super('abandoned');
  }
}

interface Ran {
  readonly attempt: Attempt;
  readonly durationMs: number;
  readonly trace: AttemptTrace;
  /** Set when the target failed: its savepoint was rolled back and the failure written in the transaction. */
  readonly failure?: { readonly error: unknown; readonly updated: Attempt };
}

/**
 * The transactional mode, batched. The claim already counted every run of the group in one commit
 * (contract step 3). Then one transaction locks the group's rows, checks each is still pending and
 * held by this claim, and performs them one after another, each in its own savepoint: a target that
 * throws rolls back only its own writes, and its failure is recorded in the same transaction. The
 * succeeded ones are marked in one statement and commit together with their targets' writes through
 * `ctx.tx` (step 4). A target cut off (timeout, stop) may still hold `ctx.tx`, so the whole transaction
 * is abandoned and its connection discarded; the group's other runs then go back to the queue.
 */
export class TransactionalRunner<Tx> {
  constructor(private readonly context: RunContext<Tx>) {}

  async run(group: readonly Attempt[]): Promise<void> {
    const { context } = this;
    const { store, deps, owner } = context;
    const ran: Ran[] = [];
    let skipped: Attempt[] = [];
    try {
      await deps.store.transaction(
        async (tx) => {
          ran.length = 0;
          const locked = await store.attemptLockClaims(tx, owner, group.map(claimRef));
          const lockedIds = new Set(locked.map((attempt) => attempt.id));
          for (const attempt of group) {
            if (!lockedIds.has(attempt.id)) {
              context.forget(attempt.id);
              context.events.emit('attempt:lost', { attemptId: attempt.id });
            }
          }
          for (let index = 0; index < locked.length; index++) {
            const attempt = locked[index] as Attempt;
            if (context.stopping()) {
              skipped = locked.slice(index);
              break;
            }
            ran.push(await this.perform(tx, attempt));
          }
          const succeeded = ran.filter((item) => !item.failure).map((item) => claimRef(item.attempt));
          await store.attemptMarkSucceededClaims(tx, owner, succeeded);
        },
        { abandonOnError: (error) => error instanceof AbandonGroup },
      );
    } catch (error) {
      await this.afterRollback(group, ran, error);
      return;
    }
    for (const item of ran) {
      context.forget(item.attempt.id);
      if (item.failure) {
        item.trace.end(item.failure.updated.status === 'failed' ? 'failed' : 'retrying', item.failure.error);
        await reportFailure(context, item.attempt, item.failure.updated, item.failure.error, item.durationMs);
      } else {
        item.trace.end('succeeded');
        context.events.emit('attempt:succeeded', { attempt: item.attempt, durationMs: item.durationMs });
      }
    }
    await this.release(skipped, true);
  }

  private async perform(tx: Tx, attempt: Attempt): Promise<Ran> {
    const { context } = this;
    const started = performance.now();
    const trace = context.telemetry.startAttempt(attempt, 'transactional');
    const abort = new AttemptAbort(context.options.timeoutMs);
    const scope = context.store.attemptScope(tx);
    const untrack = context.track(abort);
    context.events.emit('attempt:start', { attempt });
    try {
      const args = await context.deps.sealer.open(attempt);
      const method = resolveMethod(context.deps.targets, attempt.target, attempt.methodName);
      const { signal } = abort;
      await scope.begin();
      await abortable(
        Promise.resolve().then(() => method(args, { tx: scope.tx, attempt, signal })),
        signal,
      );
      const durationMs = performance.now() - started;
      context.observeDuration(durationMs);
      return { attempt, durationMs, trace };
    } catch (error) {
      const durationMs = performance.now() - started;
      context.observeDuration(durationMs);
      if (abort.signal.aborted) throw new AbandonGroup(attempt, error);
      await scope.rollback();
      const updated = await context.store.attemptRecordClaimFailure(
        tx,
        context.owner,
        claimRef(attempt),
        failureRecord(context.deps, attempt, error),
      );
      return { attempt, durationMs, trace, failure: { error, updated: updated ?? attempt } };
    } finally {
      abort.dispose();
      untrack();
    }
  }

  /**
   * The transaction rolled back. An aborted target's run is recorded as failed (its own commit). The
   * group's other runs lost their writes with it: they go back to pending, due at once — those that ran
   * keep their count, those that never started give it back.
   */
  private async afterRollback(group: readonly Attempt[], ran: readonly Ran[], error: unknown): Promise<void> {
    const { context } = this;
    const ranIds = new Set(ran.map((item) => item.attempt.id));
    for (const item of ran) item.trace.end('lost');
    if (error instanceof AbandonGroup) {
      ranIds.add(error.attempt.id);
      const { attempt } = error;
      try {
        const updated = await context.store.attemptRecordClaimFailure(
          null,
          context.owner,
          claimRef(attempt),
          failureRecord(context.deps, attempt, error.cause),
        );
        if (updated) await reportFailure(context, attempt, updated, error.cause, 0);
      } catch (writeError) {
        context.events.emit('error', { error: writeError, during: 'recording an aborted run' });
      }
      context.forget(attempt.id);
    } else {
      context.events.emit('error', { error, during: 'performing a batch of attempts' });
    }
    const others = group.filter((attempt) => attempt.id !== (error as AbandonGroup).attempt?.id);
    await this.release(
      others.filter((attempt) => ranIds.has(attempt.id)),
      false,
    );
    await this.release(
      others.filter((attempt) => !ranIds.has(attempt.id)),
      true,
    );
  }

  private async release(attempts: readonly Attempt[], uncount: boolean): Promise<void> {
    if (attempts.length === 0) return;
    const { context } = this;
    try {
      await context.store.attemptReleaseClaims(context.owner, attempts.map(claimRef), { uncount });
    } catch (error) {
      // Their leases lapse instead, and they run again then.
      context.events.emit('error', { error, during: 'releasing claimed attempts' });
    } finally {
      for (const attempt of attempts) context.forget(attempt.id);
    }
  }
}
