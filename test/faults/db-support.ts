/**
 * Database faults for an in-process worker on a real PostgreSQL. A fresh schema per test with an
 * effects table, a per-test call record (every real call of a target), and a gate: a BEFORE UPDATE or
 * DELETE trigger on the hot attempts table (an outcome moves the row out of it) that, while a phase is
 * armed, makes the worker's statement of that phase (claim, outcome, heartbeat) wait on an advisory lock
 * the test holds — so the test can kill exactly that backend with pg_terminate_backend while the
 * statement is in flight.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { expect, inject } from 'vitest';
import { postgres } from '../../src/drivers/postgres.js';
import {
  createAsyncTask,
  type PerformContext,
  type Worker,
  type WorkerMode,
  type WorkerOptions,
} from '../../src/index.js';
import { withPgTransaction } from '../support/pg-transaction.js';

const ignore = () => {};
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function until(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(25);
  }
}

export type Phase = 'claim' | 'outcome' | 'heartbeat';

export interface FaultArgs {
  key: string;
  /** Sleep this long before the effect. */
  ms?: number;
  /** Wait for the test's `onRun` hook on the first run. */
  pause?: boolean;
  /** Take a second connection from the worker's own pool and hold it this long. */
  holdMs?: number;
  /** First run only: hit statement_timeout; `swallow` catches the error and returns. */
  statementTimeout?: 'throw' | 'swallow';
}

export interface FaultDbOptions {
  mode: WorkerMode;
  adminUrl?: string;
  /** The worker pool's size. Default: 8. */
  poolMax?: number;
}

/** A schema with the attempts table, effects, the gate, and a worker whose targets record every call. */
export async function faultDb({ mode, adminUrl = inject('pgAdminUrl'), poolMax = 8 }: FaultDbOptions) {
  const schema = `f_${randomBytes(5).toString('hex')}`;
  const application = `fault-${schema}`;
  const admin = new pg.Pool({ connectionString: adminUrl, max: 6 });
  admin.on('error', () => {});
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.query(
    `CREATE TABLE ${schema}.effects (attempt_id bigint NOT NULL, num_attempts integer NOT NULL, key text NOT NULL)`,
  );
  const workerPool = new pg.Pool({ connectionString: adminUrl, max: poolMax, application_name: application });
  workerPool.on('error', () => {});

  const calls: { id: string; numAttempts: number }[] = [];
  /** Called on the first run of a `pause` attempt; the run goes on when it resolves. */
  let onRun: (ctx: PerformContext<unknown>) => Promise<void> = async () => {};
  const insert = `INSERT INTO ${schema}.effects (attempt_id, num_attempts, key) VALUES ($1, $2, $3)`;
  const Fault = {
    async write(args: FaultArgs, ctx: PerformContext<unknown>) {
      calls.push({ id: ctx.attempt.id, numAttempts: ctx.attempt.numAttempts });
      const first = ctx.attempt.numAttempts === 1;
      const tx = mode === 'transactional' ? (ctx.tx as pg.PoolClient) : null;
      if (args.pause && first) await onRun(ctx);
      if (args.ms) await sleep(args.ms);
      if (args.holdMs) {
        const held = await workerPool.connect();
        held.on('error', ignore);
        try {
          await held.query('SELECT 1');
          await sleep(args.holdMs);
        } finally {
          held.off('error', ignore);
          held.release();
        }
      }
      const values = [ctx.attempt.id, ctx.attempt.numAttempts, args.key];
      if (args.statementTimeout && first) {
        if (tx) {
          // Written, then the savepoint is broken by the timeout: the write must not survive this run.
          await tx.query(insert, values);
          try {
            await tx.query(`SET LOCAL statement_timeout = '100ms'`);
            await tx.query('SELECT pg_sleep(2)');
          } catch (error) {
            if (args.statementTimeout === 'throw') throw error;
          }
          return;
        }
        const client = await workerPool.connect();
        client.on('error', ignore);
        try {
          await client.query(`SET statement_timeout = '100ms'`);
          await client.query('SELECT pg_sleep(2)');
        } catch (error) {
          if (args.statementTimeout === 'throw') throw error;
        } finally {
          await client.query('RESET statement_timeout').catch(() => {});
          client.off('error', ignore);
          client.release();
        }
      }
      await (tx ?? admin).query(insert, values);
    },
  };
  const asyncTask = createAsyncTask({
    db: postgres(workerPool, { schema }),
    targets: { Fault },
    retry: { maxAttempts: 10, backoff: () => 50 },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
  await asyncTask.migrate();

  const gateKey = Number.parseInt(randomBytes(3).toString('hex'), 16);
  await admin.query(`CREATE TABLE ${schema}.gate (phase text PRIMARY KEY)`);
  await admin.query(`CREATE FUNCTION ${schema}.gate() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE p text;
    BEGIN
      p := CASE
        -- An outcome moves the attempt out of the hot table into the history.
        WHEN TG_OP = 'DELETE' THEN 'outcome'
        WHEN NEW.num_attempts > OLD.num_attempts THEN 'claim'
        WHEN NEW.status <> OLD.status OR NEW.last_error IS DISTINCT FROM OLD.last_error THEN 'outcome'
        WHEN NEW.lease_owner IS NOT DISTINCT FROM OLD.lease_owner
          AND NEW.lease_expires_at IS DISTINCT FROM OLD.lease_expires_at THEN 'heartbeat'
        ELSE 'other' END;
      IF EXISTS (SELECT 1 FROM ${schema}.gate g WHERE g.phase = p) THEN
        PERFORM pg_advisory_xact_lock_shared(${gateKey});
      END IF;
      RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END $$`);
  await admin.query(
    `CREATE TRIGGER gate BEFORE UPDATE OR DELETE ON ${schema}.async_task_attempts_hot FOR EACH ROW EXECUTE FUNCTION ${schema}.gate()`,
  );

  const workers: Worker[] = [];
  const workerErrors: string[] = [];
  const table = `${schema}.async_task_attempts`;
  const query = async <R = Record<string, unknown>>(sql: string, values: unknown[] = []) =>
    (await admin.query(sql, values)).rows as R[];
  const count = async (where: string) =>
    Number((await query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`))[0]?.n);

  /** Backends of the worker's pool. */
  const workerBackends = async () =>
    (await query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [application])).map(
      (row) => row.pid,
    );

  return {
    schema,
    admin,
    workerPool,
    asyncTask,
    calls,
    workerErrors,
    count,
    query,
    workerBackends,
    setOnRun(hook: (ctx: PerformContext<unknown>) => Promise<void>) {
      onRun = hook;
    },
    async enqueue(argsList: FaultArgs[]) {
      return withPgTransaction(admin, (client) => asyncTask.enqueueMany(client, 'Fault', 'write', argsList));
    },
    async startWorker(options: WorkerOptions = {}) {
      const worker = asyncTask.worker({
        mode,
        concurrency: 2,
        pollIntervalMs: 100,
        leaseMs: 1000,
        timeoutMs: 10_000,
        retention: false,
        ...options,
      });
      worker.on('error', ({ error, during }) => workerErrors.push(`${during}: ${String(error)}`));
      await worker.start();
      workers.push(worker);
      return worker;
    },
    /** Arms `phase` and holds the gate's lock: the worker's next statement of that phase waits. */
    async arm(phase: Phase) {
      const holder = await admin.connect();
      await holder.query('SELECT pg_advisory_lock($1)', [gateKey]);
      await admin.query(`INSERT INTO ${schema}.gate (phase) VALUES ($1)`, [phase]);
      return {
        /** Waits for a worker backend blocked at the gate, terminates it, and opens the gate. */
        async killBlocked(): Promise<number> {
          let pid = 0;
          try {
            await until(
              `a ${phase} statement blocked at the gate`,
              async () => {
                const rows = await query<{ pid: number }>(
                  `SELECT pid FROM pg_stat_activity
                 WHERE application_name = $1 AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
                  [application],
                );
                pid = rows[0]?.pid ?? 0;
                return pid !== 0;
              },
              20_000,
            );
            await admin.query('SELECT pg_terminate_backend($1)', [pid]);
            return pid;
          } finally {
            await admin.query(`DELETE FROM ${schema}.gate`);
            await holder.query('SELECT pg_advisory_unlock($1)', [gateKey]);
            holder.release();
          }
        },
      };
    },
    async close() {
      for (const worker of workers) await worker.stop({ timeoutMs: 2000 }).catch(() => {});
      await workerPool.end().catch(() => {});
      await admin.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => {});
      await admin.end();
    },
  };
}

