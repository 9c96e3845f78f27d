import type { AttemptStatus } from './types.js';

/** What a person (API, CLI, dashboard) may do to an attempt, and from which statuses. */
export const ATTEMPT_TRANSITIONS = Object.freeze({
  /** failed or expired → pending, due now. */
  retry: Object.freeze({ from: Object.freeze(['failed', 'expired'] as const), to: 'pending' as const }),
  /** pending → expired: it will not run. */
  expire: Object.freeze({ from: Object.freeze(['pending'] as const), to: 'expired' as const }),
  /** pending → failed: it will not run. */
  fail: Object.freeze({ from: Object.freeze(['pending'] as const), to: 'failed' as const }),
});

export type AttemptAction = keyof typeof ATTEMPT_TRANSITIONS;

/** True when `action` may be applied to an attempt in `status`. */
export function canApply(action: AttemptAction, status: AttemptStatus): boolean {
  return (ATTEMPT_TRANSITIONS[action].from as readonly AttemptStatus[]).includes(status);
}
