/**
 * `npm run chaos`: worker processes of both modes on one PostgreSQL table, under a steady stream of
 * enqueues (committed and rolled back, a share of them poison), while the run SIGKILLs and SIGTERMs
 * workers (restarting them), kills their connections with pg_terminate_backend and restarts the
 * server. Then it lets the survivors drain and checks the invariants from SQL and the call logs:
 *
 * - I1 every attempt is terminal, or pending with `last_error` and `num_attempts ≤ maxAttempts`;
 * - I2 no attempt was called more often than its final `num_attempts`;
 * - I3 every healthy attempt succeeded;
 * - I4 an effect written through `ctx.tx` exists iff its attempt succeeded, exactly once;
 * - I5 no rolled-back enqueue ever ran (or exists);
 * - I6 workers kept running: no unexpected exit, every SIGTERM stopped its worker cleanly, and
 *   `list()`/`find()` still answer.
 *
 * Usage: `npm run chaos -- --duration 60 --workers 4 --seed 7` (or CHAOS_DURATION_S, CHAOS_WORKERS,
 * CHAOS_SEED). Starts its own embedded PostgreSQL; ASYNC_TASK_CHAOS_PG_URL uses that server instead
 * (then the server is not restarted). Bounded: the chaos lasts the budget, the drain at most 60 s,
 * and the whole run is abandoned (exit 2) past budget + 4 minutes. Exits 1 on any violation.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import pg from 'pg';
import { postgres } from '../../src/drivers/postgres.js';
import { createAsyncTask, type WorkerMode } from '../../src/index.js';
import { type RunningPostgres, startEmbeddedPostgres } from '../../test/support/embedded-postgres.js';
import { chaosTargets, HEALTHY, MAX_ATTEMPTS, type OddKind, POISON_MAX_ATTEMPTS, WRITERS } from './targets.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const WORKER_SCRIPT = path.join(here, 'chaos-worker.ts');

function option(name: string, envName: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const raw = index >= 0 ? process.argv[index + 1] : process.env[envName];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} (${envName}) must be a positive number`);
  return value;
}

const DURATION_S = option('duration', 'CHAOS_DURATION_S', 120);
const WORKERS = Math.max(2, Math.round(option('workers', 'CHAOS_WORKERS', 4)));
const SEED = Math.round(option('seed', 'CHAOS_SEED', Date.now() % 1_000_000));
const DRAIN_MS = 60_000;
/** A bound on the attempts one run creates, however fast the machine. */
const MAX_ENQUEUES = 50_000;
const LEASE_MS = 2000;
const HARD_LIMIT_MS = DURATION_S * 1000 + 240_000;

const ignore = () => {};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const say = (message: string) => process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

/** mulberry32: a small seeded generator, so a run's choices can be replayed with --seed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = seeded(SEED);
const between = (min: number, max: number) => Math.floor(min + random() * (max - min + 1));
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

const stats = {
  committedTransactions: 0,
  rolledBackTransactions: 0,
  enqueueErrors: 0,
  sigkills: 0,
  sigterms: 0,
  serverRestarts: 0,
  terminatedConnections: 0,
  workerStarts: 0,
  startsRefused: 0,
};
const violations = new Map<string, string[]>();
function violation(invariant: string, detail: string): void {
  const list = violations.get(invariant) ?? [];
  list.push(detail);
  violations.set(invariant, list);
}

interface Slot {
  readonly index: number;
  readonly mode: WorkerMode;
  child: ChildProcess | null;
  /** Set before a kill or term that the run itself sends. */
  expectingExit: boolean;
  /** A term or kill is in progress: the chaos leaves this slot alone. */
  busy: boolean;
  /** Said `ready`: it handles SIGTERM from now on. */
  ready: boolean;
  output: string;
  exited: Promise<number | string> | null;
}

