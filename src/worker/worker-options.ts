import { InvalidOptionsError } from '../core/errors.js';
import type { AttemptStatus, Logger } from '../core/types.js';

/**
 * How an attempt is run (README, "What perform does"; docs/worker.md, "Modes and their guarantees").
 * - `transactional`: the contract exactly; database effects written through `ctx.tx` happen exactly once.
 * - `leased`: the call runs outside any transaction under a lease; at-least-once (use idempotence tokens).
 */
export type WorkerMode = 'transactional' | 'leased';

export interface RetentionOptions {
  /** Completed attempts older than this (by `completed_at`) are deleted. Default: 7 days. */
  olderThanMs?: number;
  /** Which completed attempts are pruned. Default: `['succeeded']` (failed and expired are kept to inspect). */
  statuses?: readonly Exclude<AttemptStatus, 'pending'>[];
  /** How often one worker (elected per database) prunes. Default: 60,000 ms. */
  intervalMs?: number;
  /** Rows deleted per statement, so pruning never holds long locks. Default: 1,000. */
  batchSize?: number;
}

export interface WorkerOptions {
  /** Default: `'transactional'`. */
  mode?: WorkerMode;
  /**
   * Attempts running at once. In the transactional mode each running attempt holds one pooled connection,
   * so the pool needs `concurrency` + 2 connections (claims and LISTEN). Default: 10.
   */
  concurrency?: number;
  /** At most this many attempts claimed per query (and held ready in this worker). Default: 100. */
  batchSize?: number;
  /** Poll for due attempts this often when idle; the fallback for wake-ups. Default: 1,000 ms. */
  pollIntervalMs?: number;
  /**
   * Wake on new attempts through LISTEN/NOTIFY (PostgreSQL) or in-process (SQLite). `false`: poll only, e.g.
   * behind a transaction-mode connection pooler, where LISTEN does not work. Default: true.
   */
  notify?: boolean;
  /**
   * A claimed attempt is held by this worker this long, renewed by a heartbeat while it runs; if the worker
   * dies, the attempt runs again elsewhere once the lease lapses. Default: 30,000 ms.
   */
  leaseMs?: number;
  /** How often held leases are renewed. Default: `leaseMs / 3`. */
  heartbeatMs?: number;
  /**
   * A run longer than this is aborted through `ctx.signal` and counts as a failed run. Default: 15 minutes.
   */
  timeoutMs?: number;
  /**
   * Transactional mode: at most this many attempts performed one after another in one transaction, each
   * in its own savepoint (fewer commits). The worker uses fewer when targets are slow. Default: 32.
   */
  maxAttemptsPerTransaction?: number;
  /** Prune old completed attempts; `false` keeps everything. Default: the defaults of {@link RetentionOptions}. */
  retention?: RetentionOptions | false;
  /** Default: the logger given to `createAsyncTask`. */
  logger?: Logger;
  /** Identifies this worker in `lease_owner` and logs. Default: `hostname:pid:random`. */
  workerId?: string;
}

export interface ResolvedWorkerOptions {
  readonly mode: WorkerMode;
  readonly concurrency: number;
  readonly batchSize: number;
  readonly pollIntervalMs: number;
  readonly notify: boolean;
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  readonly timeoutMs: number;
  readonly maxAttemptsPerTransaction: number;
  readonly retention: Required<RetentionOptions> | false;
  readonly logger: Logger | undefined;
  readonly workerId: string | undefined;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const STATUSES = ['succeeded', 'failed', 'expired'] as const;

function positiveInteger(name: string, value: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidOptionsError(`worker: ${name} must be an integer from 1 to ${max}`);
  }
  return value;
}

/** Validates the options once, at `asyncTask.worker(…)`, and fills in the defaults. */
export function resolveWorkerOptions(options: WorkerOptions = {}): ResolvedWorkerOptions {
  if (options === null || typeof options !== 'object')
    throw new InvalidOptionsError('worker: options must be an object');
  const mode = options.mode ?? 'transactional';
  if (mode !== 'transactional' && mode !== 'leased') {
    throw new InvalidOptionsError("worker: mode must be 'transactional' or 'leased'");
  }
  if (options.notify !== undefined && typeof options.notify !== 'boolean') {
    throw new InvalidOptionsError('worker: notify must be a boolean');
  }
  if (options.workerId !== undefined && (typeof options.workerId !== 'string' || options.workerId.length === 0)) {
    throw new InvalidOptionsError('worker: workerId must be a non-empty string');
  }
  const leaseMs = positiveInteger('leaseMs', options.leaseMs, 30_000);
  if (leaseMs < 100) throw new InvalidOptionsError('worker: leaseMs must be at least 100');
  const heartbeatMs = positiveInteger('heartbeatMs', options.heartbeatMs, Math.max(50, Math.floor(leaseMs / 3)));
  if (heartbeatMs >= leaseMs) throw new InvalidOptionsError('worker: heartbeatMs must be shorter than leaseMs');
  let retention: Required<RetentionOptions> | false = false;
  if (options.retention !== false) {
    const given = options.retention ?? {};
    if (typeof given !== 'object' || given === null) {
      throw new InvalidOptionsError('worker: retention must be an object or false');
    }
    const statuses = given.statuses ?? ['succeeded'];
    if (!Array.isArray(statuses) || statuses.some((status) => !STATUSES.includes(status))) {
      throw new InvalidOptionsError(`worker: retention.statuses must list some of ${STATUSES.join(', ')}`);
    }
    retention = {
      olderThanMs: positiveInteger('retention.olderThanMs', given.olderThanMs, 7 * DAY_MS),
      statuses,
      intervalMs: positiveInteger('retention.intervalMs', given.intervalMs, 60_000),
      batchSize: positiveInteger('retention.batchSize', given.batchSize, 1000, 100_000),
    };
  }
  return Object.freeze({
    mode,
    concurrency: positiveInteger('concurrency', options.concurrency, 10, 10_000),
    batchSize: positiveInteger('batchSize', options.batchSize, 100, 10_000),
    pollIntervalMs: positiveInteger('pollIntervalMs', options.pollIntervalMs, 1000),
    notify: options.notify ?? true,
    leaseMs,
    heartbeatMs,
    timeoutMs: positiveInteger('timeoutMs', options.timeoutMs, 15 * 60_000, 2 ** 31 - 1),
    maxAttemptsPerTransaction: positiveInteger('maxAttemptsPerTransaction', options.maxAttemptsPerTransaction, 32, 64),
    retention,
    logger: options.logger,
    workerId: options.workerId,
  });
}