export type FaultDb = Awaited<ReturnType<typeof faultDb>>;

/**
 * The invariants over a finished run, asserted on rows: every attempt succeeded (they are all healthy
 * here, so I1 and I3 together), no attempt was called more often than its final num_attempts (I2),
 * and the effects: exactly one, from the run that succeeded (transactional), or at least one of them
 * from that run (leased, at-least-once) (I4). The worker is still running and the API answers (I6).
 */
export async function expectInvariants(db: FaultDb, mode: WorkerMode, workers: readonly Worker[]): Promise<void> {
  const rows = await db.query<{ id: string; status: string; num_attempts: number; last_error: string | null }>(
    `SELECT id::text, status, num_attempts, last_error FROM ${db.schema}.async_task_attempts ORDER BY id`,
  );
  expect(rows.length).toBeGreaterThan(0);
  expect(rows.filter((row) => row.status !== 'succeeded')).toEqual([]);
  const calls = new Map<string, number>();
  for (const call of db.calls) calls.set(call.id, (calls.get(call.id) ?? 0) + 1);
  const overCalled = rows
    .filter((row) => (calls.get(row.id) ?? 0) > row.num_attempts)
    .map((row) => ({ id: row.id, numAttempts: row.num_attempts, calls: calls.get(row.id) }));
  expect(overCalled, 'I2: calls <= num_attempts (a run that started stays counted)').toEqual([]);
  const effects = await db.query<{ id: string; num_attempts: number }>(
    `SELECT attempt_id::text AS id, num_attempts FROM ${db.schema}.effects`,
  );
  for (const row of rows) {
    const mine = effects.filter((effect) => effect.id === row.id);
    if (mode === 'transactional') {
      expect(mine, `I4: attempt ${row.id} has its effect exactly once`).toEqual([
        { id: row.id, num_attempts: row.num_attempts },
      ]);
    } else {
      expect(
        mine.some((effect) => effect.num_attempts === row.num_attempts),
        `I4: attempt ${row.id}`,
      ).toBe(true);
    }
  }
  for (const worker of workers) expect(worker.state).toBe('running');
  const page = await db.asyncTask.list({ limit: 5 });
  expect(page.attempts.length).toBeGreaterThan(0);
}
