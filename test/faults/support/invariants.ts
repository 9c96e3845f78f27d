import type { AsyncTask, Attempt } from '../../../src/index.js';
import type { TestDb } from '../../support/dialects.js';

/**
 * The promise the library makes, as checks over a finished run (docs/guarantees.md):
 * - I1 every attempt ends terminal, or pending with a bounded, valid `lastError` and `numAttempts <= maxAttempts`
 *   (or pending and untouched, when the run declared it so: never due, or no worker knows its target);
 * - I2 a target never ran more often than its attempt's final `numAttempts`;
 * - I3 the healthy attempts beside a poison one all succeed;
 * - I4 writes through `ctx.tx` exist iff the attempt succeeded, exactly once;
 * - I5 an enqueue whose transaction rolled back never runs and leaves no row;
 * - I6 the worker keeps running, and `list()`/`find()` keep working (and `perform()` records, never throws).
 */

/** `lastError` is at most this long (the library caps it near 8,000 characters). */
export const MAX_LAST_ERROR_LENGTH = 8192;

export type Expectation =
  /** Must end `succeeded`. */
  | 'succeeded'
  /** Must end `failed` after exactly `maxAttempts` runs. */
  | 'failed'
  /** Must stay `pending` with `numAttempts` 0: never due, or no worker knows its target. */
  | 'untouched'
  /** Any outcome the invariants allow. */
  | 'any';

/** One attempt a run enqueued on purpose, found again by its `tag` argument (or its id, for unreadable rows). */
export interface Planned {
  readonly tag: string;
  readonly role: 'healthy' | 'poison' | 'hostile';
  readonly expect: Expectation;
  /** For rows whose arguments cannot be decoded. */
  readonly id?: string;
}

/** Target calls, counted by the `tag` argument, and how many targets ran at once. */
export class Probe {
  readonly calls = new Map<string, number>();
  running = 0;
  maxRunning = 0;

  called(tag: string): void {
    this.calls.set(tag, (this.calls.get(tag) ?? 0) + 1);
  }

  count(tag: string): number {
    return this.calls.get(tag) ?? 0;
  }

  /** Wraps a target call to track the overlap of running targets. */
  async overlap<T>(fn: () => Promise<T>): Promise<T> {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      return await fn();
    } finally {
      this.running--;
    }
  }
}

export interface FinishedRun {
  readonly asyncTask: AsyncTask<any, any, any>;
  readonly db: TestDb<any>;
  readonly mode: string;
  readonly probe: Probe;
  readonly maxAttempts: number;
  readonly planned: readonly Planned[];
  /** Tags of attempts enqueued in transactions that rolled back (or by targets whose run failed). */
  readonly rolledBack: readonly string[];
  /** Whether targets wrote their effect (key: the tag) through `ctx.tx` in this mode. */
  readonly txEffects: boolean;
  /** The worker's state just before it was stopped, and the errors it reported meanwhile. */
  readonly worker?: { readonly stateBeforeStop: string; readonly stopError?: unknown };
  /** Errors `perform()` threw (other than for an attempt no longer pending). */
  readonly performRejections: readonly { readonly id: string; readonly error: unknown }[];
}

export interface Violation {
  readonly invariant: 'I1' | 'I2' | 'I3' | 'I4' | 'I5' | 'I6' | 'expected';
  readonly attempt?: string;
  readonly detail: string;
}

const TERMINAL = new Set(['succeeded', 'failed', 'expired']);

