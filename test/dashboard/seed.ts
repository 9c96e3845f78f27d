import type { AsyncTask } from '../../src/index.js';
import type { Env, SampleTargets } from '../support/suite.js';

export type SampleAsyncTask = AsyncTask<SampleTargets<any>, any>;

/**
 * 4 fulfilled (succeeded), 2 exploded (failed, one with markup in its error), 2 pending in the future,
 * 1 pending due now. Retries are off so failures are final at once.
 */
export async function seed(env: Env<any>, asyncTask: SampleAsyncTask) {
  const { db } = env;
  const ids = await db.inTransaction(async (tx) => {
    const enqueue = (method: 'fulfill' | 'explode' | 'echo', args: any, options?: any) =>
      asyncTask.enqueue(tx, 'OrderClient', method as 'fulfill', args, options).then((attempt) => attempt.id);
    const fulfilled = [];
    for (let i = 1; i <= 4; i++)
      fulfilled.push(await enqueue('fulfill', { orderId: i }, { idempotenceToken: `order-${i}` }));
    const exploded = [
      await enqueue('explode', { message: 'card declined' }),
      await enqueue('explode', { message: '<script>window.__xss = 1</script><img src=x onerror="window.__xss=2">' }),
    ];
    const later = [
      await enqueue('echo', { n: 1 }, { scheduledAt: new Date('2030-03-01T00:00:00Z') }),
      await enqueue('echo', { n: 2 }, { scheduledAt: new Date('2031-03-01T00:00:00Z') }),
    ];
    return { fulfilled, exploded, later };
  });
  await asyncTask.drain();
  const due = await db.inTransaction((tx) =>
    asyncTask.enqueue(tx, 'OrderClient', 'echo', { secret: 'hunter2', html: '<b>bold</b>' }),
  );
  return { ...ids, due: due.id };
}
