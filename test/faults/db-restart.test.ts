import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningPostgres, startEmbeddedPostgres } from '../support/embedded-postgres.js';
import { expectInvariants, faultDb, until } from './db-support.js';

// A server of its own: restarting the shared one would break every other test file running meanwhile.
let server: RunningPostgres;
beforeAll(async () => {
  server = await startEmbeddedPostgres();
}, 60_000);
afterAll(() => server?.stop());

for (const mode of ['transactional', 'leased'] as const) {
  describe(`${mode}: PostgreSQL restarted mid-run`, () => {
    it('the worker carries on; nothing lost, every run counted, effects exactly once', async () => {
      const db = await faultDb({ mode, adminUrl: server.url });
      try {
        await db.enqueue(Array.from({ length: 600 }, (_, i) => ({ key: `k-${i}`, ms: 5 })));
        const worker = await db.startWorker({ concurrency: 4 });
        await until('mid-run', async () => (await db.count(`status = 'succeeded'`)) >= 60);
        const callsBefore = db.calls.length;
        await server.restart();
        await until(
          'all succeeded after the restart',
          async () => (await db.count(`status = 'succeeded'`)) === 600,
          40_000,
        );
        expect(db.calls.length).toBeGreaterThan(callsBefore);
        await expectInvariants(db, mode, [worker]);
      } finally {
        await db.close();
      }
    }, 60_000);
  });
}
