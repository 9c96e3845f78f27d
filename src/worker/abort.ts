import { AttemptTimeoutError } from '../core/errors.js';

export { abortable } from '../core/abortable.js';

/** One attempt's abort: the worker's (stop, lost lease) or its own timeout, whichever comes first. */
export class AttemptAbort {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;

  constructor(timeoutMs: number) {
    this.timer = setTimeout(() => this.controller.abort(new AttemptTimeoutError(timeoutMs)), timeoutMs);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(reason: Error): void {
    this.controller.abort(reason);
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}
