import { expect, it } from 'vitest';
import { forEachDialect } from '../support/suite.js';
import { catalogueCase } from './support/case.js';
import { expectInvariants } from './support/run.js';

// Issue 8, fault 7: `concurrency` means attempts running at once, in both modes. Proven by the largest overlap
// of running targets observed, never by a duration. SQLite runs one write transaction at a time, so the
// transactional mode cannot overlap targets there; it is checked on PostgreSQL.
const CONCURRENCY = 3;

forEachDialect('fault catalogue: concurrency', (env, dialect) => {
  const modes = dialect.name === 'postgres' ? (['transactional', 'leased'] as const) : (['leased'] as const);
  for (const mode of modes) {
    it(`${mode}: with concurrency ${CONCURRENCY}, ${CONCURRENCY} slow targets run at once (never more)`, async () => {
      const c = await catalogueCase(env, dialect, mode);
      await c.batch(async (tx) => {
        for (let index = 0; index < 2 * CONCURRENCY; index++) {
          const tag = `slow-${index}`;
          await c.asyncTask().enqueue(tx, 'Healthy', 'slow', { tag, ms: 500 });
          c.plan({ tag, role: 'healthy', expect: 'succeeded' });
        }
      });
      await expectInvariants({ ...c.spec(), worker: { concurrency: CONCURRENCY }, deadlineMs: 20_000 });
      expect(c.probe.maxRunning).toBe(CONCURRENCY);
      await c.asyncTask().close();
    });
  }
});
