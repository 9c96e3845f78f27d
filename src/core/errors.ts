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
  | 'NOT_MIGRATED'
  | 'DATABASE_UNREACHABLE';

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

/** The attempts table is missing or older than this library: run `async-task migrate` (or `asyncTask.migrate()`). */
export class SchemaNotMigratedError extends AsyncTaskError {
  /** The highest migration applied (0: none) and the highest this library has (0: not known here). */
  readonly applied: number;
  readonly latest: number;

  constructor(table: string, applied: number, latest: number) {
    const state = applied === 0 ? 'does not exist yet' : `is at migration ${applied} of ${latest}`;
    super('NOT_MIGRATED', `The attempts table ${table} ${state}: run \`async-task migrate\` (or asyncTask.migrate())`);
    this.applied = applied;
    this.latest = latest;
  }
}

/** The database could not be reached or refused the connection (down, wrong host, credentials or database name). */
export class DatabaseUnreachableError extends AsyncTaskError {
  constructor(cause: unknown) {
    const reason = cause instanceof Error ? cause.message || (cause as { code?: string }).code : String(cause);
    super('DATABASE_UNREACHABLE', `Cannot reach the database: ${reason || 'connection failed'}`, { cause });
  }
}
