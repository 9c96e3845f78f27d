import { RunAbort } from '../core/abortable.js';
import { AttemptTimeoutError } from '../core/errors.js';

export { abortable } from '../core/abortable.js';

/** One attempt's abort: the worker's (stop, lost lease) or its own timeout, whichever comes first. */
export class AttemptAbort extends RunAbort {
  private readonly timer: NodeJS.Timeout;

  constructor(timeoutMs: number) {
    super();
    this.timer = setTimeout(() => this.abort(new AttemptTimeoutError(timeoutMs)), timeoutMs);
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}
