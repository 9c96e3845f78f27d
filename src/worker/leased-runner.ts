import { checkRunnable, failureVerdict, invokeTarget } from '../core/pipeline.js';
import type { Attempt } from '../core/types.js';
import { AttemptAbort } from './abort.js';
import { LeaseLostError } from './errors.js';
import { claimRef, noTransaction, type RunContext, reportFailure } from './run-context.js';

const MAX_FLUSHES = 2;

interface Finished {
  readonly attempt: Attempt;
  readonly durationMs: number;
  end(outcome: 'succeeded' | 'lost'): void;
}

/**
 * The leased mode: the target runs outside any transaction while the claim's lease is held; the outcome
 * is written afterwards, guarded by the claim. Successes are written in batches: while one write is in
 * flight, finished attempts gather for the next, so a busy worker pays one statement per batch.
 */
export class LeasedRunner<Tx> {
  private readonly finished: Finished[] = [];
  /** Outcome writes in flight: two, so one slow commit does not hold back the next batch. */
  private readonly flushes = new Set<Promise<void>>();
  private readonly aborts = new Map<string, AttemptAbort>();
  private readonly tx = noTransaction<Tx>();
  /** Finished attempts whose outcome is not written yet: the worker claims less while they pile up. */
  awaitingWrite = 0;

  constructor(private readonly context: RunContext<Tx>) {}

  /** The heartbeat found this claim gone: a running attempt is aborted (the call goes on elsewhere). */
  leaseLost(id: string): void {
    this.aborts.get(id)?.abort(new LeaseLostError(id));
  }

  async run(attempt: Attempt): Promise<void> {
    const { context } = this;
    const started = performance.now();
    const abort = new AttemptAbort(context.options.timeoutMs);
    const untrack = context.track(abort);
    this.aborts.set(attempt.id, abort);
    const trace = context.telemetry.startAttempt(attempt, 'leased');
    context.events.emit('attempt:start', { attempt });
    try {
      checkRunnable(context.deps, attempt);
      await invokeTarget(context.deps, attempt, this.tx, abort.signal);
      const durationMs = performance.now() - started;
      context.observeDuration(durationMs);
      this.finished.push({ attempt, durationMs, end: (outcome) => trace.end(outcome) });
      this.awaitingWrite++;
      if (this.flushes.size < MAX_FLUSHES) {
        const flush: Promise<void> = this.flush().finally(() => this.flushes.delete(flush));
        this.flushes.add(flush);
      }
    } catch (error) {
      const durationMs = performance.now() - started;
      context.observeDuration(durationMs);
      if (abort.signal.reason instanceof LeaseLostError) {
        trace.end('lost', error);
        context.forget(attempt.id);
        context.events.emit('attempt:lost', { attemptId: attempt.id });
        return;
      }
      await this.recordFailure(attempt, error, durationMs, trace.end);
    } finally {
      abort.dispose();
      untrack();
      this.aborts.delete(attempt.id);
    }
  }

  private async recordFailure(
    attempt: Attempt,
    error: unknown,
    durationMs: number,
    end: (outcome: 'retrying' | 'failed' | 'lost', error?: unknown) => void,
  ): Promise<void> {
    const { context } = this;
    try {
      const updated = await context.store.attemptRecordClaimFailure(
        null,
        context.owner,
        claimRef(attempt),
        failureVerdict(context.deps, attempt, error),
      );
      if (!updated) {
        end('lost', error);
        context.events.emit('attempt:lost', { attemptId: attempt.id });
        return;
      }
      end(updated.status === 'failed' ? 'failed' : 'retrying', error);
      await reportFailure(context, attempt, updated, error, durationMs);
    } catch (writeError) {
      // The lease lapses and the attempt runs again: at-least-once.
      context.events.emit('error', { error: writeError, during: 'recording a failed run' });
    } finally {
      context.forget(attempt.id);
    }
  }

  private async flush(): Promise<void> {
    const { context } = this;
    // Let the attempts finishing in this same turn join the batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.finished.length > 0) {
      const batch = this.finished.splice(0, 500);
      const settled = () => {
        this.awaitingWrite -= batch.length;
        context.capacityFreed();
      };
      let written: Set<string>;
      try {
        written = new Set(
          await context.store.attemptMarkSucceededClaims(
            null,
            context.owner,
            batch.map((f) => claimRef(f.attempt)),
          ),
        );
      } catch (error) {
        // Not written: the leases lapse and these attempts run again (the leased mode is at-least-once).
        context.events.emit('error', { error, during: 'recording succeeded attempts' });
        for (const item of batch) {
          item.end('lost');
          context.forget(item.attempt.id);
        }
        settled();
        continue;
      }
      settled();
      for (const item of batch) {
        context.forget(item.attempt.id);
        if (written.has(item.attempt.id)) {
          item.end('succeeded');
          context.events.emit('attempt:succeeded', { attempt: item.attempt, durationMs: item.durationMs });
        } else {
          item.end('lost');
          context.events.emit('attempt:lost', { attemptId: item.attempt.id });
        }
      }
    }
  }

  /** Resolves once every finished attempt's outcome is written. */
  async drain(): Promise<void> {
    while (this.flushes.size > 0) await Promise.all(this.flushes);
  }
}
