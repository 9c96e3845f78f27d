import type { WorkerStore } from '../store/worker-store.js';
import type { WorkerEmitter } from './events.js';
import type { RetentionOptions } from './worker-options.js';

/**
 * Deletes completed attempts past their age, in small batches, off the hot path: one worker per
 * database at a time (elected by the store: an advisory lock on PostgreSQL), with a pause between
 * batches so the claims of busy workers never queue behind it.
 */
export async function pruneCompleted<Tx>(
  store: WorkerStore<Tx>,
  options: Required<RetentionOptions>,
  events: WorkerEmitter,
  keepGoing: () => boolean,
): Promise<number> {
  const deleted = await store.runExclusive('retention', async () => {
    let total = 0;
    while (keepGoing()) {
      const count = await store.attemptPruneCompleted({
        statuses: options.statuses,
        olderThanMs: options.olderThanMs,
        limit: options.batchSize,
      });
      total += count;
      if (count < options.batchSize) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return total;
  });
  if (deleted) events.emit('prune', { deleted });
  return deleted ?? 0;
}