async function main() {
  const externalUrl = process.env.ASYNC_TASK_CHAOS_PG_URL;
  let server: RunningPostgres | null = null;
  if (!externalUrl) {
    say('starting an embedded PostgreSQL');
    server = await startEmbeddedPostgres();
  }
  const url = externalUrl ?? (server as RunningPostgres).url;
  const schema = `chaos_${randomBytes(4).toString('hex')}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'async-task-chaos-'));
  const pool = new pg.Pool({ connectionString: url, max: 6, application_name: 'chaos-driver' });
  pool.on('error', () => {});
  const slots: Slot[] = [];
  let ending = false;

  const hardLimit = setTimeout(() => {
    say(`the run exceeded its bound of ${HARD_LIMIT_MS / 1000} s: abandoning it`);
    for (const slot of slots) slot.child?.kill('SIGKILL');
    process.exit(2);
  }, HARD_LIMIT_MS);
  hardLimit.unref();

  await pool.query(`CREATE SCHEMA ${schema}`);
  await pool.query(
    `CREATE TABLE ${schema}.chaos_effects (attempt_id bigint NOT NULL, num_attempts integer NOT NULL, via text NOT NULL, key text NOT NULL)`,
  );
  const targets = chaosTargets({ mode: 'transactional', side: null, schema, log: () => {} });
  const asyncTask = createAsyncTask({ db: postgres(pool, { schema }), targets });
  await asyncTask.migrate();
  say(`seed ${SEED}, ${DURATION_S} s of chaos, ${WORKERS} worker processes, schema ${schema}`);

  // ---- worker processes ----
  const spawnWorker = async (slot: Slot): Promise<void> => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT], {
      env: {
        ...process.env,
        PG_URL: url,
        SCHEMA: schema,
        WORKER_MODE: slot.mode,
        SLOT: String(slot.index),
        CHAOS_DIR: dir,
        LEASE_MS: String(LEASE_MS),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    stats.workerStarts++;
    slot.child = child;
    slot.expectingExit = false;
    slot.ready = false;
    slot.output = '';
    const append = (chunk: Buffer) => {
      slot.output = (slot.output + chunk.toString()).slice(-4000);
      if (!slot.ready && slot.child === child && /^ready$/m.test(slot.output)) slot.ready = true;
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    slot.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
    void slot.exited.then((how) => {
      if (slot.child !== child) return;
      slot.child = null;
      if (slot.expectingExit) return;
      // A worker refuses to start while the server is down (fail fast, DATABASE_UNREACHABLE): what an
      // orchestrator restarting it then sees. Only a worker that was running and died is a violation.
      if (!slot.ready && how === 1 && slot.output.includes('DATABASE_UNREACHABLE')) {
        stats.startsRefused++;
        if (!ending)
          void sleep(500).then(async () => {
            if (!ending) await spawnWorker(slot);
          });
        return;
      }
      violation('I6', `worker ${slot.mode}#${slot.index} exited unexpectedly (${how}): ${slot.output.trim()}`);
      if (!ending) void spawnWorker(slot);
    });
    const deadline = Date.now() + 30_000;
    while (!slot.ready && slot.child === child && Date.now() < deadline) await sleep(50);
  };

  for (let index = 0; index < WORKERS; index++) {
    const slot: Slot = {
      index,
      mode: index % 2 === 0 ? 'transactional' : 'leased',
      child: null,
      expectingExit: false,
      busy: false,
      ready: false,
      output: '',
      exited: null,
    };
    slots.push(slot);
  }
  await Promise.all(slots.map(spawnWorker));
  say('workers ready');

  // ---- the enqueuer: committed and rolled-back transactions, a share of poison ----
  const rolledBackIds: string[] = [];
  let sequence = 0;
  const enqueueOne = async (client: pg.PoolClient, key: string) => {
    const roll = random();
    if (roll < 0.4) return asyncTask.enqueue(client, 'Ledger', 'post', { key });
    if (roll < 0.5) return asyncTask.enqueue(client, 'Ledger', 'postSlow', { key, ms: between(200, 1000) });
    if (roll < 0.74) return asyncTask.enqueue(client, 'Mailer', 'send', { key, ms: between(0, 300) });
    if (roll < 0.84) {
      const kinds: OddKind[] = ['undefined', 'string', 'number', 'nul', 'null-proto', 'huge', 'throwing-getter'];
      return asyncTask.enqueue(client, 'Poison', 'throwOdd', { key, kind: pick(kinds) });
    }
    if (roll < 0.92) return asyncTask.enqueue(client, 'Poison', 'swallowDbError', { key });
    if (roll < 0.96) return asyncTask.enqueue(client, 'Poison', 'hang', { key });
    return asyncTask.enqueue(client, 'Poison', 'writeAfterTimeout', { key });
  };
  let enqueuing = true;
  const enqueuer = (async () => {
    while (enqueuing && sequence < MAX_ENQUEUES) {
      const rollBack = random() < 0.1;
      const count = between(1, 4);
      let client: pg.PoolClient | undefined;
      try {
        client = await pool.connect();
        // A server restart while this client is checked out would otherwise be an unheard 'error' event.
        client.on('error', ignore);
        await client.query('BEGIN');
        const ids: string[] = [];
        for (let i = 0; i < count; i++) {
          const attempt = await enqueueOne(client, `${rollBack ? 'rb' : 'c'}-${++sequence}`);
          ids.push(attempt.id);
        }
        if (rollBack) {
          // Never committed: gone for sure, whether or not the ROLLBACK itself arrives.
          rolledBackIds.push(...ids);
          await client.query('ROLLBACK');
          stats.rolledBackTransactions++;
        } else {
          await client.query('COMMIT');
          stats.committedTransactions++;
        }
        client.off('error', ignore);
        client.release();
      } catch {
        stats.enqueueErrors++;
        client?.off('error', ignore);
        client?.release(true);
        await sleep(200);
      }
      await sleep(between(20, 120));
    }
  })();

  // ---- the chaos ----
  const live = () => slots.filter((slot) => slot.child && slot.ready && !slot.busy);
  const sigkill = async (slot: Slot) => {
    slot.busy = true;
    slot.expectingExit = true;
    slot.child?.kill('SIGKILL');
    await slot.exited;
    stats.sigkills++;
    slot.busy = false;
    if (!ending) await spawnWorker(slot);
  };
  const sigterm = async (slot: Slot) => {
    slot.busy = true;
    slot.expectingExit = true;
    const child = slot.child as ChildProcess;
    child.kill('SIGTERM');
    stats.sigterms++;
    const how = await Promise.race([slot.exited, sleep(20_000).then(() => 'timeout')]);
    if (how === 'timeout') {
      violation('I6', `worker ${slot.mode}#${slot.index} did not stop within 20 s of SIGTERM`);
      child.kill('SIGKILL');
      await slot.exited;
    } else if (how !== 0) {
      violation('I6', `worker ${slot.mode}#${slot.index} exited ${how} on SIGTERM: ${slot.output.slice(-600).trim()}`);
    }
    slot.busy = false;
  };
  const terminateConnections = async () => {
    const { rows } = await pool.query(
      `SELECT pid FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = $1`,
      [`chaos-w-${schema}`],
    );
    const victims = rows
      .map((row: { pid: number }) => row.pid)
      .sort(() => random() - 0.5)
      .slice(0, between(1, 3));
    for (const pid of victims) {
      const { rows: done } = await pool.query('SELECT pg_terminate_backend($1) AS done', [pid]);
      if (done[0]?.done) stats.terminatedConnections++;
    }
  };
  const restarts = server ? Math.max(1, Math.round(DURATION_S / 40)) : 0;
  const restartAt = Array.from({ length: restarts }, (_, k) => ((k + 1) / (restarts + 1)) * DURATION_S * 1000);
  const started = Date.now();
  const until = started + DURATION_S * 1000;
  const pending: Promise<unknown>[] = [];
  while (Date.now() < until) {
    await sleep(between(800, 2500));
    if (Date.now() >= until) break;
    try {
      if (server && restartAt.length > 0 && Date.now() - started >= (restartAt[0] as number)) {
        restartAt.shift();
        say('restarting the PostgreSQL server');
        await server.restart();
        stats.serverRestarts++;
        continue;
      }
      const roll = random();
      const candidates = live();
      if (roll < 0.45 || candidates.length === 0) {
        await terminateConnections();
      } else if (roll < 0.75) {
        const slot = pick(candidates);
        say(`SIGKILL ${slot.mode}#${slot.index}`);
        pending.push(sigkill(slot));
      } else {
        const slot = pick(candidates);
        say(`SIGTERM ${slot.mode}#${slot.index}`);
        pending.push(sigterm(slot).then(() => (ending ? undefined : spawnWorker(slot))));
      }
    } catch (error) {
      say(`chaos step failed: ${String(error)}`);
    }
  }
  enqueuing = false;
  await enqueuer;
  await Promise.all(pending);
  for (const slot of slots) if (!slot.child) await spawnWorker(slot);
  say(`chaos over after ${Math.round((Date.now() - started) / 1000)} s; draining`);

  // ---- drain ----
  const attemptsTable = `${schema}.async_task_attempts`;
  const drainDeadline = Date.now() + DRAIN_MS;
  let stillPending = -1;
  while (Date.now() < drainDeadline) {
    try {
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${attemptsTable} WHERE status = 'pending'`);
      stillPending = rows[0].n;
      if (stillPending === 0) break;
    } catch {
      // a connection cut by the last restart: try again
    }
    await sleep(500);
  }
  say(`drained (${stillPending} still pending); stopping the workers`);

  // ---- I6: the API still answers, and every worker stops cleanly ----
  try {
    const page = await asyncTask.list({ limit: 5 });
    const first = page.attempts[0];
    if (first && !(await asyncTask.find(first.id))) violation('I6', `find(${first.id}) found nothing`);
  } catch (error) {
    violation('I6', `list()/find() failed: ${String(error)}`);
  }
  ending = true;
  await Promise.all(slots.filter((slot) => slot.child).map((slot) => sigterm(slot)));

  // ---- the invariants ----
  const { rows: attempts } = await pool.query(
    `SELECT id::text, target, method_name, status, num_attempts, last_error IS NOT NULL AS has_error, method_args
     FROM ${attemptsTable}`,
  );
  const { rows: effects } = await pool.query(
    `SELECT attempt_id::text AS id, num_attempts, via FROM ${schema}.chaos_effects`,
  );
  const calls = new Map<string, number>();
  /** Per attempt: the runs called, as `numAttempts:mode`. */
  const callRuns = new Map<string, string>();
  const callKeys: string[] = [];
  let totalCalls = 0;
  for (const file of fs.readdirSync(dir)) {
    for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      if (!line) continue;
      const [id, num, mode, , key] = line.split('\t') as [string, string, string, string, string];
      calls.set(id, (calls.get(id) ?? 0) + 1);
      callRuns.set(id, `${callRuns.get(id) ?? ''} ${num}:${mode === 'transactional' ? 'tx' : 'leased'}`);
      callKeys.push(key as string);
      totalCalls++;
    }
  }
  const runsOf = (id: string) => {
    const runs = (callRuns.get(id) ?? '').trim().split(' ').filter(Boolean);
    if (runs.length === 0) return 'none';
    return runs.length <= 8 ? runs.join(' ') : `${runs.slice(0, 4).join(' ')} … ${runs.slice(-3).join(' ')}`;
  };
  const effectsOf = new Map<string, { num_attempts: number; via: string }[]>();
  for (const effect of effects) {
    const list = effectsOf.get(effect.id) ?? [];
    list.push(effect);
    effectsOf.set(effect.id, list);
  }
  const byStatus = new Map<string, number>();
  /**
   * Not a violation (I2 still holds): a claim whose outcome was never written (its worker or connection
   * killed) lapses and is claimed, and counted, once more.
   */
  const pastMax: string[] = [];
  let calledPastMax = 0;
  const known = new Set<string>();
  for (const row of attempts) {
    known.add(row.id);
    const name = `${row.target}.${row.method_name}`;
    const label = `${HEALTHY.has(name) ? 'healthy' : 'poison'} ${row.status}`;
    byStatus.set(label, (byStatus.get(label) ?? 0) + 1);
    const max = row.target === 'Poison' ? POISON_MAX_ATTEMPTS : MAX_ATTEMPTS;
    const describe = `#${row.id} ${name} ${row.status} num_attempts=${row.num_attempts} (runs: ${runsOf(row.id)})`;
    if (row.num_attempts > max) pastMax.push(describe);
    if ((calls.get(row.id) ?? 0) > max) calledPastMax++;
    // I1
    if (row.status === 'pending' && !(row.has_error && row.num_attempts <= max)) {
      violation('I1', `${describe} is pending ${row.has_error ? 'past maxAttempts' : 'without a recorded failure'}`);
    }
    // I2
    const called = calls.get(row.id) ?? 0;
    if (called > row.num_attempts) violation('I2', `${describe} was called ${called} times`);
    // I3
    if (HEALTHY.has(name) && row.status !== 'succeeded') violation('I3', `healthy ${describe}`);
    // I4
    if (WRITERS.has(name)) {
      const mine = effectsOf.get(row.id) ?? [];
      const viaTx = mine.filter((effect) => effect.via === 'tx');
      if (viaTx.length > 1) violation('I4', `${describe} has ${viaTx.length} ctx.tx effects`);
      if (viaTx.length > 0 && row.status !== 'succeeded') violation('I4', `${describe} has a ctx.tx effect`);
      if (viaTx.length === 1 && row.status === 'succeeded' && viaTx[0]?.num_attempts !== row.num_attempts) {
        violation('I4', `${describe}: its ctx.tx effect is from run ${viaTx[0]?.num_attempts}`);
      }
      const leasedSuccess = mine.some((effect) => effect.via === 'direct' && effect.num_attempts === row.num_attempts);
      if (row.status === 'succeeded' && viaTx.length === 0 && !leasedSuccess) {
        violation('I4', `${describe} succeeded without its effect`);
      }
    }
    // I5
    if (String(row.method_args).includes('"rb-')) violation('I5', `${describe} comes from a rolled-back enqueue`);
  }
  for (const id of rolledBackIds) {
    if (known.has(id)) violation('I5', `rolled-back attempt #${id} exists`);
    if (calls.has(id)) violation('I5', `rolled-back attempt #${id} was called`);
  }
  for (const key of callKeys) if (key.startsWith('rb-')) violation('I5', `a call with the rolled-back key ${key}`);
  for (const id of calls.keys()) {
    if (!known.has(id)) violation('I5', `a call of #${id}, which is no attempt`);
  }

  // ---- the closing table ----
  const table = new Table({ head: ['chaos run', ''], style: { head: [], border: [] } });
  const row = (label: string, value: string | number) => table.push([label, String(value)]);
  row('duration of chaos (s)', DURATION_S);
  row('seed', SEED);
  row(
    'worker processes (transactional + leased)',
    `${WORKERS} (${Math.ceil(WORKERS / 2)} + ${Math.floor(WORKERS / 2)})`,
  );
  row('worker starts (incl. restarts)', stats.workerStarts);
  row('starts refused while the server was down (fail fast)', stats.startsRefused);
  row('attempts committed', attempts.length);
  for (const [label, count] of [...byStatus].sort()) row(`  ${label}`, count);
  row(
    'enqueue transactions committed / rolled back / failed',
    `${stats.committedTransactions} / ${stats.rolledBackTransactions} / ${stats.enqueueErrors}`,
  );
  row('target calls (call logs)', totalCalls);
  row('effect rows', effects.length);
  row('attempts counted past maxAttempts (lapsed claims)', pastMax.length);
  row('attempts called more than maxAttempts times', calledPastMax);
  row('SIGKILLs', stats.sigkills);
  row('SIGTERMs', stats.sigterms);
  row('server restarts', server ? stats.serverRestarts : 'n/a (ASYNC_TASK_CHAOS_PG_URL)');
  row('connections terminated', stats.terminatedConnections);
  for (const invariant of ['I1', 'I2', 'I3', 'I4', 'I5', 'I6'])
    row(`${invariant} violations`, violations.get(invariant)?.length ?? 0);
  const total = [...violations.values()].reduce((sum, list) => sum + list.length, 0);
  row('invariant violations', total);
  console.log(table.toString());
  if (pastMax.length > 0) {
    console.log(`\nnote: ${pastMax.length} attempt(s) counted past maxAttempts, e.g.:`);
    for (const detail of pastMax.slice(0, 3)) console.log(`  - ${detail}`);
  }
  for (const [invariant, list] of violations) {
    console.log(`\n${invariant}: ${list.length} violation(s), e.g.:`);
    for (const detail of list.slice(0, 5)) console.log(`  - ${detail.slice(0, invariant === 'I6' ? 4000 : 400)}`);
  }

  // ---- clean up ----
  await asyncTask.close();
  if (externalUrl && process.env.CHAOS_KEEP !== '1') await pool.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => {});
  await pool.end();
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(total === 0 ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
