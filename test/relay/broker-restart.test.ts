// The broker restarted mid-run: a private Redis (no persistence: every queued job is lost) and a private NATS
// with JetStream (file storage: the stream survives) on free loopback ports, killed and started again while
// the relay and a consumer process work. Every attempt still ends succeeded, its ctx.tx effect exactly once.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { RelayPublisher } from '../../src/index.js';
import { bullmqPublisher } from '../../src/relay/bullmq.js';
import { ensureNatsStream, natsPublisher } from '../../src/relay/nats.js';
import {
  type ConsumerProcess,
  postgresSchema,
  reachable,
  sleep,
  startConsumerProcess,
  uniqueName,
  until,
} from './support.js';

function which(binary: string): string | null {
  for (const candidate of [binary, `/usr/sbin/${binary}`, `/usr/bin/${binary}`]) {
    try {
      return execFileSync('sh', ['-c', `command -v ${candidate}`], { encoding: 'utf8' }).trim() || null;
    } catch {}
  }
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

interface Broker {
  readonly url: string;
  start(): Promise<void>;
  kill(): Promise<void>;
}

function privateBroker(command: string, args: (port: number) => string[], scheme: string, port: number): Broker {
  let child: ChildProcess | null = null;
  const url = `${scheme}://127.0.0.1:${port}`;
  return {
    url,
    async start() {
      child = spawn(command, args(port), { stdio: 'ignore' });
      await until(`${command} on ${port}`, () => reachable(url, port), 15_000);
    },
    async kill() {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child?.kill('SIGKILL');
      await exited;
      child = null;
    },
  };
}

const redisServer = which('redis-server');
const natsServer = which('nats-server');

interface Case {
  readonly name: 'bullmq' | 'nats';
  readonly binary: string | null;
  broker(port: number, dir: string): Broker;
  publisher(url: string, queueName: string): Promise<{ publisher: RelayPublisher; close(): Promise<void> }>;
}

const cases: Case[] = [
  {
    name: 'bullmq',
    binary: redisServer,
    broker: (port) =>
      privateBroker(
        redisServer as string,
        (p) => ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        'redis',
        port,
      ),
    async publisher(url, queueName) {
      const connection = new Redis(url, { maxRetriesPerRequest: null });
      connection.on('error', () => {});
      const queue = new Queue(queueName, { connection });
      queue.on('error', () => {});
      return {
        publisher: bullmqPublisher({ queue }),
        async close() {
          await queue.close();
          connection.disconnect();
        },
      };
    },
  },
  {
    name: 'nats',
    binary: natsServer,
    broker: (port, dir) =>
      privateBroker(natsServer as string, (p) => ['-a', '127.0.0.1', '-p', String(p), '-js', '-sd', dir], 'nats', port),
    async publisher(url, queueName) {
      const nc = await connect({ servers: new URL(url).host, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
      await ensureNatsStream(await jetstreamManager(nc), { stream: queueName, subject: queueName });
      return { publisher: natsPublisher({ js: jetstream(nc), subject: queueName }), close: () => nc.close() };
    },
  },
];

for (const queue of cases) {
  describe.skipIf(!queue.binary)(
    queue.binary
      ? `relay to ${queue.name}: the broker restarted mid-run`
      : `relay to ${queue.name}, broker restart: skipped (needs the ${queue.name === 'bullmq' ? 'redis-server' : 'nats-server'} binary)`,
    () => {
      const closers: (() => Promise<unknown>)[] = [];
      const children: ConsumerProcess[] = [];
      afterEach(async () => {
        for (const child of children.splice(0)) child.child.kill('SIGKILL');
        for (const close of closers.splice(0).reverse()) await close().catch(() => {});
      });

      it('loses nothing and doubles no effect', async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'async-task-broker-'));
        closers.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
        const broker = queue.broker(await freePort(), dir);
        await broker.start();
        closers.push(() => broker.kill());
        const db = await postgresSchema();
        closers.push(() => db.close());
        const queueName = uniqueName('rs');
        const target = await queue.publisher(broker.url, queueName);
        closers.push(() => target.close());
        const relay = db.asyncTask.relay({
          to: target.publisher,
          pollIntervalMs: 100,
          leaseMs: 2000,
          publishTimeoutMs: 1000,
        });
        closers.push(() => relay.stop());
        const consumer = await startConsumerProcess({
          ...db.env,
          QUEUE: queue.name,
          QUEUE_NAME: queueName,
          BROKER_URL: broker.url,
          CONCURRENCY: '4',
        });
        children.push(consumer);
        await db.enqueue(
          'bump',
          Array.from({ length: 300 }, (_, i) => ({ key: `r-${i}`, ms: 10 })),
        );
        await relay.start();
        await until('mid-run', async () => (await db.count(`status = 'succeeded'`)) >= 50, 60_000);
        await broker.kill();
        await sleep(500);
        await broker.start();
        await until('all succeeded', async () => (await db.count(`status = 'succeeded'`)) === 300, 90_000);
        const counters = await db.counters();
        expect(counters).toHaveLength(300);
        expect(counters.filter((counter) => counter.n !== 1)).toEqual([]);
      }, 150_000);
    },
  );
}
