// Times must not depend on the process's zone, the connection's session zone or the client's date parsing.
process.env.TZ = 'America/New_York';

import mysql from 'mysql2/promise';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentsError, TransactionAbortedError } from '../../src/core/errors.js';
import { mysql as mysqlDriver } from '../../src/drivers/mysql.js';
import type { NewAttempt, Store } from '../../src/store/store.js';
import {
  mysqlSkipNote,
  mysqlTestDatabases,
  mysqlUnreachable,
  mysqlUrl,
  withMysqlTransaction,
} from '../support/mysql-database.js';

const databases = mysqlTestDatabases();
const FULFILL = { target: 'Orders', method: 'fulfill' };

const newAttempt = (overrides: Partial<NewAttempt> = {}): NewAttempt => ({
  target: 'Orders',
  methodName: 'fulfill',
  methodArgs: '{}',
  encryptor: 'null',
  idempotenceToken: null,
  scheduledAt: null,
  ...overrides,
});

interface Env {
  store: Store<any, any>;
  app: mysql.Pool;
  insert(attempt?: Partial<NewAttempt>, pool?: mysql.Pool): ReturnType<Store<any, any>['attemptInsert']>;
  count(table: string): Promise<number>;
  pool(options?: mysql.PoolOptions): mysql.Pool;
}

const suite = mysqlUnreachable ? describe.skip : describe;

