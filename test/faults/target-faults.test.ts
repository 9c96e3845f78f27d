import { expect, it } from 'vitest';
import { forEachDialect } from '../support/suite.js';
import { catalogueCase } from './support/case.js';
import { expectInvariants, MAX_ATTEMPTS, RUN_MODES, type RunMode } from './support/run.js';

const TIMEOUT_MS = 300;
const timeouts = { worker: { timeoutMs: TIMEOUT_MS }, perform: { timeoutMs: TIMEOUT_MS } };
/** The modes with a ctx.tx (the leased mode runs targets outside any transaction). */
const TX_MODES: readonly RunMode[] = ['perform', 'transactional'];

forEachDialect('fault catalogue: targets that misbehave', (env, dialect) => {
  // Fault 3 of issue 8. On PostgreSQL the swallowed error aborts the attempt's transaction (or savepoint): the
  // run must be a failed run of that attempt only, its writes gone. SQLite fails only the statement, so the
  // target's other writes are valid and the attempt succeeds with them.
  const swallowed = dialect.name === 'postgres' ? 'failed' : 'succeeded';
  for (const mode of TX_MODES) {
    for (const layout of ['alone', 'with neighbours after it in the same group'] as const) {
      it(`${mode}: a target that swallows a unique violation on ctx.tx and returns, ${layout}: ${swallowed}, neighbours keep their writes`, async () => {
        const c = await catalogueCase(env, dialect, mode);
        await c.db.query(`CREATE TABLE ${c.db.qualify('uniq')} (k varchar(64) PRIMARY KEY)`);
        await c.db.query(`INSERT INTO ${c.db.qualify('uniq')} (k) VALUES ('dup')`);
        await c.batch(async (tx) => {
          await c.asyncTask().enqueue(tx, 'Poison', 'swallowDbError', { tag: 'swallow' });
          c.plan({ tag: 'swallow', role: 'poison', expect: swallowed });
          if (layout !== 'alone') await c.neighbours(tx);
        });
        await c.rolledBackEnqueue();
        await expectInvariants({ ...c.spec(), worker: { maxAttemptsPerTransaction: 8 } });
        const [attempt] = (await c.asyncTask().list({ status: swallowed })).attempts;
        if (swallowed === 'failed') {
          expect(attempt?.numAttempts).toBe(MAX_ATTEMPTS);
          expect(attempt?.lastError).toBeTruthy();
          expect(await c.db.countEffects('swallow-after')).toBe(0);
        } else {
          expect(await c.db.countEffects('swallow-after')).toBe(1);
        }
        await c.asyncTask().close();
      });
    }
  }

  for (const mode of RUN_MODES) {
    it(`${mode}: a never-settling target is cut off at the timeout, ends failed; its neighbours succeed`, async () => {
      const c = await catalogueCase(env, dialect, mode);
      await c.batch(async (tx) => {
        await c.asyncTask().enqueue(tx, 'Poison', 'hang', { tag: 'hang' });
        c.plan({ tag: 'hang', role: 'poison', expect: 'failed' });
        await c.neighbours(tx);
      });
      await c.rolledBackEnqueue();
      await expectInvariants({ ...c.spec(), ...timeouts, deadlineMs: 10_000 });
      const [attempt] = (await c.asyncTask().list({ status: 'failed' })).attempts;
      expect(attempt?.lastError).toMatch(/timed out/i);
      await c.asyncTask().close();
    });
  }

  for (const mode of TX_MODES) {
    it(`${mode}: writes through ctx.tx after the timeout never land`, async () => {
      const c = await catalogueCase(env, dialect, mode);
      await c.batch(async (tx) => {
        await c.asyncTask().enqueue(tx, 'Poison', 'writeAfterTimeout', { tag: 'late' });
        c.plan({ tag: 'late', role: 'poison', expect: 'failed' });
        await c.neighbours(tx);
      });
      const run = await expectInvariants({ ...c.spec(), ...timeouts, deadlineMs: 10_000 });
      // Let the late writes settle, then look again: none of them may have committed anywhere.
      await Promise.all(c.lateWrites);
      expect(c.lateWrites.length).toBeGreaterThan(0);
      expect(await c.db.countEffects('late')).toBe(0);
      expect(await c.db.countEffects()).toBe(3);
      expect(run.probe.count('late')).toBe(MAX_ATTEMPTS);
      await c.asyncTask().close();
    });

    it(`${mode}: an enqueue through ctx.tx commits with the target's success, and is gone with its failure`, async () => {
      const c = await catalogueCase(env, dialect, mode);
      await c.batch(async (tx) => {
        await c.asyncTask().enqueue(tx, 'Poison', 'enqueueChild', { tag: 'parent-ok', thenThrow: false });
        await c.asyncTask().enqueue(tx, 'Poison', 'enqueueChild', { tag: 'parent-fails', thenThrow: true });
        await c.neighbours(tx);
      });
      c.plan({ tag: 'parent-ok', role: 'healthy', expect: 'succeeded' });
      c.plan({ tag: 'parent-ok-child', role: 'healthy', expect: 'succeeded' });
      c.plan({ tag: 'parent-fails', role: 'poison', expect: 'failed' });
      c.rolledBack.push('parent-fails-child');
      await expectInvariants(c.spec());
      expect(c.probe.count('parent-ok-child')).toBe(1);
      await c.asyncTask().close();
    });
  }
});

forEachDialect('fault catalogue: a target that rejects after it was cut off', (env, dialect) => {
  // A rejection nobody handles ends a Node process (--unhandled-rejections=throw is the default): a target that
  // fails after the library stopped waiting for it must never produce one, however it was cut off.
  const cutOffs = {
    'perform() with an already-aborted signal': { perform: { signal: AbortSignal.abort() } },
    'perform() whose timeout fires first': { perform: { timeoutMs: 1 } },
  } as const;
  for (const [how, options] of Object.entries(cutOffs)) {
    it(`${how}: the target's later rejection is handled, not left unhandled`, async () => {
      const c = await catalogueCase(env, dialect, 'perform');
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        const attempt = await c.batch((tx) =>
          c.asyncTask().enqueue(tx, 'Poison', 'throwValue', { tag: 'late-reject', kind: 'a number' }),
        );
        const result = await c.asyncTask().perform(attempt.id, options.perform);
        expect(result.outcome).toBe('retrying');
        // Let the target run to its rejection, and Node notice it.
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(unhandled).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
      await c.asyncTask().close();
    });
  }
});
