import { AsyncTaskError } from '../core/errors.js';

/** The worker stopped while the attempt ran, past `stop({ timeoutMs })`; it was aborted through `ctx.signal`. */
export class WorkerStoppedError extends AsyncTaskError {
  constructor() {
    super('ABORTED', 'Attempt aborted: the worker stopped');
  }
}

/** This worker no longer holds the attempt's lease (it lapsed and another worker may have claimed it). */
export class LeaseLostError extends AsyncTaskError {
  constructor(id: string) {
    super('ABORTED', `Attempt ${id} aborted: this worker no longer holds its lease`);
  }
}