suite(mysqlUnreachable ? mysqlSkipNote('mysql store edges') : 'mysql store edges', () => {
  const pools: mysql.Pool[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.end()));
  });
  afterAll(() => databases.drop());

  async function env(): Promise<Env> {
    const database = await databases.create();
    const pool = (options: mysql.PoolOptions = {}) => {
      const made = mysql.createPool({ uri: mysqlUrl(database), connectionLimit: 10, ...options });
      pools.push(made);
      return made;
    };
    const store = mysqlDriver(pool());
    await store.migrate();
    const app = pool({ timezone: '+03:00' });
    return {
      store,
      app,
      pool,
      insert: (attempt = {}, on = app) =>
        withMysqlTransaction(on, (tx) => store.attemptInsert(tx, newAttempt(attempt))),
      count: async (table) => {
        const [rows] = await app.query(`SELECT COUNT(*) AS n FROM \`${table}\``);
        return Number((rows as { n: number }[])[0]?.n);
      },
    };
  }

  it('tokens compare by bytes: trailing spaces, case, accents and emoji make different tokens', async () => {
    const { insert } = await env();
    const tokens = ['x', 'x ', 'X', 'é', 'e\u0301', '🦀', '🦀 ', '😀'];
    const ids = new Set<string>();
    for (const token of tokens) {
      const result = await insert({ idempotenceToken: token });
      expect(result.created).toBe(true);
      expect(result.attempt.idempotenceToken).toBe(token);
      ids.add(result.attempt.id);
    }
    expect(ids.size).toBe(tokens.length);
    for (const token of tokens) expect((await insert({ idempotenceToken: token })).created).toBe(false);
  });

  it('tokens and names past 255 characters are refused, never cut to a prefix (even outside strict mode)', async () => {
    const { store, app, insert } = await env();
    const emoji = '🦀'.repeat(255);
    expect((await insert({ idempotenceToken: emoji })).attempt.idempotenceToken).toBe(emoji);
    const loose = await app.getConnection();
    try {
      await loose.query("SET SESSION sql_mode = ''");
      await loose.beginTransaction();
      await expect(store.attemptInsert(loose, newAttempt({ idempotenceToken: `${emoji}🦀` }))).rejects.toBeInstanceOf(
        InvalidArgumentsError,
      );
      await expect(store.attemptInsert(loose, newAttempt({ target: 'T'.repeat(256) }))).rejects.toBeInstanceOf(
        InvalidArgumentsError,
      );
      await loose.rollback();
    } finally {
      loose.release();
    }
  });

  it('a rolled-back enqueue leaves no row, no history and no key', async () => {
    const { store, app, count } = await env();
    await expect(
      withMysqlTransaction(app, async (tx) => {
        await store.attemptInsert(tx, newAttempt({ idempotenceToken: 'gone' }));
        await store.attemptInsertMany!(tx, [newAttempt({ idempotenceToken: 'gone-2' }), newAttempt()]);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    for (const table of ['async_task_attempts_hot', 'async_task_attempts_history', 'async_task_attempts_keys']) {
      expect(await count(table)).toBe(0);
    }
  });

  it('many concurrent enqueues with one token from separate connections create one attempt, without deadlocks', async () => {
    const { store, insert, pool, count } = await env();
    const racers = Array.from({ length: 8 }, () => pool({ connectionLimit: 1 }));
    const results = await Promise.all(
      racers.map((racer, index) => insert({ idempotenceToken: 'race', methodArgs: `{"n":${index}}` }, racer)),
    );
    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(new Set(results.map((result) => result.attempt.id)).size).toBe(1);
    expect(await count('async_task_attempts_hot')).toBe(1);
    expect(await count('async_task_attempts_keys')).toBe(1);
    expect(await store.attemptList({ limit: 10, idempotenceToken: 'race' })).toHaveLength(1);
  });

  it('times are exact to the millisecond and stored in UTC, whatever the zones of the process, session and client', async () => {
    const { store, app } = await env();
    const scheduledAt = new Date(Date.UTC(2031, 2, 9, 7, 30, 0, 437)); // the week US clocks change
    const connection = await app.getConnection();
    let id: string;
    try {
      await connection.query("SET SESSION time_zone = '+09:00'");
      await connection.beginTransaction();
      const before = Date.now();
      const { attempt } = await store.attemptInsert(connection, newAttempt({ scheduledAt }));
      await connection.commit();
      id = attempt.id;
      expect(attempt.scheduledAt?.getTime()).toBe(scheduledAt.getTime());
      expect(Math.abs(attempt.createdAt.getTime() - before)).toBeLessThan(5_000);
    } finally {
      connection.release();
    }
    const [rows] = await app.query(
      "SELECT DATE_FORMAT(scheduled_at, '%Y-%m-%d %H:%i:%s.%f') AS at FROM async_task_attempts_hot WHERE id = ?",
      [id],
    );
    expect((rows as { at: string }[])[0]?.at).toBe('2031-03-09 07:30:00.437000');
    expect((await store.attemptFind(id))?.scheduledAt?.toISOString()).toBe('2031-03-09T07:30:00.437Z');
    expect((await store.attemptFindWithDue(id))?.due).toBe(false);
    // DATETIME's range: the last millisecond of 9999 is kept; a year before 1000 is a typed error, not a zero date.
    const last = new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 999));
    const far = await withMysqlTransaction(app, (tx) => store.attemptInsert(tx, newAttempt({ scheduledAt: last })));
    expect((await store.attemptFind(far.attempt.id))?.scheduledAt?.getTime()).toBe(last.getTime());
    const early = new Date(Date.UTC(999, 11, 31));
    await expect(
      withMysqlTransaction(app, (tx) => store.attemptInsert(tx, newAttempt({ scheduledAt: early }))),
    ).rejects.toBeInstanceOf(InvalidArgumentsError);
  });

  it('ids beyond 2^53 round-trip as exact strings through insert, claim, outcome and requeue', async () => {
    const { store, app, insert } = await env();
    await app.query('ALTER TABLE async_task_attempts_hot AUTO_INCREMENT = 9007199254740993');
    const { attempt } = await insert();
    expect(attempt.id).toBe('9007199254740993');
    const second = (await insert()).attempt;
    expect(second.id).toBe('9007199254740994');
    // Compared as doubles, 2^53 and 2^53 + 1 are one number: every id comparison must stay integral.
    expect(await store.attemptFind('9007199254740992')).toBeNull();
    expect(await store.attemptFind('9007199254740995')).toBeNull();
    expect(await store.attemptList({ limit: 10, cursor: '9007199254740994' })).toEqual([attempt]);
    expect(await store.dashboardQueries().dashboardRunNow(['9007199254740992'])).toEqual([]);
    const worker = store.workerStore!();
    const claimed = await worker.attemptClaimDue({ limit: 1, owner: 'w', leaseMs: 60_000, methods: [FULFILL] });
    expect(claimed.map((row) => row.id)).toEqual([attempt.id]);
    expect(await worker.attemptMarkSucceededClaims(null, 'w', [{ id: attempt.id, numAttempts: 1 }])).toEqual([
      attempt.id,
    ]);
    expect((await store.attemptFind(attempt.id))?.status).toBe('succeeded');
    const requeued = await store.transaction(async (tx) => {
      await store.attemptLock(tx, attempt.id);
      return store.attemptRequeue(tx, attempt.id);
    });
    expect(requeued).toMatchObject({ id: attempt.id, status: 'pending' });
    expect((await store.attemptList({ limit: 10 })).map((row) => row.id)).toEqual([second.id, attempt.id]);
  });

  it('ids are never reused: migrate keeps the counter above ids that moved to the history', async () => {
    const { store, app, insert } = await env();
    const worker = store.workerStore!();
    const first = [(await insert()).attempt, (await insert()).attempt];
    const claimed = await worker.attemptClaimDue({ limit: 10, owner: 'w', leaseMs: 60_000, methods: [FULFILL] });
    await worker.attemptMarkSucceededClaims(
      null,
      'w',
      claimed.map((row) => ({ id: row.id, numAttempts: row.numAttempts })),
    );
    // What a server that recomputes the counter at restart does: max(id) + 1 of the (now empty) hot table.
    await app.query('ALTER TABLE async_task_attempts_hot AUTO_INCREMENT = 1');
    await store.migrate();
    const next = (await insert()).attempt;
    expect(BigInt(next.id) > BigInt(first[1]!.id)).toBe(true);
  });

  it('the view shows every attempt, pending and completed, to the application’s SQL', async () => {
    const { store, app, insert } = await env();
    const done = (await insert()).attempt;
    await store.transaction((tx) => store.attemptComplete(tx, done.id, 'expired'));
    await insert({ methodArgs: '{"emoji":"🧪"}' });
    const [rows] = await app.query('SELECT status, method_args FROM async_task_attempts ORDER BY id');
    expect(rows).toEqual([
      { status: 'expired', method_args: '{}' },
      { status: 'pending', method_args: '{"emoji":"🧪"}' },
    ]);
  });

  it('ctx.tx cannot begin, commit or roll back the perform transaction; its writes roll back with the savepoint', async () => {
    const { store, count } = await env();
    const worker = store.workerStore!();
    await store.transaction(async (tx) => {
      const scope = worker.attemptScope(tx);
      await scope.begin();
      for (const method of ['beginTransaction', 'commit', 'rollback'] as const) {
        expect(() => (scope.tx as unknown as Record<string, () => unknown>)[method]!()).toThrow(
          TransactionAbortedError,
        );
      }
      await store.attemptInsert(scope.tx, newAttempt({ idempotenceToken: 'inside' }));
      await scope.check();
      // Statements that would commit it (transaction control, DDL) are refused, and the run cannot succeed.
      for (const sql of ['COMMIT', ' begin', 'START TRANSACTION', 'CREATE TABLE x (a INT)', 'TRUNCATE effects']) {
        await expect(scope.tx.query(sql)).rejects.toBeInstanceOf(TransactionAbortedError);
      }
      await expect(scope.check()).rejects.toBeInstanceOf(TransactionAbortedError);
      await scope.tx.query('CREATE TEMPORARY TABLE scratch_rows (a INT)');
      await scope.tx.query('ROLLBACK TO SAVEPOINT async_task_attempt');
      await scope.rollback();
      await scope.probe();
    });
    expect(await count('async_task_attempts_hot')).toBe(0);
    expect(await count('async_task_attempts_keys')).toBe(0);
  });

  it('orders ids as numbers, not as the text they are returned as (9 before 10)', async () => {
    const { store, app, insert } = await env();
    await app.query('ALTER TABLE async_task_attempts_hot AUTO_INCREMENT = 9');
    const at = new Date(Date.now() - 60_000);
    const rows = [(await insert({ scheduledAt: at })).attempt, (await insert({ scheduledAt: at })).attempt];
    rows.push((await insert({ scheduledAt: at })).attempt);
    expect(rows.map((row) => row.id)).toEqual(['9', '10', '11']);
    expect((await store.attemptList({ limit: 2 })).map((row) => row.id)).toEqual(['11', '10']);
    expect(await store.attemptListDueIds(2, [FULFILL])).toEqual(['9', '10']);
    const worker = store.workerStore!();
    const claimed = await worker.attemptClaimDue({ limit: 2, owner: 'w', leaseMs: 60_000, methods: [FULFILL] });
    expect(claimed.map((row) => row.id)).toEqual(['9', '10']);
    const claims = claimed.map((row) => ({ id: row.id, numAttempts: row.numAttempts }));
    const locked = await store.transaction((tx) => worker.attemptLockClaims(tx, 'w', [...claims].reverse()));
    expect(locked.map((row) => row.id)).toEqual(['9', '10']);
    const page = await store.dashboardQueries().dashboardAttemptSearch({
      timeField: 'created',
      order: 'desc',
      limit: 2,
    });
    expect(page.attempts.map((row) => row.id)).toEqual(['11', '10']);
  });

  it('insertMany from concurrent transactions: every result is its own row, ids ascending in input order', async () => {
    const { store, pool, count } = await env();
    const batch = (from: string) =>
      Array.from({ length: 301 }, (_, index) =>
        newAttempt({
          methodArgs: `{"from":"${from}","n":${index}}`,
          idempotenceToken: index % 100 === 50 ? `${from}-${index}` : null,
        }),
      );
    const results = await Promise.all(
      ['a', 'b', 'c', 'd'].map((from) =>
        withMysqlTransaction(pool({ connectionLimit: 1 }), (tx) => store.attemptInsertMany!(tx, batch(from))),
      ),
    );
    const ids = new Set<string>();
    for (const [which, list] of results.entries()) {
      const from = 'abcd'[which];
      expect(list.map((result) => result.attempt.methodArgs)).toEqual(batch(from!).map((input) => input.methodArgs));
      const own = list.map((result) => BigInt(result.attempt.id));
      expect([...own].sort((x, y) => (x < y ? -1 : 1))).toEqual(own);
      for (const result of list) ids.add(result.attempt.id);
    }
    expect(ids.size).toBe(4 * 301);
    expect(await count('async_task_attempts_hot')).toBe(4 * 301);
    const sample = results[2]![150]!.attempt;
    expect(await store.attemptFind(sample.id)).toEqual(sample);
  });
});
