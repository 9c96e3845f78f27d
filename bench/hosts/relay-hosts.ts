/**
 * `sudo npx tsx bench/hosts/relay-hosts.ts` (Linux, root): throughput with 1, 2 and 4 test hosts, each host a
 * network namespace joined by a veth pair to a bridge in the root namespace. The private /24 (SUBNET, default
 * 10.213.77) exists only on that bridge and inside the namespaces. On the bridge address: an embedded
 * PostgreSQL and a private redis-server (no persistence) on a free port. The relay runs here, in the root
 * namespace; BullMQ consumers (and, separately, direct workers) run as processes inside the namespaces
 * (`ip netns exec`), so every query and every Redis command crosses a veth.
 * Each run: hosts ready, then N attempts committed in one transaction, clock until N effects are committed.
 * Also reports CPU used by PostgreSQL (all its processes), Redis, the hosts and this process, in cores.
 * Knobs: N (5000 attempts a run), C (concurrency per host, 8), HOSTS (1,2,4), SUBNET (10.213.77).
 * Every namespace, link and server is removed at exit, also on error or Ctrl-C; a whole run is bounded.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { postgres } from '../../src/drivers/postgres.js';
import { createAsyncTask } from '../../src/index.js';
import { bullmqPublisher } from '../../src/relay/bullmq.js';
import { startEmbeddedPostgres } from '../../test/support/embedded-postgres.js';

const N = Number(process.env.N ?? 5000);
const C = Number(process.env.C ?? 8);
const HOSTS = (process.env.HOSTS ?? '1,2,4').split(',').map(Number);
const SUBNET = process.env.SUBNET ?? '10.213.77';
const HOST_ADDR = `${SUBNET}.1`;
const RUN_TIMEOUT_MS = 90_000;
const TOTAL_TIMEOUT_MS = 5 * 60_000;
const BRIDGE = 'atbench0';
const ns = (i: number) => `atbench-h${i}`;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (message: string) => process.stderr.write(`${message}\n`);
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
const tryIp = (...args: string[]) => {
  try {
    ip(...args);
  } catch {
    // already gone
  }
};

const maxHosts = Math.max(...HOSTS);
const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void> | void)[] = [];

function removeNetwork() {
  for (let i = 1; i <= 4; i++) {
    tryIp('netns', 'del', ns(i)); // takes the veth peer inside with it, and so the pair
    tryIp('link', 'del', `atbench-v${i}`);
  }
  tryIp('link', 'del', BRIDGE);
}

function makeNetwork() {
  removeNetwork(); // leftovers of a killed run
  cleanups.push(removeNetwork);
  ip('link', 'add', BRIDGE, 'type', 'bridge');
  ip('addr', 'add', `${HOST_ADDR}/24`, 'dev', BRIDGE);
  ip('link', 'set', BRIDGE, 'up');
  for (let i = 1; i <= maxHosts; i++) {
    ip('netns', 'add', ns(i));
    ip('link', 'add', `atbench-v${i}`, 'type', 'veth', 'peer', 'name', `atbench-p${i}`);
    ip('link', 'set', `atbench-v${i}`, 'master', BRIDGE);
    ip('link', 'set', `atbench-v${i}`, 'up');
    ip('link', 'set', `atbench-p${i}`, 'netns', ns(i));
    ip('-n', ns(i), 'addr', 'add', `${SUBNET}.${10 + i}/24`, 'dev', `atbench-p${i}`);
    ip('-n', ns(i), 'link', 'set', `atbench-p${i}`, 'up');
    ip('-n', ns(i), 'link', 'set', 'lo', 'up');
  }
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function startRedis(): Promise<{ url: string; pid: number }> {
  const port = await freePort(HOST_ADDR);
  const redis = spawn(
    'redis-server',
    ['--bind', HOST_ADDR, '--port', String(port), '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
    { stdio: 'ignore' },
  );
  children.add(redis);
  const url = `redis://${HOST_ADDR}:${port}`;
  for (let tries = 0; ; tries++) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return { url, pid: redis.pid as number };
    } catch (error) {
      client.disconnect();
      if (tries > 50) throw error;
      await sleep(100);
    }
  }
}

/** CPU seconds (user + system) of a process, with its reaped children's when `withReaped`. */
function cpuSeconds(pid: number, withReaped = false): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17
    const ticks = Number(fields[11]) + Number(fields[12]) + (withReaped ? Number(fields[13]) + Number(fields[14]) : 0);
    return ticks / 100;
  } catch {
    return 0;
  }
}

