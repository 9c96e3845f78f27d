import { type AsyncTask, type AsyncTaskOptions, createAsyncTask } from '../../../src/index.js';
import type { Dialect } from '../../support/dialects.js';
import type { Env } from '../../support/suite.js';
import { type CatalogueTargets, catalogueTargets } from './catalogue.js';
import { type Planned, Probe } from './invariants.js';
import { fastRetry, type RunMode } from './run.js';

/** One catalogue case: a fresh table, the catalogue's targets, and helpers to plan what the run must show. */
export async function catalogueCase(
  env: () => Promise<Env<any>>,
  dialect: Dialect<any>,
  mode: RunMode,
  options: Partial<AsyncTaskOptions<CatalogueTargets, any>> = {},
) {
  const { db } = await env();
  const probe = new Probe();
  const txEffects = mode !== 'leased';
  let asyncTask: AsyncTask<CatalogueTargets, any>;
  const { targets, lateWrites } = catalogueTargets({
    db,
    dialect: dialect.name,
    probe,
    txEffects,
    asyncTask: () => asyncTask,
  });
  asyncTask = createAsyncTask({ db: db.driver(), targets, retry: fastRetry, ...options });
  await asyncTask.migrate();
  const planned: Planned[] = [];
  const rolledBack: string[] = [];

  /** Enqueues, in one committed transaction, what `fill` enqueues; `plan` records each one's expectation. */
  const batch = <T>(fill: (tx: any) => Promise<T>): Promise<T> => db.inTransaction(fill);
  const plan = (item: Planned) => planned.push(item);

  /** Three healthy neighbours, enqueued in the caller's transaction. */
  const neighbours = async (tx: any, prefix = 'healthy') => {
    for (let index = 0; index < 3; index++) {
      const tag = `${prefix}-${index}`;
      await asyncTask.enqueue(tx, 'Healthy', 'ok', { tag });
      plan({ tag, role: 'healthy', expect: 'succeeded' });
    }
  };

  /** An enqueue whose transaction rolls back: it must never run (I5). */
  const rolledBackEnqueue = async () => {
    const tag = 'rolled-back';
    await db
      .inTransaction(async (tx) => {
        await asyncTask.enqueue(tx, 'Healthy', 'ok', { tag });
        throw new Error('roll back');
      })
      .catch(() => {});
    rolledBack.push(tag);
  };

  return {
    db,
    probe,
    txEffects,
    asyncTask: () => asyncTask,
    lateWrites,
    planned,
    rolledBack,
    batch,
    plan,
    neighbours,
    rolledBackEnqueue,
    spec: () => ({ asyncTask, db, mode, probe, planned, rolledBack, txEffects }),
  };
}
