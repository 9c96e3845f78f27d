/**
 * Glossary
 * - target: a named object whose methods may be called later, registered by name.
 * - attempt: one row asking for `target.method(args)`, created inside the caller's transaction.
 * - enqueue: create an attempt inside the caller's transaction.
 * - perform: run one due, pending attempt under its lock and record the outcome.
 */

export type AttemptStatus = 'pending' | 'succeeded' | 'failed' | 'expired';

export const ATTEMPT_STATUSES: readonly AttemptStatus[] = ['pending', 'succeeded', 'failed', 'expired'];

/** One attempt row, camelCased. `methodArgs` is the stored text: serialized, then encrypted. */
export interface Attempt {
  readonly id: string;
  readonly idempotenceToken: string | null;
  readonly status: AttemptStatus;
  readonly target: string;
  readonly methodName: string;
  readonly methodArgs: string;
  readonly encryptor: string;
  readonly numAttempts: number;
  readonly scheduledAt: Date | null;
  readonly completedAt: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly lastError: string | null;
  readonly leaseOwner: string | null;
  readonly leaseExpiresAt: Date | null;
}

/** What a target method receives as its second argument. */
export interface PerformContext<Tx = unknown> {
  /** The transaction that will also mark the attempt `succeeded`: write through it for exactly-once effects. */
  readonly tx: Tx;
  /** The attempt being performed (as locked, with `numAttempts` already counting this run). */
  readonly attempt: Attempt;
  /** Aborted when the attempt times out or the worker stops; pass it to fetch() and friends. */
  readonly signal: AbortSignal;
}

/** Logger interface; a pino or console-like object fits it. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});

export interface EnqueueOptions {
  /** With the same target and method, a second enqueue returns the first attempt and creates nothing. */
  idempotenceToken?: string;
  /** Not performed before this time. Default: due at once. */
  scheduledAt?: Date;
}

export interface ListOptions {
  status?: AttemptStatus;
  target?: string;
  method?: string;
  idempotenceToken?: string;
  /** Default 50, at most 1000. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface AttemptPage {
  readonly attempts: Attempt[];
  /** Pass as `cursor` for the next page; `null` on the last page. */
  readonly nextCursor: string | null;
}

export type PerformOutcome = 'not-due' | 'succeeded' | 'retrying' | 'failed';

export interface PerformResult {
  readonly outcome: PerformOutcome;
  readonly attempt: Attempt;
  /** The error the target threw, when the outcome is `retrying` or `failed`. */
  readonly error?: unknown;
}

export interface DrainResult {
  readonly performed: number;
  readonly succeeded: number;
  readonly retrying: number;
  readonly failed: number;
}
