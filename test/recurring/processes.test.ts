import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { postgres } from '../../src/drivers/postgres.js';
import { sqlite } from '../../src/drivers/sqlite.js';
import { createAsyncTask } from '../../src/index.js';
import { sleep, startWorkerProcess, until, type WorkerProcess } from '../worker/support.js';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'recurring-worker.ts');
const Ticks = { async record(_args: { note: string }) {} };

/** What the tests read back: the ticks enqueued (from the tokens) and the runs the target recorded. */
interface Side {
  readonly env: Record<string, string>;
  /** Tick times (ms) of the schedule's attempts, ascending, and each one's status. */
  attempts(schedule: string): Promise<{ at: number; status: string }[]>;
  /** How many times each tick of the schedule ran (ISO time → runs). */
  runs(schedule: string): Promise<Map<string, number>>;
  close(): Promise<void>;
}

async function postgresSide(): Promise<Side> {
  const schema = `r_${randomBytes(5).toString('hex')}`;
  const url = inject('pgAdminUrl');
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => {});
  await pool.query(`CREATE SCHEMA ${schema}`);
  await pool.query(`CREATE TABLE ${schema}.tick_runs (schedule text NOT NULL, tick text NOT NULL, worker text)`);
  await createAsyncTask({ db: postgres(pool, { schema }), targets: { Ticks } }).migrate();
  return {
    env: { PG_URL: url, SCHEMA: schema },
    async attempts(schedule) {
      const { rows } = await pool.query(
        `SELECT idempotence_token AS token, status FROM ${schema}.async_task_attempts WHERE idempotence_token LIKE $1`,
        [`recurring:${schedule}:%`],
      );
      return rows
        .map((row) => ({ at: Date.parse(row.token.slice(`recurring:${schedule}:`.length)), status: row.status }))
        .sort((a, b) => a.at - b.at);
    },
    async runs(schedule) {
      const { rows } = await pool.query(
        `SELECT tick, count(*)::int AS n FROM ${schema}.tick_runs WHERE schedule = $1 GROUP BY tick`,
        [schedule],
      );
      return new Map(rows.map((row) => [row.tick, row.n]));
    },
    close: () => pool.end(),
  };
}

async function sqliteSide(): Promise<Side> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'async-task-recurring-'));
  const file = path.join(dir, 'app.sqlite');
  const app = new Database(file);
  app.pragma('journal_mode = WAL');
  app.exec('CREATE TABLE tick_runs (schedule TEXT NOT NULL, tick TEXT NOT NULL, worker TEXT)');
  const asyncTask = createAsyncTask({ db: sqlite(app), targets: { Ticks } });
  await asyncTask.migrate();
  return {
    env: { SQLITE_FILE: file },
    async attempts(schedule) {
      const rows = app
        .prepare('SELECT idempotence_token AS token, status FROM async_task_attempts WHERE idempotence_token LIKE ?')
        .all(`recurring:${schedule}:%`) as { token: string; status: string }[];
      return rows
        .map((row) => ({ at: Date.parse(row.token.slice(`recurring:${schedule}:`.length)), status: row.status }))
        .sort((a, b) => a.at - b.at);
    },
    async runs(schedule) {
      const rows = app
        .prepare('SELECT tick, count(*) AS n FROM tick_runs WHERE schedule = ? GROUP BY tick')
        .all(schedule) as { tick: string; n: number }[];
      return new Map(rows.map((row) => [row.tick, row.n]));
    },
    async close() {
      await asyncTask.close();
      app.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Gaps (in whole seconds) between consecutive ticks: all 1 when no tick is missing. */
const steps = (ticks: readonly { at: number }[]) => ticks.slice(1).map((tick, i) => (tick.at - ticks[i]!.at) / 1000);

const wanted = process.env.ASYNC_TASK_DIALECTS?.split(',').map((name) => name.trim());
const sides = { postgres: postgresSide, sqlite: sqliteSide };

for (const [dialect, open] of Object.entries(sides)) {
  describe.skipIf(wanted !== undefined && !wanted.includes(dialect))(`recurring worker processes [${dialect}]`, () => {
    const children: WorkerProcess[] = [];
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const child of children.splice(0)) child.child.kill('SIGKILL');
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });
    const spawn = async (side: Side, id: string) => {
      const child = await startWorkerProcess({ ...side.env, WORKER_ID: id }, SCRIPT);
      children.push(child);
      return child;
    };
    const stop = async (child: WorkerProcess) => {
      child.child.kill('SIGTERM');
      expect(await child.exited).toBe(0);
    };

    it('three processes, an every-second schedule for seconds: exactly one attempt and one run per tick', async () => {
      const side = await open();
      cleanups.push(() => side.close());
      // One after the other: three tsx start-ups at once can be slow on a loaded machine.
      const workers: WorkerProcess[] = [];
      for (const id of ['a', 'b', 'c']) workers.push(await spawn(side, `recurring-${id}`));
      await until('six ticks performed', async () => (await side.runs('everySecondFilled')).size >= 6, 60_000);
      await Promise.all(workers.map(stop));
      for (const schedule of ['everySecond', 'everySecondFilled']) {
        const ticks = await side.attempts(schedule);
        expect(ticks.length).toBeGreaterThanOrEqual(5);
        // One attempt per tick (the index guarantees no two) and no tick missing between the first and the last.
        expect(new Set(ticks.map((tick) => tick.at)).size).toBe(ticks.length);
        if (schedule === 'everySecondFilled') expect(steps(ticks).every((step) => step === 1)).toBe(true);
        // Each tick ran at most once, and every succeeded one exactly once, through ctx.tx.
        const runs = await side.runs(schedule);
        for (const tick of ticks) {
          expect(runs.get(new Date(tick.at).toISOString()) ?? 0).toBe(tick.status === 'succeeded' ? 1 : 0);
        }
        expect([...runs.values()].every((n) => n === 1)).toBe(true);
      }
    }, 90_000);

    it('restart: default policy skips the missed ticks but one; catchUp 100 enqueues every missed tick once', async () => {
      const side = await open();
      cleanups.push(() => side.close());
      const first = await spawn(side, 'before');
      await until('two ticks', async () => (await side.attempts('everySecondFilled')).length >= 2, 60_000);
      await stop(first);
      const lastBefore = (await side.attempts('everySecond')).at(-1)!.at;
      // Down for at least four ticks.
      await sleep(4_500);
      const restartedAt = Date.now();
      const second = await spawn(side, 'after');
      await until(
        'three ticks after the restart',
        async () => (await side.attempts('everySecond')).filter((tick) => tick.at > restartedAt).length >= 3,
        60_000,
      );
      await stop(second);

      const skipping = await side.attempts('everySecond');
      // Missed while down: at most the one late tick was enqueued, so a gap of several seconds remains. (The newest
      // tick is on time, not missed: a process up within the second of restartedAt also enqueues that one before it.)
      expect(skipping.filter((tick) => tick.at > lastBefore && tick.at < restartedAt).length).toBeLessThanOrEqual(2);
      expect(Math.max(...steps(skipping))).toBeGreaterThanOrEqual(3);
      const filled = await side.attempts('everySecondFilled');
      expect(filled.some((tick) => tick.at > lastBefore && tick.at < restartedAt)).toBe(true);
      expect(steps(filled).every((step) => step === 1)).toBe(true);
      for (const schedule of ['everySecond', 'everySecondFilled']) {
        expect([...(await side.runs(schedule)).values()].every((n) => n === 1)).toBe(true);
      }
    }, 120_000);
  });
}
