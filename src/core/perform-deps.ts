import type { CompiledSchedule } from '../recurring/schedule.js';
import type { Store } from '../store/store.js';
import type { ArgsSealer } from './args-crypto.js';
import type { TargetRegistry } from './registry.js';
import type { ResolvedRetryPolicy } from './retry-policy.js';
import type { Attempt, Logger } from './types.js';

/** What every performer needs: the store, the registry, the sealer, the retry policy, the hook, the logger. */
// AppTx defaults to any: performers never enqueue, so they work with any application handle.
export interface PerformDeps<Tx, AppTx = any> {
  readonly store: Store<Tx, AppTx>;
  readonly targets: TargetRegistry;
  readonly sealer: ArgsSealer;
  readonly retryPolicy: (target: string, method: string) => ResolvedRetryPolicy;
  readonly onPerformError?: (error: unknown, attempt: Attempt) => void | Promise<void>;
  readonly logger: Logger;
  /** The recurring schedules a worker enqueues the ticks of (src/recurring/). Default: none. */
  readonly schedules?: readonly CompiledSchedule[];
  /** Resolves once the database is reachable and migrated; rejects with a typed error that says what to do. */
  readonly checkReady?: () => Promise<void>;
}
