import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { sqlite } from '../../src/drivers/sqlite.js';
import { createAsyncTask } from '../../src/index.js';
import { Probe } from './support/invariants.js';

// Issue 8, fault 5: better-sqlite3's db.transaction(fn) is synchronous. An asynchronous enqueue inside it must
// never leave an attempt committed once the transaction rolled back: it either refuses with an error that
// names enqueueSync, or joins the transaction and rolls back with it.

const dirs: string[] = [];
const databases: Database.Database[] = [];
afterEach(() => {
  for (const db of databases.splice(0)) db.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function setup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'async-task-sync-tx-'));
  dirs.push(dir);
  const app = new Database(path.join(dir, 'app.sqlite'));
  databases.push(app);
  app.pragma('journal_mode = WAL');
  app.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL)');
  const probe = new Probe();
  const Healthy = {
    async ok(args: { tag: string }) {
      probe.called(args.tag);
    },
  };
  const asyncTask = createAsyncTask({ db: sqlite(app), targets: { Healthy } });
  await asyncTask.migrate();
  const count = (table: string) => (app.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  return { app, asyncTask, probe, count };
}

/** What the enqueue promise settled with: nothing (it resolved) or its error. */
async function settle(promise: Promise<unknown> | undefined): Promise<{ error?: unknown }> {
  if (!promise) return {};
  try {
    await promise;
    return {};
  } catch (error) {
    return { error };
  }
}

/** No attempt is committed and nothing runs; if enqueue refused, its error names enqueueSync. */
async function expectNothingLeft(
  { asyncTask, probe, count }: Awaited<ReturnType<typeof setup>>,
  enqueueError: unknown,
): Promise<void> {
  // Give a late insert every chance to land.
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(count('orders')).toBe(0);
  expect(count('async_task_attempts')).toBe(0);
  expect(await asyncTask.drain()).toMatchObject({ performed: 0 });
  expect(probe.calls.size).toBe(0);
  if (enqueueError !== undefined && !(enqueueError instanceof Error && enqueueError.message === 'roll back')) {
    expect(String((enqueueError as Error).message)).toContain('enqueueSync');
  }
}

describe('SQLite: asynchronous enqueue inside a synchronous better-sqlite3 transaction', () => {
  it('`await asyncTask.enqueue(db, …)` inside db.transaction(async () => { …; throw }) leaves no attempt', async () => {
    const setupResult = await setup();
    const { app, asyncTask } = setupResult;
    let body: Promise<unknown> | undefined;
    const transaction = app.transaction(() => {
      body = (async () => {
        app.prepare('INSERT INTO orders (item) VALUES (?)').run('book');
        await asyncTask.enqueue(app, 'Healthy', 'ok', { tag: 'awaited' });
        throw new Error('roll back');
      })();
      return body;
    });
    // better-sqlite3 refuses a transaction function that returns a promise, and rolls back.
    expect(() => transaction()).toThrow();
    const { error } = await settle(body);
    await expectNothingLeft(setupResult, error);
  });

  it('a non-awaited asyncTask.enqueue(db, …) inside a throwing db.transaction(() => …) leaves no attempt', async () => {
    const setupResult = await setup();
    const { app, asyncTask } = setupResult;
    let enqueued: Promise<unknown> | undefined;
    const transaction = app.transaction(() => {
      app.prepare('INSERT INTO orders (item) VALUES (?)').run('book');
      enqueued = asyncTask.enqueue(app, 'Healthy', 'ok', { tag: 'not-awaited' });
      throw new Error('roll back');
    });
    expect(() => transaction()).toThrow('roll back');
    const { error } = await settle(enqueued);
    await expectNothingLeft(setupResult, error);
  });

  it('asyncTask.enqueueMany(db, …) inside a throwing db.transaction(() => …) leaves no attempt', async () => {
    const setupResult = await setup();
    const { app, asyncTask } = setupResult;
    let enqueued: Promise<unknown> | undefined;
    const transaction = app.transaction(() => {
      app.prepare('INSERT INTO orders (item) VALUES (?)').run('book');
      enqueued = asyncTask.enqueueMany(app, 'Healthy', 'ok', [{ tag: 'many-1' }, { tag: 'many-2' }]);
      throw new Error('roll back');
    });
    expect(() => transaction()).toThrow('roll back');
    const { error } = await settle(enqueued);
    await expectNothingLeft(setupResult, error);
  });

  it('control: enqueueSync inside a throwing db.transaction(() => …) rolls back with it; committed, it runs once', async () => {
    const setupResult = await setup();
    const { app, asyncTask, probe, count } = setupResult;
    expect(() =>
      app.transaction(() => {
        app.prepare('INSERT INTO orders (item) VALUES (?)').run('book');
        asyncTask.enqueueSync(app, 'Healthy', 'ok', { tag: 'sync-rolled-back' });
        throw new Error('roll back');
      })(),
    ).toThrow('roll back');
    await expectNothingLeft(setupResult, undefined);
    app.transaction(() => {
      app.prepare('INSERT INTO orders (item) VALUES (?)').run('book');
      asyncTask.enqueueSync(app, 'Healthy', 'ok', { tag: 'sync-committed' });
    })();
    expect(count('async_task_attempts')).toBe(1);
    expect(await asyncTask.drain()).toMatchObject({ succeeded: 1 });
    expect(probe.count('sync-committed')).toBe(1);
  });
});
