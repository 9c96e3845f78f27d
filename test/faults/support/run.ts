import { expect } from 'vitest';
import { AttemptNotFoundError, InvalidStateError } from '../../../src/core/errors.js';
import type { AsyncTask, PerformOptions, WorkerOptions } from '../../../src/index.js';
import type { TestDb } from '../../support/dialects.js';
import {
  checkInvariants,
  type FinishedRun,
  formatViolations,
  listAll,
  type Planned,
  type Probe,
} from './invariants.js';

/** The three ways an attempt is run: `perform()` by hand, and the worker's two modes. */
export type RunMode = 'perform' | 'transactional' | 'leased';
export const RUN_MODES: readonly RunMode[] = ['perform', 'transactional', 'leased'];

/** Small and fast: three runs, no backoff. */
export const MAX_ATTEMPTS = 3;
export const fastRetry = { maxAttempts: MAX_ATTEMPTS, backoff: () => 0 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface RunSpec {
  readonly asyncTask: AsyncTask<any, any, any>;
  readonly db: TestDb<any>;
  readonly mode: RunMode;
  readonly probe: Probe;
  readonly planned: readonly Planned[];
  readonly rolledBack?: readonly string[];
  /** Whether targets write their effect through `ctx.tx` (not in the leased mode, which has none). */
  readonly txEffects?: boolean;
  readonly maxAttempts?: number;
  readonly worker?: WorkerOptions;
  readonly perform?: PerformOptions;
  /** Give up waiting for the planned outcomes after this long; the invariants then say what is wrong. */
  readonly deadlineMs?: number;
}

const settled = (status: string) => status !== 'pending';

/** Whether every planned attempt has reached a state it can stay in (terminal, or untouched as planned). */
async function allSettled(spec: RunSpec): Promise<boolean> {
  let attempts: Awaited<ReturnType<typeof listAll>>;
  try {
    attempts = await listAll(spec.asyncTask);
  } catch {
    return false;
  }
  const untouchedIds = new Set(spec.planned.filter((p) => p.expect === 'untouched' && p.id).map((p) => p.id));
  const untouchedTags = new Set(spec.planned.filter((p) => p.expect === 'untouched').map((p) => p.tag));
  for (const attempt of attempts) {
    if (settled(attempt.status) || untouchedIds.has(attempt.id)) continue;
    let tag: unknown = null;
    try {
      tag = ((await spec.asyncTask.decodeArgs(attempt)) as { tag?: unknown } | null)?.tag;
    } catch {}
    if (typeof tag === 'string' && untouchedTags.has(tag)) continue;
    return false;
  }
  return true;
}

/** Runs the table's attempts in `spec.mode` until the planned outcomes are reached (or the deadline), then stops. */
export async function runToEnd(spec: RunSpec): Promise<FinishedRun> {
  const deadline = Date.now() + (spec.deadlineMs ?? 5000);
  const maxAttempts = spec.maxAttempts ?? MAX_ATTEMPTS;
  const performRejections: { id: string; error: unknown }[] = [];
  let worker: FinishedRun['worker'];
  if (spec.mode === 'perform') {
    const skip = new Set(spec.planned.filter((p) => p.expect === 'untouched').map((p) => p.tag));
    const skipIds = new Set(spec.planned.filter((p) => p.expect === 'untouched' && p.id).map((p) => p.id));
    for (let round = 0; round < maxAttempts + 3 && Date.now() < deadline; round++) {
      let pending: Awaited<ReturnType<typeof listAll>> = [];
      try {
        pending = (await listAll(spec.asyncTask)).filter((a) => a.status === 'pending' && !skipIds.has(a.id));
      } catch {}
      let performed = 0;
      for (const attempt of pending) {
        let tag: unknown = null;
        try {
          tag = ((await spec.asyncTask.decodeArgs(attempt)) as { tag?: unknown } | null)?.tag;
        } catch {}
        if (typeof tag === 'string' && skip.has(tag)) continue;
        try {
          const result = await spec.asyncTask.perform(attempt.id, spec.perform);
          if (result.outcome !== 'not-due') performed++;
        } catch (error) {
          if (error instanceof InvalidStateError || error instanceof AttemptNotFoundError) continue;
          performRejections.push({ id: attempt.id, error });
        }
      }
      if (performed === 0) break;
    }
  } else {
    const running = spec.asyncTask.worker({
      mode: spec.mode,
      pollIntervalMs: 50,
      concurrency: 4,
      leaseMs: 5000,
      retention: false,
      ...spec.worker,
    });
    await running.start();
    while (Date.now() < deadline && !(await allSettled(spec))) await sleep(50);
    const stateBeforeStop = running.state;
    let stopError: unknown;
    try {
      await running.stop({ timeoutMs: 2000 });
    } catch (error) {
      stopError = error;
    }
    worker = { stateBeforeStop, ...(stopError === undefined ? {} : { stopError }) };
  }
  return {
    asyncTask: spec.asyncTask,
    db: spec.db,
    mode: spec.mode,
    probe: spec.probe,
    maxAttempts,
    planned: spec.planned,
    rolledBack: spec.rolledBack ?? [],
    txEffects: spec.txEffects ?? spec.mode !== 'leased',
    ...(worker === undefined ? {} : { worker }),
    performRejections,
  };
}

/** Runs to the end and asserts the invariants held, naming every violation. */
export async function expectInvariants(spec: RunSpec): Promise<FinishedRun> {
  const run = await runToEnd(spec);
  const violations = await checkInvariants(run);
  expect(violations, formatViolations(run, violations)).toEqual([]);
  return run;
}
