// The SQLite schema keeps pending attempts out of the history's indexes (migration 5). These tests hold the
// logical model to what the contract needs: one row per attempt, ids never reused, idempotence across
// pending and completed attempts, a rolled-back application transaction leaving nothing.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sqlite } from '../../src/drivers/sqlite.js';
import { type Attempt, createAsyncTask } from '../../src/index.js';
import { sqliteNames } from '../../src/store/sqlite/migration-script.js';
import { sqliteMigrations } from '../../src/store/sqlite/migrations.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const run = promisify(execFile);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'async-task-sqlite-hot-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let files = 0;

function open() {
  const file = path.join(dir, `db-${files++}.sqlite`);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, note TEXT)');
  const store = sqlite(db);
  const asyncTask = createAsyncTask({
    db: store,
    targets: {
      OrderClient: {
        fulfill(_args: { order: number }) {},
      },
    },
  });
  return {
    file,
    db,
    store: store as unknown as SqliteStore,
    asyncTask,
    count: (sql: string, ...values: unknown[]) => (db.prepare(sql).get(...values) as { n: number }).n,
  };
}

describe('[sqlite] hot queue apart from history', () => {
  it('a pending attempt enters only the claim index (and the idempotence ones with a token); history indexes are partial on its outcome', async () => {
    const { db, asyncTask } = open();
    await asyncTask.migrate();
    const indexes = db
      .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'async_task_attempts'")
      .all() as { name: string; sql: string | null }[];
    // Every index is partial: none is written for every row.
    for (const index of indexes) expect(index.sql, index.name).toMatch(/\bWHERE\b/);
    const forPending = indexes.filter(
      (index) =>
        !/WHERE status <> 'pending'|WHERE completed_at IS NOT NULL|idempotence_token IS NOT NULL/.test(index.sql ?? ''),
    );
    expect(forPending.map((index) => index.name)).toEqual(['async_task_attempts_claim_idx']);
    await asyncTask.close();
    db.close();
  });

  it('migration 5 keeps the rows of an older schema, with their ids, and new ids continue after them', async () => {
    const { db, asyncTask } = open();
    const names = sqliteNames('async_task_attempts');
    db.exec(
      `CREATE TABLE ${names.migrationsTable} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
    );
    for (const migration of sqliteMigrations.filter((m) => m.version <= 4)) {
      db.exec(migration.sql(names));
      db.prepare(`INSERT INTO ${names.migrationsTable} VALUES (?, ?, 0)`).run(migration.version, migration.name);
    }
    const insert = db.prepare(
      `INSERT INTO async_task_attempts (target, method_name, method_args, encryptor, status, created_at, updated_at, completed_at)
       VALUES ('OrderClient', 'fulfill', '{"order":1}', 'none', ?, 1, 1, ?)`,
    );
    insert.run('succeeded', 2);
    insert.run('pending', null);
    const last = Number(insert.run('failed', 3).lastInsertRowid);
    // The newest row is gone: AUTOINCREMENT still never hands its id out again.
    db.prepare('DELETE FROM async_task_attempts WHERE id = ?').run(last);
    await asyncTask.migrate();
    expect(db.prepare('SELECT max(version) AS v FROM async_task_attempts_migrations').get()).toEqual({ v: 6 });
    const rows = db.prepare('SELECT id, status FROM async_task_attempts ORDER BY id').all();
    expect(rows).toEqual([
      { id: last - 2, status: 'succeeded' },
      { id: last - 1, status: 'pending' },
    ]);
    expect((await asyncTask.list({ status: 'succeeded' })).attempts.map((a) => a.id)).toEqual([String(last - 2)]);
    const fresh = asyncTask.enqueueSync(db, 'OrderClient', 'fulfill', { order: 2 });
    expect(Number(fresh.id)).toBeGreaterThan(last);
    await asyncTask.close();
    db.close();
  });

  it('ids are never reused: not after completion, not after the newest attempt is pruned', async () => {
    const { db, store, asyncTask } = open();
    await asyncTask.migrate();
    const first = db.transaction(() => asyncTask.enqueueSync(db, 'OrderClient', 'fulfill', { order: 1 }))();
    await asyncTask.drain();
    expect((await asyncTask.find(first.id))?.status).toBe('succeeded');
    const pruned = await store
      .workerStore()
      .attemptPruneCompleted({ statuses: ['succeeded'], olderThanMs: -60_000, limit: 100 });
    expect(pruned).toBe(1);
    expect(await asyncTask.find(first.id)).toBeNull();
    const second = asyncTask.enqueueSync(db, 'OrderClient', 'fulfill', { order: 2 });
    expect(Number(second.id)).toBeGreaterThan(Number(first.id));
    await asyncTask.close();
    db.close();
  });

  it('the attempt returned by an enqueue is the row as stored', async () => {
    const { db, asyncTask } = open();
    await asyncTask.migrate();
    const at = new Date(Date.now() + 60_000);
    const returned = asyncTask.enqueueSync(
      db,
      'OrderClient',
      'fulfill',
      { order: 7 },
      { idempotenceToken: 'order-7', scheduledAt: at },
    );
    expect(await asyncTask.find(returned.id)).toEqual(returned);
    const many = await asyncTask.enqueueMany(db, 'OrderClient', 'fulfill', [{ order: 8 }, { order: 9 }]);
    for (const attempt of many) expect(await asyncTask.find(attempt.id)).toEqual(attempt);
    await asyncTask.close();
    db.close();
  });

  it('many attempts in one statement: consecutive ids, each as stored, rolled back with the transaction', async () => {
    const { db, store, asyncTask, count } = open();
    await asyncTask.migrate();
    const row = (order: number) => ({
      target: 'OrderClient',
      methodName: 'fulfill',
      methodArgs: JSON.stringify({ order, text: 'a\u0000b "quoted" é' }),
      encryptor: 'none',
      idempotenceToken: null,
      scheduledAt: order === 1 ? new Date(Date.now() + 5_000) : null,
    });
    asyncTask.enqueueSync(db, 'OrderClient', 'fulfill', { order: 0 });
    const results = db.transaction(() => store.attemptInsertManySync(db, [row(1), row(2), row(3)]))();
    const ids = results.map((result) => Number(result.attempt.id));
    expect(ids).toEqual([ids[0], (ids[0] as number) + 1, (ids[0] as number) + 2]);
    for (const { attempt, created } of results) {
      expect(created).toBe(true);
      expect(await asyncTask.find(attempt.id)).toEqual(attempt);
    }
    expect(results[1]?.attempt.methodArgs).toBe(row(2).methodArgs);
    expect(() =>
      db.transaction(() => {
        store.attemptInsertManySync(db, [row(4), row(5)]);
        throw new Error('rolled back');
      })(),
    ).toThrow('rolled back');
    expect(count('SELECT count(*) AS n FROM async_task_attempts')).toBe(4);
    // A bulk-sized batch: every row, in order, with consecutive ids, each as stored.
    const many = db.transaction(() =>
      store.attemptInsertManySync(
        db,
        Array.from({ length: 250 }, (_, index) => row(10 + index)),
      ),
    )();
    expect(many).toHaveLength(250);
    many.forEach((result, index) => {
      expect(result.attempt.methodArgs).toBe(row(10 + index).methodArgs);
      if (index > 0) expect(Number(result.attempt.id)).toBe(Number(many[index - 1]?.attempt.id) + 1);
    });
    for (const index of [0, 99, 100, 249]) {
      const { attempt } = many[index] as { attempt: Attempt };
      expect(await asyncTask.find(attempt.id)).toEqual(attempt);
    }
    await asyncTask.close();
    db.close();
  });

  it('a rolled-back application transaction leaves nothing, token included; `await enqueue` inside db.transaction joins it', async () => {
    const { db, asyncTask, count } = open();
    await asyncTask.migrate();
    expect(() =>
      db.transaction(() => {
        db.prepare("INSERT INTO orders (note) VALUES ('a')").run();
        void asyncTask.enqueue(db, 'OrderClient', 'fulfill', { order: 1 }, { idempotenceToken: 'tok' });
        asyncTask.enqueueSync(db, 'OrderClient', 'fulfill', { order: 2 }, { idempotenceToken: 'tok-2' });
        void asyncTask.enqueueMany(db, 'OrderClient', 'fulfill', [{ order: 3 }], { idempotenceTokens: ['tok-3'] });
        throw new Error('rolled back');
      })(),
    ).toThrow('rolled back');
    expect(count('SELECT count(*) AS n FROM async_task_attempts')).toBe(0);
    expect(count('SELECT count(*) AS n FROM orders')).toBe(0);
    // The tokens are free again: the same enqueue now creates its attempt.
    const again = db.transaction(() =>
      asyncTask.enqueueSync(db, 'OrderClient', 'fulfill', { order: 1 }, { idempotenceToken: 'tok' }),
    )();
    expect(again.numAttempts).toBe(0);
    expect(count('SELECT count(*) AS n FROM async_task_attempts')).toBe(1);
    await asyncTask.close();
    db.close();
  });

  it('a token stays taken once its attempt completed, also for an enqueue from another process', async () => {
    const { file, db, asyncTask, count } = open();
    await asyncTask.migrate();
    const first = asyncTask.enqueueSync(db, 'OrderClient', 'fulfill', { order: 1 }, { idempotenceToken: 'done' });
    await asyncTask.drain();
    expect((await asyncTask.find(first.id))?.status).toBe('succeeded');
    const same = asyncTask.enqueueSync(db, 'OrderClient', 'fulfill', { order: 1 }, { idempotenceToken: 'done' });
    expect(same).toEqual(await asyncTask.find(first.id));
    const child = path.resolve('test/support/sqlite-enqueue-child.ts');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', child, file, 'done', '0']);
    expect(stdout.trim()).toBe(first.id);
    expect(count('SELECT count(*) AS n FROM async_task_attempts')).toBe(1);
    await asyncTask.close();
    db.close();
  }, 30_000);

  it('retry of a completed attempt keeps its id and puts it back in the queue, where a worker finds it', async () => {
    const { db, asyncTask } = open();
    await asyncTask.migrate();
    const attempt = asyncTask.enqueueSync(db, 'OrderClient', 'fulfill', { order: 1 });
    await asyncTask.fail(attempt.id);
    expect((await asyncTask.list({ status: 'failed' })).attempts.map((a) => a.id)).toEqual([attempt.id]);
    const retried = await asyncTask.retry(attempt.id);
    expect(retried).toMatchObject({ id: attempt.id, status: 'pending', completedAt: null });
    expect((await asyncTask.list({ status: 'failed' })).attempts).toEqual([]);
    const worker = asyncTask.worker({ pollIntervalMs: 20, retention: false });
    await worker.start();
    await expect.poll(async () => (await asyncTask.find(attempt.id))?.status, { timeout: 10_000 }).toBe('succeeded');
    await worker.stop();
    expect((await asyncTask.list({ status: 'succeeded' })).attempts.map((a) => a.id)).toEqual([attempt.id]);
    await asyncTask.close();
    db.close();
  });

  it('the dashboard sees pending and completed attempts as one set, in every filter and order', async () => {
    const { db, store, asyncTask } = open();
    await asyncTask.migrate();
    const ids: string[] = [];
    for (let order = 0; order < 6; order++) ids.push(asyncTask.enqueueSync(db, 'OrderClient', 'fulfill', { order }).id);
    // The first three complete (the drain takes the oldest due first); the others stay pending.
    await asyncTask.drain({ limit: 3 });
    const dashboard = store.dashboardQueries();
    const filter = { timeField: 'created', target: 'OrderClient', method: 'fulfill' } as const;
    expect(await dashboard.dashboardAttemptCount(filter)).toBe(6);
    expect(await dashboard.dashboardAttemptCount({ timeField: 'created' })).toBe(6);
    expect(await dashboard.dashboardAttemptCount({ timeField: 'created', status: 'succeeded' })).toBe(3);
    const pages: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await dashboard.dashboardAttemptSearch({
        ...filter,
        order: 'desc',
        limit: 4,
        ...(cursor === undefined ? {} : { cursor }),
      });
      pages.push(...page.attempts.map((a) => a.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    expect(pages).toEqual([...ids].reverse());
    const byDue = await dashboard.dashboardAttemptSearch({ timeField: 'due', order: 'asc', limit: 10 });
    expect(byDue.attempts.map((a) => a.id)).toEqual(ids);
    expect(await dashboard.dashboardAttemptIds(filter, ids[1] as string, 10)).toEqual(ids.slice(2));
    const counts = await dashboard.dashboardStatusCounts(1000);
    expect(counts.counts).toEqual({ pending: 3, succeeded: 3, failed: 0, expired: 0 });
    const stats = await dashboard.dashboardTargetStats(null);
    expect(stats).toHaveLength(1);
    expect(stats[0]?.counts).toMatchObject({ pending: 3, succeeded: 3 });
    await asyncTask.close();
    db.close();
  });
});
