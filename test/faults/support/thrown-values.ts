import { expect, it } from 'vitest';
import { forEachDialect } from '../../support/suite.js';
import { catalogueCase } from './case.js';
import { THROWN_VALUES } from './catalogue.js';
import { MAX_LAST_ERROR_LENGTH } from './invariants.js';
import { expectInvariants, MAX_ATTEMPTS, type RunMode } from './run.js';

// Fault 2 of issue 8: any thrown value becomes a bounded, valid lastError; the attempt retries by its policy,
// ends failed after maxAttempts, never loops and never blocks its neighbours.
/** The thrown-value catalogue in one mode, on every dialect (one test file per mode keeps each file short). */
export function thrownValueCatalogue(mode: RunMode): void {
  forEachDialect(`fault catalogue: thrown values, ${mode}`, (env, dialect) => {
    for (const kind of Object.keys(THROWN_VALUES)) {
      it(`${mode}: a target that throws ${kind} ends failed after ${MAX_ATTEMPTS} runs; its neighbours succeed`, async () => {
        const c = await catalogueCase(env, dialect, mode);
        await c.batch(async (tx) => {
          await c.asyncTask().enqueue(tx, 'Poison', 'throwValue', { tag: 'poison', kind });
          c.plan({ tag: 'poison', role: 'poison', expect: 'failed' });
          await c.neighbours(tx);
        });
        await c.rolledBackEnqueue();
        await expectInvariants(c.spec());
        const [poison] = (await c.asyncTask().list({ status: 'failed' })).attempts;
        expect(poison?.numAttempts).toBe(MAX_ATTEMPTS);
        expect(c.probe.count('poison')).toBe(MAX_ATTEMPTS);
        expect(poison?.lastError?.length).toBeGreaterThan(0);
        expect(poison?.lastError?.length).toBeLessThanOrEqual(MAX_LAST_ERROR_LENGTH);
        await c.asyncTask().close();
      });
    }

    it(`${mode}: an onPerformError hook that throws a null-prototype object is logged; the run is recorded`, async () => {
      const c = await catalogueCase(env, dialect, mode, {
        onPerformError: () => {
          throw Object.create(null);
        },
      });
      await c.batch(async (tx) => {
        await c.asyncTask().enqueue(tx, 'Poison', 'throwValue', { tag: 'poison', kind: 'a number' });
        c.plan({ tag: 'poison', role: 'poison', expect: 'failed' });
        await c.neighbours(tx);
      });
      await expectInvariants(c.spec());
      await c.asyncTask().close();
    });
  });
}
