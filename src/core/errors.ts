/** Stable machine-readable codes carried by every {@link AsyncTaskError}. */
export type AsyncTaskErrorCode =
  | 'INVALID_STATE'
  | 'UNKNOWN_TARGET'
  | 'UNKNOWN_METHOD'
  | 'INVALID_ARGUMENTS'
  | 'INVALID_OPTIONS'
  | 'DECRYPTION_FAILED'
  | 'ATTEMPT_NOT_FOUND'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'UNREADABLE_ATTEMPT'
  | 'RUNS_EXHAUSTED'
  | 'TRANSACTION_ABORTED'
  | 'SYNC_TRANSACTION';

/** Base class of every error the library throws on purpose. `code` never changes between versions. */
export class AsyncTaskError extends Error {
  readonly code: AsyncTaskErrorCode;

  constructor(code: AsyncTaskErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The attempt is not in a status that allows the operation (e.g. performing a `succeeded` attempt). */
export class InvalidStateError extends AsyncTaskError {
  constructor(message: string) {
    super('INVALID_STATE', message);
  }
}

/** The target name is not in the registry passed to `createAsyncTask`. */
export class UnknownTargetError extends AsyncTaskError {
  constructor(target: string) {
    super('UNKNOWN_TARGET', `Unknown target ${JSON.stringify(target)}: only registered targets can be called`);
  }
}

/** The method is not a function of the registered target. */
export class UnknownMethodError extends AsyncTaskError {
  constructor(target: string, method: string) {
    super('UNKNOWN_METHOD', `Target ${JSON.stringify(target)} has no method ${JSON.stringify(method)}`);
  }
}

/** Arguments that would not survive serialization faithfully, or malformed enqueue options. */
export class InvalidArgumentsError extends AsyncTaskError {
  readonly path: string;

  constructor(message: string, path = '$') {
    super('INVALID_ARGUMENTS', path === '$' ? message : `${message} (at ${path})`);
    this.path = path;
  }
}

/** A configuration or call option is malformed. */
export class InvalidOptionsError extends AsyncTaskError {
  constructor(message: string) {
    super('INVALID_OPTIONS', message);
  }
}

/** The stored arguments could not be decrypted (wrong key, unknown encryptor or tampered row). The row is left intact. */
export class DecryptionError extends AsyncTaskError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DECRYPTION_FAILED', message, options);
  }
}

/** No attempt has this id. */
export class AttemptNotFoundError extends AsyncTaskError {
  constructor(id: string) {
    super('ATTEMPT_NOT_FOUND', `No attempt with id ${id}`);
  }
}

/** The target ran longer than its timeout; it was aborted through `ctx.signal`. */
export class AttemptTimeoutError extends AsyncTaskError {
  constructor(ms: number) {
    super('TIMEOUT', `Attempt timed out after ${ms} ms`);
  }
}

/** A stored attempt the library cannot read (e.g. an invalid time): it is marked `failed` at its first run. */
export class UnreadableAttemptError extends AsyncTaskError {
  constructor(message: string) {
    super('UNREADABLE_ATTEMPT', message);
  }
}

/**
 * The attempt was claimed more times than `maxAttempts` allows without an outcome being written (the worker
 * or its connection died during each run): it is marked `failed` instead of running again.
 */
export class RunsExhaustedError extends AsyncTaskError {
  constructor(numAttempts: number, maxAttempts: number) {
    super(
      'RUNS_EXHAUSTED',
      `Run ${numAttempts} of an attempt allowed ${maxAttempts}: earlier runs ended without a recorded outcome (the process or its connection died), so it is not run again`,
    );
  }
}

/**
 * The target returned, but a statement it sent through `ctx.tx` had failed (an error it caught): the
 * transaction cannot commit its writes, so the run counts as failed and its writes are rolled back.
 */
export class TransactionAbortedError extends AsyncTaskError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      'TRANSACTION_ABORTED',
      `The target returned after a database error on ctx.tx (${detail}); its writes were rolled back and the run counts as failed`,
      options,
    );
  }
}

/**
 * `enqueue` was called inside a synchronous transaction (better-sqlite3's `db.transaction(() => …)`) and could
 * not join it synchronously: use `enqueueSync` there.
 */
export class SyncTransactionError extends AsyncTaskError {
  constructor(message: string) {
    super('SYNC_TRANSACTION', message);
  }
}