/** Every attempt of the table, through the public `list()` (all pages). */
export async function listAll(asyncTask: AsyncTask<any, any, any>): Promise<Attempt[]> {
  const attempts: Attempt[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const result = await asyncTask.list({ limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
    attempts.push(...result.attempts);
    if (result.nextCursor === null) return attempts;
    cursor = result.nextCursor;
  }
  throw new Error('list() never ended');
}

/** The attempt's `tag` argument, or the planned tag of its id, or null (unreadable and unplanned). */
async function tagOf(run: FinishedRun, attempt: Attempt): Promise<string | null> {
  const byId = run.planned.find((item) => item.id === attempt.id);
  if (byId) return byId.tag;
  try {
    const args = (await run.asyncTask.decodeArgs(attempt)) as { tag?: unknown } | null;
    return typeof args?.tag === 'string' ? args.tag : null;
  } catch {
    return null;
  }
}

const show = (value: unknown) => {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 200 ? `${text.slice(0, 200)}…` : text;
};

function describe(error: unknown): string {
  try {
    return error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}` : show(error);
  } catch {
    return '(an error that cannot be described)';
  }
}

/** Checks I1–I6 and the planned expectations over a finished run; an empty list means the promise held. */
export async function checkInvariants(run: FinishedRun): Promise<Violation[]> {
  const violations: Violation[] = [];
  const add = (invariant: Violation['invariant'], detail: string, attempt?: string) =>
    violations.push({ invariant, detail, ...(attempt === undefined ? {} : { attempt }) });

  // I6: the worker kept running; list() and find() answer.
  if (run.worker && run.worker.stateBeforeStop !== 'running') {
    add('I6', `the worker was ${run.worker.stateBeforeStop} before stop(), not running`);
  }
  if (run.worker?.stopError !== undefined) add('I6', `worker.stop() threw ${describe(run.worker.stopError)}`);
  for (const { id, error } of run.performRejections) add('I6', `perform(${id}) threw ${describe(error)}`, id);
  let attempts: Attempt[];
  try {
    attempts = await listAll(run.asyncTask);
  } catch (error) {
    add('I6', `list() threw ${describe(error)}`);
    return violations;
  }

  const byTag = new Map<string, Attempt[]>();
  for (const attempt of attempts) {
    try {
      const found = await run.asyncTask.find(attempt.id);
      if (!found) add('I6', 'find() returned null for a listed attempt', attempt.id);
      else if (found.status !== attempt.status) add('I6', `find() says ${found.status}, list() ${attempt.status}`);
    } catch (error) {
      add('I6', `find() threw ${describe(error)}`, attempt.id);
    }
    const tag = await tagOf(run, attempt);
    if (tag !== null) byTag.set(tag, [...(byTag.get(tag) ?? []), attempt]);
  }

  const planFor = (tag: string | null) => run.planned.find((item) => item.tag === tag);
  for (const attempt of attempts) {
    const tag = await tagOf(run, attempt);
    const plan = planFor(tag);
    const where = `${attempt.id}${tag === null ? '' : ` (${tag})`}`;
    // I1
    if (plan?.expect === 'untouched') {
      if (attempt.status !== 'pending' || attempt.numAttempts !== 0) {
        add('I1', `expected untouched (pending, 0 runs), got ${attempt.status} after ${attempt.numAttempts}`, where);
      }
    } else if (!TERMINAL.has(attempt.status)) {
      if (attempt.status !== 'pending') add('I1', `unknown status ${show(attempt.status)}`, where);
      else if (!attempt.lastError) add('I1', `pending after ${attempt.numAttempts} runs with no lastError`, where);
      if (attempt.numAttempts > run.maxAttempts) {
        add('I1', `numAttempts ${attempt.numAttempts} > maxAttempts ${run.maxAttempts}`, where);
      }
    }
    if (attempt.lastError !== null) {
      if (attempt.lastError.length > MAX_LAST_ERROR_LENGTH) {
        add('I1', `lastError is ${attempt.lastError.length} characters (> ${MAX_LAST_ERROR_LENGTH})`, where);
      }
      if (attempt.lastError.includes('\u0000')) add('I1', 'lastError contains NUL', where);
      if (attempt.status === 'failed' && attempt.lastError.trim() === '') add('I1', 'failed with an empty lastError');
    } else if (attempt.status === 'failed' && attempt.numAttempts > 0) {
      add('I1', 'failed after a run with no lastError', where);
    }
    // I2
    if (tag !== null) {
      const calls = run.probe.count(tag);
      const runs = (byTag.get(tag) ?? []).reduce((sum, a) => sum + a.numAttempts, 0);
      if (calls > runs) add('I2', `the target ran ${calls} times, numAttempts is ${runs}`, where);
    }
    // I4
    if (run.txEffects && tag !== null && plan) {
      const effects = await run.db.countEffects(tag);
      const want = attempt.status === 'succeeded' ? 1 : 0;
      if (effects !== want) add('I4', `${attempt.status} with ${effects} ctx.tx writes (want ${want})`, where);
    }
    // Planned outcomes (I3 for the healthy neighbours).
    if (plan?.expect === 'succeeded' && attempt.status !== 'succeeded') {
      add(
        plan.role === 'healthy' ? 'I3' : 'expected',
        `expected succeeded, got ${attempt.status} after ${attempt.numAttempts} runs (lastError ${show(attempt.lastError?.slice(0, 160))})`,
        where,
      );
    }
    if (plan?.expect === 'failed') {
      if (attempt.status !== 'failed') {
        add('expected', `expected failed, got ${attempt.status} after ${attempt.numAttempts} runs`, where);
      } else if (!attempt.lastError) add('expected', 'failed with no lastError', where);
    }
  }

  // Every planned attempt is there (I3 for healthy ones: an attempt that vanished did not succeed).
  for (const plan of run.planned) {
    if (!byTag.has(plan.tag)) {
      add(plan.role === 'healthy' ? 'I3' : 'expected', `planned attempt ${plan.tag} is missing from list()`);
    }
  }
  // I5: nothing rolled back ran or exists.
  for (const tag of run.rolledBack) {
    if (run.probe.count(tag) > 0) add('I5', `rolled-back ${tag} ran ${run.probe.count(tag)} times`);
    if (byTag.has(tag)) add('I5', `rolled-back ${tag} has a row`);
  }
  return violations;
}

/** Formats violations for an assertion message. */
export function formatViolations(run: Pick<FinishedRun, 'mode'>, violations: readonly Violation[]): string {
  return violations
    .map((v) => `[${run.mode}] ${v.invariant}${v.attempt === undefined ? '' : ` attempt ${v.attempt}`}: ${v.detail}`)
    .join('\n');
}