function childPids(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) pids.push(Number(entry));
    } catch {
      // exited
    }
  }
  return pids;
}

interface Services {
  pgUrl: string;
  pgPid: number;
  redisUrl: string;
  redisPid: number;
}

interface Row {
  mode: string;
  hosts: number;
  seconds: number | null;
  cpu: { postgres: number; redis: number; hosts: number; relay: number; machine: number };
}

async function startHost(i: number, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(
    'ip',
    ['netns', 'exec', ns(i), process.execPath, '--import', 'tsx', 'bench/hosts/host-process.ts'],
    {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.add(child);
  child.on('exit', () => children.delete(child));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`host ${i} not ready in 60 s`)), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`host ${i} exited with ${code}`)));
  });
  return child;
}

async function stopHost(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

async function run(services: Services, mode: 'bullmq' | 'worker', hosts: number): Promise<Row> {
  const schema = `hosts_bench_${randomBytes(4).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: services.pgUrl, max: 4 });
  pool.on('error', () => {});
  await pool.query(`CREATE SCHEMA ${schema}`);
  await pool.query(`CREATE TABLE ${schema}.effects (i integer NOT NULL)`);
  const asyncTask = createAsyncTask({
    db: postgres(pool, { schema }),
    targets: { Bench: { async run() {} } },
  });
  await asyncTask.migrate();
  const queueName = `hosts-bench-${randomBytes(4).toString('hex')}`;
  const hostEnv = {
    MODE: mode,
    PG_URL: services.pgUrl,
    REDIS_URL: services.redisUrl,
    SCHEMA: schema,
    QUEUE_NAME: queueName,
    C: String(C),
  };
  const started: ChildProcess[] = [];
  let connection: Redis | undefined;
  let queue: Queue | undefined;
  let relay: ReturnType<typeof asyncTask.relay> | undefined;
  try {
    for (let i = 1; i <= hosts; i++) started.push(await startHost(i, hostEnv));
    if (mode === 'bullmq') {
      connection = new Redis(services.redisUrl, { maxRetriesPerRequest: null });
      queue = new Queue(queueName, { connection });
      relay = asyncTask.relay({ to: bullmqPublisher({ queue }), pollIntervalMs: 50, batchSize: 500 });
      await relay.start();
    }
    const cpuBefore = sample(services, started);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await asyncTask.enqueueMany(
        client,
        'Bench',
        'run',
        Array.from({ length: N }, (_, i) => ({ i })),
      );
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const clock = performance.now();
    let done = false;
    while (performance.now() - clock < RUN_TIMEOUT_MS) {
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${schema}.effects`);
      if (rows[0].n >= N) {
        done = true;
        break;
      }
      await sleep(20);
    }
    const seconds = (performance.now() - clock) / 1000;
    const cpuAfter = sample(services, started);
    const per = (key: keyof typeof cpuBefore) => (cpuAfter[key] - cpuBefore[key]) / seconds;
    return {
      mode,
      hosts,
      seconds: done ? seconds : null,
      cpu: {
        postgres: per('postgres'),
        redis: per('redis'),
        hosts: per('hosts'),
        relay: per('relay'),
        machine: per('machine'),
      },
    };
  } finally {
    await relay?.stop();
    await Promise.all(started.map(stopHost));
    await queue?.obliterate({ force: true }).catch(() => {});
    await queue?.close();
    connection?.disconnect();
    await pool.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => {});
    await pool.end();
  }
}

