import { afterAll, afterEach, describe, it } from 'vitest';
import type { PerformContext } from '../../src/core/types.js';
import { type AsyncTask, type AsyncTaskOptions, createAsyncTask } from '../../src/index.js';
import { type Dialect, dialects, type TestDb } from './dialects.js';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Targets whose calls are recorded in memory and whose effects are written through ctx.tx. */
export function sampleTargets<Tx>(db: TestDb<Tx>) {
  const calls: { method: string; args: unknown; numAttempts: number }[] = [];
  const OrderClient = {
    async fulfill(args: { orderId: number; note?: string }, ctx: PerformContext<Tx>) {
      calls.push({ method: 'fulfill', args, numAttempts: ctx.attempt.numAttempts });
      await db.writeEffect(ctx.tx, `order-${args.orderId}`);
    },
    async explode(args: { message: string }, ctx: PerformContext<Tx>) {
      calls.push({ method: 'explode', args, numAttempts: ctx.attempt.numAttempts });
      await db.writeEffect(ctx.tx, 'explode');
      throw new Error(args.message);
    },
    async slow(args: { ms: number }, ctx: PerformContext<Tx>) {
      calls.push({ method: 'slow', args, numAttempts: ctx.attempt.numAttempts });
      await sleep(args.ms);
      await db.writeEffect(ctx.tx, 'slow');
    },
    async echo(args: unknown, ctx: PerformContext<Tx>) {
      calls.push({ method: 'echo', args, numAttempts: ctx.attempt.numAttempts });
    },
  };
  return { calls, targets: { OrderClient } };
}

export type SampleTargets<Tx> = ReturnType<typeof sampleTargets<Tx>>['targets'];

export interface Env<Tx> {
  readonly db: TestDb<Tx>;
  readonly calls: ReturnType<typeof sampleTargets<Tx>>['calls'];
  /** A migrated AsyncTask over a new driver (new connections) on this test's database. */
  make(options?: Partial<AsyncTaskOptions<SampleTargets<Tx>, Tx>>): Promise<AsyncTask<SampleTargets<Tx>, Tx>>;
}

/** Runs `body` once per dialect, with a fresh database namespace per test from `env()`. */
export function forEachDialect(
  title: string,
  body: (env: () => Promise<Env<any>>, dialect: Dialect<any>) => void,
): void {
  for (const dialect of dialects()) {
    if (dialect.unavailable) {
      describe.skip(`${title} [${dialect.name}] — skipped: ${dialect.unavailable}`, () => {
        it('needs the database server', () => {});
      });
      continue;
    }
    describe(`${title} [${dialect.name}]`, () => {
      const open: TestDb<any>[] = [];
      afterEach(async () => {
        while (open.length > 0) await open.pop()?.close();
      });
      afterAll(() => dialect.dispose());
      const env = async (): Promise<Env<any>> => {
        const db = await dialect.create();
        open.push(db);
        const { calls, targets } = sampleTargets(db);
        return {
          db,
          calls,
          async make(options = {}) {
            const asyncTask = createAsyncTask({ db: db.driver(), targets, ...options });
            await asyncTask.migrate();
            return asyncTask;
          },
        };
      };
      body(env, dialect);
    });
  }
}
