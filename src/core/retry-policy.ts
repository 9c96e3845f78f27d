import { InvalidOptionsError } from './errors.js';

/** How failed attempts are retried. */
export interface RetryPolicy {
  /** Runs allowed in all, the first included; past it the attempt is marked `failed`. Default: 10. */
  maxAttempts?: number;
  /** Delay before the next run, given the runs so far (1 after the first failure). Default: {@link exponentialBackoff}(). */
  backoff?: (numAttempts: number) => number;
}

export interface RetryOptions extends RetryPolicy {
  /** Overrides by `target` or `target.method` (the more specific wins). */
  overrides?: Readonly<Record<string, RetryPolicy>>;
}

export interface ExponentialBackoffOptions {
  /** Delay after the first failure, before jitter. Default: 1000 ms. */
  baseMs?: number;
  /** Longest delay, before jitter. Default: 1 hour. */
  maxMs?: number;
  /** Share of the delay that is random, 0..1. Default: 0.5 (the delay lands in [50 %, 100 %] of the step). */
  jitter?: number;
}

export const DEFAULT_MAX_ATTEMPTS = 10;

/** `min(maxMs, baseMs * 2^(n-1))`, of which a `jitter` share is random so a burst of failures spreads out. */
export function exponentialBackoff(options: ExponentialBackoffOptions = {}): (numAttempts: number) => number {
  const baseMs = options.baseMs ?? 1000;
  const maxMs = options.maxMs ?? 3_600_000;
  const jitter = options.jitter ?? 0.5;
  if (!(baseMs >= 0) || !(maxMs >= baseMs) || !(jitter >= 0 && jitter <= 1)) {
    throw new InvalidOptionsError('exponentialBackoff: need 0 <= baseMs <= maxMs and 0 <= jitter <= 1');
  }
  return (numAttempts) => {
    const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, numAttempts - 1));
    return Math.round(step * (1 - jitter) + step * jitter * Math.random());
  };
}

export interface ResolvedRetryPolicy {
  readonly maxAttempts: number;
  readonly backoff: (numAttempts: number) => number;
}

function checkPolicy(where: string, policy: RetryPolicy): void {
  if (policy.maxAttempts !== undefined && !(Number.isInteger(policy.maxAttempts) && policy.maxAttempts >= 1)) {
    throw new InvalidOptionsError(`${where}.maxAttempts must be an integer >= 1`);
  }
  if (policy.backoff !== undefined && typeof policy.backoff !== 'function') {
    throw new InvalidOptionsError(`${where}.backoff must be a function`);
  }
}

/** Validates the options once and returns a lookup of the policy for a target and method. */
export function retryPolicyResolver(
  options: RetryOptions = {},
): (target: string, method: string) => ResolvedRetryPolicy {
  checkPolicy('retry', options);
  for (const [key, policy] of Object.entries(options.overrides ?? {})) checkPolicy(`retry.overrides[${key}]`, policy);
  const base: ResolvedRetryPolicy = {
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    backoff: options.backoff ?? exponentialBackoff(),
  };
  return (target, method) => {
    const byTarget = options.overrides?.[target];
    const byMethod = options.overrides?.[`${target}.${method}`];
    return {
      maxAttempts: byMethod?.maxAttempts ?? byTarget?.maxAttempts ?? base.maxAttempts,
      backoff: byMethod?.backoff ?? byTarget?.backoff ?? base.backoff,
    };
  };
}
