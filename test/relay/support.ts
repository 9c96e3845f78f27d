import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withPgTransaction } from '../support/pg-transaction.js';
import { type postgresSchema, sleep } from '../worker/support.js';

export { postgresSchema, sleep, until } from '../worker/support.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CONSUMER_SCRIPT = path.join(here, 'fixtures', 'consumer-process.ts');

/** Whether a TCP server answers at the URL's host and port (a broker test runs only then). */
export function reachable(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname || '127.0.0.1', port: Number(port || defaultPort) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(5).toString('hex')}`;

export interface ConsumerProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | string>;
}

/** Starts test/relay/fixtures/consumer-process.ts under tsx and waits for it to say `ready`. */
export async function startConsumerProcess(env: Record<string, string>): Promise<ConsumerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CONSUMER_SCRIPT], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const deadline = Date.now() + 20_000;
  while (!output.includes('ready')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`consumer process did not start:\n${output}`);
    }
    await sleep(20);
  }
  return { child, output: () => output, exited };
}

export type RelaySchema = Awaited<ReturnType<typeof postgresSchema>>;

/** Enqueues `count` attempts in a transaction that rolls back; returns the ids they had. */
export async function enqueueRolledBack(db: RelaySchema, count: number): Promise<string[]> {
  const ids: string[] = [];
  await withPgTransaction(db.pool, async (client) => {
    const attempts = await db.asyncTask.enqueueMany(
      client,
      'Counter',
      'bump',
      Array.from({ length: count }, (_, i) => ({ key: `rolled-back-${i}` })),
    );
    ids.push(...attempts.map((attempt) => attempt.id));
    throw new Error('roll back');
  }).catch((error: Error) => {
    if (error.message !== 'roll back') throw error;
  });
  return ids;
}
