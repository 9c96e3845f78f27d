import { AsyncTaskError } from '../core/errors.js';

/** Documented exit codes of `async-task` (docs/cli.md). */
export const EXIT = Object.freeze({
  ok: 0,
  /** Anything unexpected: a database error, a target's module failing to load… */
  failure: 1,
  /** A bad flag, argument or combination of them. */
  usage: 2,
  /** No config file, or one that fails to load or is malformed. */
  config: 3,
  /** No attempt with that id. */
  notFound: 4,
  /** The attempt's status does not allow the operation (for bulk: at least one did not). */
  invalidState: 5,
  /** The user declined a confirmation; nothing changed. */
  cancelled: 6,
  /** `init` would overwrite a file and `--force` was not given. */
  exists: 7,
  /** The database is unreachable, or its attempts table is not migrated (run `async-task migrate`). */
  database: 8,
});

/** An error the CLI reports as one line and turns into an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage);

/** The exit code for any error that reached the top. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof AsyncTaskError) {
    if (error.code === 'ATTEMPT_NOT_FOUND') return EXIT.notFound;
    if (error.code === 'INVALID_STATE') return EXIT.invalidState;
    if (error.code === 'INVALID_OPTIONS') return EXIT.config;
    if (error.code === 'NOT_MIGRATED' || error.code === 'DATABASE_UNREACHABLE') return EXIT.database;
  }
  return EXIT.failure;
}

/** One line: the message, and the first cause's message when it adds something. */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined;
  const text = cause && !message.includes(cause) ? `${message}: ${cause}` : message;
  return text.replace(/\s*\n\s*/g, ' ');
}