/** CPU seconds the whole machine (every process, also other users') has been busy, from /proc/stat. */
function machineBusySeconds(): number {
  // cpu  user nice system idle iowait irq softirq steal …: busy is all but idle and iowait
  const ticks = (fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  return ticks.reduce((sum, n, k) => (k === 3 || k === 4 ? sum : sum + n), 0) / 100;
}

function sample(services: Services, hosts: ChildProcess[]) {
  const backends = childPids(services.pgPid).reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const hostCpu = hosts.reduce(
    (sum, child) =>
      sum +
      cpuSeconds(child.pid as number, true) +
      childPids(child.pid as number).reduce((s, pid) => s + cpuSeconds(pid), 0),
    0,
  );
  const own = process.cpuUsage();
  return {
    postgres: cpuSeconds(services.pgPid, true) + backends,
    redis: cpuSeconds(services.redisPid),
    hosts: hostCpu,
    relay: (own.user + own.system) / 1e6,
    machine: machineBusySeconds(),
  };
}

async function cleanup() {
  for (const child of children) child.kill('SIGKILL');
  for (const step of cleanups.reverse()) {
    try {
      await step();
    } catch (error) {
      log(`cleanup: ${(error as Error).message}`);
    }
  }
  cleanups.length = 0;
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('run as root: it makes network namespaces (ip netns)');
  log(`hosts bench: N=${N}, C=${C} per host, hosts ${HOSTS.join(', ')}, subnet ${SUBNET}.0/24`);
  makeNetwork();
  const postgresServer = await startEmbeddedPostgres(['-c', `listen_addresses=127.0.0.1,${HOST_ADDR}`]);
  cleanups.push(() => postgresServer.stop());
  const admin = new pg.Client({ connectionString: postgresServer.url });
  await admin.connect();
  // initdb trusts only loopback: let the namespaces in (password auth) and reload.
  const hba = (await admin.query('SHOW hba_file')).rows[0].hba_file as string;
  fs.appendFileSync(hba, `\nhost all all ${SUBNET}.0/24 password\n`);
  await admin.query('SELECT pg_reload_conf()');
  const dataDir = (await admin.query('SHOW data_directory')).rows[0].data_directory as string;
  await admin.end();
  const pgPid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const redis = await startRedis();
  const services: Services = {
    pgUrl: postgresServer.url.replace('@127.0.0.1:', `@${HOST_ADDR}:`),
    pgPid,
    redisUrl: redis.url,
    redisPid: redis.pid,
  };
  log(`PostgreSQL ${services.pgUrl}, Redis ${services.redisUrl}`);
  const rows: Row[] = [];
  for (const mode of ['bullmq', 'worker'] as const) {
    for (const hosts of HOSTS) {
      log(`running: ${mode}, ${hosts} host(s)`);
      const row = await run(services, mode, hosts);
      log(`  ${row.seconds === null ? 'timed out' : `${Math.round(N / row.seconds)} attempts/s`}`);
      rows.push(row);
    }
  }
  const cores = (n: number) => n.toFixed(2);
  console.log(
    `| consumers (N=${N}, concurrency ${C} per host) | hosts | seconds | attempts/s | CPU cores: PostgreSQL | Redis | hosts | relay | whole machine |`,
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const row of rows) {
    const label = row.mode === 'bullmq' ? 'relay + BullMQ consumers' : 'direct workers';
    const seconds = row.seconds === null ? `> ${RUN_TIMEOUT_MS / 1000}` : row.seconds.toFixed(2);
    const rate = row.seconds === null ? 'timed out' : String(Math.round(N / row.seconds));
    const { postgres: p, redis: r, hosts: h, relay: l, machine: m } = row.cpu;
    console.log(
      `| ${label} | ${row.hosts} | ${seconds} | ${rate} | ${cores(p)} | ${row.mode === 'bullmq' ? cores(r) : '-'} | ${cores(h)} | ${row.mode === 'bullmq' ? cores(l) : '-'} | ${cores(m)} of ${os.cpus().length} |`,
    );
  }
}

const deadline = setTimeout(() => {
  log(`the whole run took over ${TOTAL_TIMEOUT_MS / 60_000} minutes: stopping`);
  void cleanup().then(() => process.exit(1));
}, TOTAL_TIMEOUT_MS);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => void cleanup().then(() => process.exit(130)));
}

main().then(
  async () => {
    clearTimeout(deadline);
    await cleanup();
    process.exit(0);
  },
  async (error) => {
    console.error(error);
    await cleanup();
    process.exit(1);
  },
);
