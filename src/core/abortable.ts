/**
 * One run's abort. Most targets never read `ctx.signal`, so the `AbortController` behind {@link RunAbort.signal}
 * is made only when one does; until then an abort records its reason and wakes the run's one waiter directly
 * (no event listener to add and remove per run). Like a controller, only the first abort counts.
 */
export class RunAbort {
  private controller: AbortController | undefined;
  private abortReason: unknown;
  private isAborted = false;
  private waiter: ((reason: unknown) => void) | undefined;

  get aborted(): boolean {
    return this.isAborted;
  }

  get reason(): unknown {
    return this.abortReason;
  }

  /** The signal a target gets as `ctx.signal`; already aborted (with the same reason) when read after the abort. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.isAborted) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.isAborted) return;
    this.isAborted = true;
    this.abortReason = reason;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.(reason);
    this.controller?.abort(reason);
  }

  /** The one callback {@link abortable} waits with; `undefined` clears it. */
  wait(waiter: ((reason: unknown) => void) | undefined): void {
    this.waiter = waiter;
  }
}

/** Rejects as soon as `abort` fires, so a target that ignores its signal still cannot hold its slot. */
export function abortable<T>(work: Promise<T>, abort: RunAbort): Promise<T> {
  if (abort.aborted) {
    // Nobody awaits `work` now: a later rejection of it must not become an unhandled one.
    work.catch(() => {});
    return Promise.reject(abort.reason);
  }
  return new Promise<T>((resolve, reject) => {
    abort.wait(reject);
    work.then(
      (value) => {
        abort.wait(undefined);
        resolve(value);
      },
      (error: unknown) => {
        abort.wait(undefined);
        reject(error);
      },
    );
  });
}
