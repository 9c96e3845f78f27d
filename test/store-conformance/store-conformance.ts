import { afterAll, afterEach, describe, it } from 'vitest';
import { adminCases } from './cases/admin.js';
import { claimCases } from './cases/claims.js';
import { dashboardCases } from './cases/dashboard.js';
import { insertCases } from './cases/insert.js';
import { outcomeCases } from './cases/outcomes.js';
import { pruneCases } from './cases/prune.js';
import { relayCases } from './cases/relay.js';
import { runErrorCases } from './cases/run-errors.js';
import { type CaseTest, type Setup, type StoreFactory, type StoreTarget, withCapabilities } from './support/target.js';

export type { StoreFactory, StoreProcess, StoreTarget } from './support/target.js';

export interface StoreConformanceOptions {
  /** Runs once after the file's tests (drops the per-file database, removes the temp folder). */
  dispose?: () => Promise<void>;
  /**
   * Titles of cases known to fail on this target, run as `it.fails` (so fixing the bug flags the entry for removal).
   * Each entry should say why in a comment where the runner passes it.
   */
  knownFailures?: readonly string[];
}

/**
 * The store-level conformance suite: every operation of the Store, WorkerStore, RelayStore and
 * DashboardStore seams, through those interfaces only, on one target (a dialect's driver or an ORM adapter).
 * A new dialect or adapter is done when a one-file runner of this suite passes on it.
 */
export function storeConformance(name: string, factory: StoreFactory, options: StoreConformanceOptions = {}): void {
  describe(`store conformance: ${name}`, () => {
    const targets: StoreTarget[] = [];
    afterEach(async () => {
      while (targets.length > 0) await targets.pop()?.close();
    });
    afterAll(async () => {
      await options.dispose?.();
    });

    const fresh = async () => {
      const target = await factory();
      targets.push(target);
      return target;
    };
    const setup: Setup = async () => {
      const target = await fresh();
      const a = withCapabilities(await target.process());
      await a.store.migrate();
      return {
        a,
        singleWriter: target.singleWriter,
        another: async () => withCapabilities(await target.process()),
        unmigrated: async () => withCapabilities(await (await fresh()).process()),
      };
    };

    const known = new Set(options.knownFailures ?? []);
    const titles = new Set<string>();
    const test: CaseTest = (title, fn) => {
      titles.add(title);
      (known.has(title) ? it.fails : it)(title, fn);
    };
    for (const cases of [
      insertCases,
      claimCases,
      outcomeCases,
      pruneCases,
      runErrorCases,
      relayCases,
      dashboardCases,
      adminCases,
    ]) {
      cases(setup, test);
    }
    // A renamed case must not turn a known failure into a silently skipped check.
    const unknown = [...known].filter((title) => !titles.has(title));
    if (unknown.length > 0) throw new Error(`knownFailures names no case: ${unknown.join('; ')}`);
  });
}
