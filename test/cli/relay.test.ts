// `async-task relay --to bullmq` and `async-task consume --from bullmq` as processes: every attempt enqueued is
// handed off and performed once, with its ctx.tx effect; SIGTERM stops both cleanly.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { postgres } from '../../src/drivers/postgres.js';
import { createAsyncTask } from '../../src/index.js';
import { reachable } from '../relay/support.js';
import { withPgTransaction } from '../support/pg-transaction.js';
import { CLI, createDatabase, expectOk, makeProject, removeProject, runCli, write } from './support/project.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const redisUrl = process.env.ASYNC_TASK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const up = await reachable(redisUrl, 6379);

const config = `import { defineConfig } from 'async-task-ts/config';

export default defineConfig({
  dialect: 'postgres',
  targets: {
    Counter: {
      async bump(args: { key: string }, ctx: { tx: { query(sql: string, values: unknown[]): Promise<unknown> } }) {
        await ctx.tx.query('INSERT INTO effects (key) VALUES ($1)', [args.key]);
      },
    },
  },
});
`;

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe.skipIf(!up)(
  up
    ? 'async-task relay and consume [bullmq]'
    : `async-task relay: skipped, no Redis at ${redisUrl} (set ASYNC_TASK_TEST_REDIS_URL to run)`,
  () => {
    const closers: (() => Promise<unknown> | unknown)[] = [];
    afterAll(async () => {
      for (const close of closers.reverse()) await close();
    });

    test('hands off and performs every attempt once; SIGTERM stops both', { timeout: 90_000 }, async () => {
      const dir = makeProject('relay');
      closers.push(() => removeProject(dir));
      write(dir, 'async-task.config.ts', config);
      const database = await createDatabase(inject('pgAdminUrl'));
      closers.push(database.drop);
      const env = { DATABASE_URL: database.url };
      const pool = new pg.Pool({ connectionString: database.url });
      closers.push(() => pool.end());
      await pool.query('CREATE TABLE effects (key text NOT NULL)');
      const asyncTask = createAsyncTask({
        db: postgres(pool),
        targets: { Counter: { async bump(_args: { key: string }) {} } },
      });
      expectOk(await runCli(dir, ['migrate'], { env }), 'migrate');
      const queueName = `cli-${randomBytes(4).toString('hex')}`;
      const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
      const queue = new Queue(queueName, { connection });
      closers.push(async () => {
        await queue.obliterate({ force: true });
        await queue.close();
        connection.disconnect();
      });

      const start = (args: string[], ready: string) => {
        const child = spawn(process.execPath, [CLI, ...args, '--queue', queueName, '--broker', redisUrl], {
          cwd: dir,
          env: { ...process.env, ...env },
        });
        let stderr = '';
        child.stderr.on('data', (chunk) => {
          stderr += chunk;
        });
        const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
        closers.push(() => child.exitCode === null && child.kill('SIGKILL'));
        return { child, exited, stderr: () => stderr, ready: () => waitFor(async () => stderr.includes(ready), ready) };
      };
      const relay = start(['relay', '--to', 'bullmq', '--poll-interval', '100'], 'handing off');
      const consumers = [1, 2].map(() => start(['consume', '--from', 'bullmq', '--concurrency', '4'], 'Consuming'));
      await Promise.all([relay, ...consumers].map((process) => process.ready()));

      const ids: string[] = [];
      await withPgTransaction(pool, async (client) => {
        for (let i = 0; i < 100; i++)
          ids.push((await asyncTask.enqueue(client, 'Counter', 'bump', { key: `k${i}` })).id);
      });
      const succeeded = async () => (await asyncTask.list({ status: 'succeeded', limit: 1000 })).attempts.length;
      await waitFor(async () => (await succeeded()) === 100, 'all 100 performed');
      const { rows } = await pool.query('SELECT key, count(*)::int AS n FROM effects GROUP BY key');
      expect(rows).toHaveLength(100);
      expect(rows.every((row: { n: number }) => row.n === 1)).toBe(true);

      for (const { child, exited, stderr } of [relay, ...consumers] as {
        child: ChildProcess;
        exited: Promise<number | null>;
        stderr: () => string;
      }[]) {
        child.kill('SIGTERM');
        expect(await exited, stderr()).toBe(0);
      }
      expect(relay.stderr()).toContain('Relay stopped.');
      expect(consumers[0]?.stderr()).toContain('Consumer stopped.');
    });
  },
);
