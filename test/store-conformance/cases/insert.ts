import { expect } from 'vitest';
import type { Attempt } from '../../../src/core/types.js';
import { type Cases, newAttempt, sleep } from '../support/target.js';

const FULFILL = { target: 'Orders', method: 'fulfill' };

/** Text with what a careless layer mangles: multi-byte and astral characters, controls, quotes, placeholders. */
const AWKWARD_TEXT = [
  'Grüße 你好 🦀🧪 e\u0301 \u202Ertl\u202C \u2028\u2029 \uFEFF',
  '\t\r\n \' " \\ ` $1 ? %s :name $' + '{x}',
  'x'.repeat(100_000),
].join('|');

/** A time with a non-zero millisecond part, so truncation to seconds (or rounding) shows. */
const msTime = (offsetMs: number) => new Date(Math.floor((Date.now() + offsetMs) / 1000) * 1000 + 437);

const byId = (a: Attempt, b: Attempt) => Number(BigInt(a.id) - BigInt(b.id));

export const insertCases: Cases = (setup, test) => {
  test('insert, find and list return the row as written: string ids, exact times, byte-exact args', async () => {
    const env = await setup();
    const { a } = env;
    const scheduledAt = msTime(3_600_000);
    const before = Date.now();
    const { attempt, created } = await a.inTransaction((tx) =>
      a.store.attemptInsert(tx, newAttempt({ methodArgs: AWKWARD_TEXT, encryptor: 'aes-v2', scheduledAt })),
    );
    const after = Date.now();
    expect(created).toBe(true);
    expect(attempt.id).toMatch(/^[1-9][0-9]*$/);
    expect(attempt).toMatchObject({
      idempotenceToken: null,
      status: 'pending',
      target: 'Orders',
      methodName: 'fulfill',
      encryptor: 'aes-v2',
      numAttempts: 0,
      completedAt: null,
      lastError: null,
      leaseOwner: null,
      leaseExpiresAt: null,
    });
    expect(attempt.methodArgs === AWKWARD_TEXT).toBe(true);
    expect(attempt.scheduledAt?.getTime()).toBe(scheduledAt.getTime());
    // The database's clock, in ms (a unit mix-up is off by 1000×); loose for a server on another host.
    expect(attempt.createdAt.getTime()).toBeGreaterThan(before - 60_000);
    expect(attempt.createdAt.getTime()).toBeLessThan(after + 60_000);
    expect(attempt.updatedAt.getTime()).toBe(attempt.createdAt.getTime());

    const found = await a.store.attemptFind(attempt.id);
    expect(found).toEqual(attempt);
    expect(found?.methodArgs === AWKWARD_TEXT).toBe(true);
    expect(await a.store.attemptList({ limit: 10 })).toEqual([attempt]);
    // Another process reads the same row.
    const b = await env.another();
    expect(await b.store.attemptFind(attempt.id)).toEqual(attempt);
    expect(await a.store.attemptFind(String(BigInt(attempt.id) + 1000n))).toBeNull();
  });

  test('ids ascend in insert order; list is newest first, filtered, and pages by cursor', async () => {
    const { a } = await setup();
    const one = await a.insert({ idempotenceToken: 'x' });
    const two = await a.insert({ methodName: 'refund' });
    const three = await a.insert({ target: 'Billing' });
    const four = await a.insert();
    const five = await a.insert();
    expect(BigInt(two.id) > BigInt(one.id) && BigInt(five.id) > BigInt(four.id)).toBe(true);
    await a.store.attemptRecordFailure(four.id, { lastError: 'gave up', retryInMs: null });

    const all = await a.store.attemptList({ limit: 10 });
    expect(all.map((attempt) => attempt.id)).toEqual([five, four, three, two, one].map((attempt) => attempt.id));
    const first = await a.store.attemptList({ limit: 2 });
    expect(first.map((attempt) => attempt.id)).toEqual([five.id, four.id]);
    const rest = await a.store.attemptList({ limit: 10, cursor: four.id });
    expect(rest.map((attempt) => attempt.id)).toEqual([three.id, two.id, one.id]);

    const ids = async (options: Parameters<typeof a.store.attemptList>[0]) =>
      (await a.store.attemptList(options)).map((attempt) => attempt.id);
    expect(await ids({ limit: 10, status: 'failed' })).toEqual([four.id]);
    expect(await ids({ limit: 10, status: 'pending' })).toEqual([five.id, three.id, two.id, one.id]);
    expect(await ids({ limit: 10, target: 'Billing' })).toEqual([three.id]);
    expect(await ids({ limit: 10, method: 'refund' })).toEqual([two.id]);
    expect(await ids({ limit: 10, idempotenceToken: 'x' })).toEqual([one.id]);
    expect(await ids({ limit: 10, target: 'Orders', method: 'fulfill', status: 'pending' })).toEqual([five.id, one.id]);
  });

  test('a second insert with the same token returns created: false and the first attempt, also after it completed', async () => {
    const { a } = await setup();
    const insert = (overrides: Parameters<typeof newAttempt>[0]) =>
      a.inTransaction((tx) => a.store.attemptInsert(tx, newAttempt(overrides)));
    const first = await insert({ idempotenceToken: 'order-1', methodArgs: '{"v":1}' });
    expect(first.created).toBe(true);
    const again = await insert({ idempotenceToken: 'order-1', methodArgs: '{"v":2}', scheduledAt: msTime(60_000) });
    expect(again).toEqual({ created: false, attempt: first.attempt });

    // The token is scoped to (target, method); rows without a token never conflict.
    expect((await insert({ idempotenceToken: 'order-1', methodName: 'refund' })).created).toBe(true);
    expect((await insert({ idempotenceToken: 'order-1', target: 'Billing' })).created).toBe(true);
    const untokened = [await insert({}), await insert({})];
    expect(untokened.map((result) => result.created)).toEqual([true, true]);
    expect(untokened[0]?.attempt.id).not.toBe(untokened[1]?.attempt.id);

    const [claimed] = await a.worker.attemptClaimDue({ limit: 1, owner: 'w1', leaseMs: 60_000, methods: [FULFILL] });
    expect(claimed?.id).toBe(first.attempt.id);
    expect(await a.worker.attemptMarkSucceededClaims(null, 'w1', [{ id: first.attempt.id, numAttempts: 1 }])).toEqual([
      first.attempt.id,
    ]);
    const late = await insert({ idempotenceToken: 'order-1', methodArgs: '{"v":3}' });
    expect(late.created).toBe(false);
    expect(late.attempt).toMatchObject({ id: first.attempt.id, status: 'succeeded', methodArgs: '{"v":1}' });
  });

  test('an insert rolled back with its transaction leaves nothing, and its token stays free', async () => {
    const { a } = await setup();
    let insertedId = '';
    await expect(
      a.inTransaction(async (tx) => {
        insertedId = (await a.store.attemptInsert(tx, newAttempt({ idempotenceToken: 'gone' }))).attempt.id;
        throw new Error('application rolls back');
      }),
    ).rejects.toThrow('application rolls back');
    expect(await a.store.attemptFind(insertedId)).toBeNull();
    const retried = await a.inTransaction((tx) => a.store.attemptInsert(tx, newAttempt({ idempotenceToken: 'gone' })));
    expect(retried.created).toBe(true);
  });

  test('concurrent inserts with one token from two transactions create one attempt', async () => {
    const env = await setup();
    const { a } = env;
    const b = await env.another();
    const row = newAttempt({ idempotenceToken: 'race', methodArgs: '{"from":"a"}' });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let inserted!: () => void;
    const firstInserted = new Promise<void>((resolve) => {
      inserted = resolve;
    });
    const first = a.inTransaction(async (tx) => {
      const result = await a.store.attemptInsert(tx, row);
      inserted();
      await gate;
      return result;
    });
    await firstInserted;
    const second = b.inTransaction((tx) => b.store.attemptInsert(tx, { ...row, methodArgs: '{"from":"b"}' }));
    await sleep(50);
    release();
    const [one, two] = await Promise.all([first, second]);
    expect(one.created).toBe(true);
    expect(two).toEqual({ created: false, attempt: one.attempt });
    expect(await a.store.attemptList({ limit: 10, idempotenceToken: 'race' })).toHaveLength(1);
  });

  test('an insert waiting on a racing transaction with the same token creates the attempt when that one rolls back', async () => {
    const env = await setup();
    const { a } = env;
    const b = await env.another();
    const row = newAttempt({ idempotenceToken: 'race', methodArgs: '{"from":"a"}' });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let inserted!: () => void;
    const firstInserted = new Promise<void>((resolve) => {
      inserted = resolve;
    });
    const first = a.inTransaction(async (tx) => {
      await a.store.attemptInsert(tx, row);
      inserted();
      await gate;
      throw new Error('rolled back');
    });
    await firstInserted;
    const second = b.inTransaction((tx) => b.store.attemptInsert(tx, { ...row, methodArgs: '{"from":"b"}' }));
    await sleep(50);
    release();
    await expect(first).rejects.toThrow('rolled back');
    const two = await second;
    expect(two.created).toBe(true);
    expect(two.attempt.methodArgs).toBe('{"from":"b"}');
    expect(await a.store.attemptList({ limit: 10, idempotenceToken: 'race' })).toEqual([two.attempt]);
  });

  test('an insert racing the completion of the attempt with its token returns that attempt, never a second one', async () => {
    const env = await setup();
    const { a } = env;
    const b = await env.another();
    const first = await a.insert({ idempotenceToken: 'done-race' });
    const [held] = await a.worker.attemptClaimDue({ limit: 1, owner: 'w1', leaseMs: 60_000, methods: [FULFILL] });
    const claim = { id: held!.id, numAttempts: held!.numAttempts };
    const insertAgain = () =>
      b.inTransaction((tx) =>
        b.store.attemptInsert(tx, newAttempt({ idempotenceToken: 'done-race', methodArgs: 'second' })),
      );
    let racing: ReturnType<typeof insertAgain> | undefined;
    await a.store.transaction(async (tx) => {
      expect(await a.worker.attemptLockClaims(tx, 'w1', [claim])).toHaveLength(1);
      expect(await a.worker.attemptMarkSucceededClaims(tx, 'w1', [claim])).toEqual([first.id]);
      // Where writers can overlap, the insert runs while the completion is not yet committed.
      if (!env.singleWriter) {
        racing = insertAgain();
        await sleep(100);
      }
    });
    const again = await (racing ?? insertAgain());
    expect(again.created).toBe(false);
    expect(again.attempt.id).toBe(first.id);
    expect(again.attempt.methodArgs).toBe(first.methodArgs);
    expect(await a.store.attemptList({ limit: 10, idempotenceToken: 'done-race' })).toEqual([
      expect.objectContaining({ id: first.id, status: 'succeeded' }),
    ]);
  });

  test('insertMany returns results in input order, deduplicating tokens within the batch and against existing rows', async () => {
    const { a } = await setup();
    expect(a.store.attemptInsertMany).toBeTypeOf('function');
    const existing = await a.insert({ idempotenceToken: 'old', methodArgs: 'old' });
    const scheduledAt = msTime(3_600_000);
    const results = await a.inTransaction((tx) =>
      a.store.attemptInsertMany!(tx, [
        newAttempt({ idempotenceToken: 't1', methodArgs: 'a1' }),
        newAttempt({ methodArgs: AWKWARD_TEXT }),
        newAttempt({ idempotenceToken: 'old', methodArgs: 'new' }),
        newAttempt({ idempotenceToken: 't1', methodArgs: 'duplicate' }),
        newAttempt({ idempotenceToken: 't3', methodArgs: 'a5', scheduledAt }),
      ]),
    );
    expect(results.map((result) => result.created)).toEqual([true, true, false, false, true]);
    expect(results[2]?.attempt).toEqual(existing);
    expect(results[3]?.attempt.id).toBe(results[0]?.attempt.id);
    expect(results[3]?.attempt.methodArgs).toBe('a1');
    expect(results[1]?.attempt.methodArgs === AWKWARD_TEXT).toBe(true);
    expect(results[4]?.attempt.scheduledAt?.getTime()).toBe(scheduledAt.getTime());
    const created = [results[0], results[1], results[4]].map((result) => result!.attempt);
    expect([...created].sort(byId)).toEqual(created);
    for (const attempt of created) expect(await a.store.attemptFind(attempt.id)).toEqual(attempt);
    expect(await a.store.attemptList({ limit: 10 })).toHaveLength(4);
    expect(await a.inTransaction((tx) => a.store.attemptInsertMany!(tx, []))).toEqual([]);
  });

  test('insertMany over several targets and methods with one token: each input gets its own row', async () => {
    const { a } = await setup();
    const existing = await a.insert({ idempotenceToken: 'same', methodArgs: 'existing' });
    const results = await a.inTransaction((tx) =>
      a.store.attemptInsertMany!(tx, [
        newAttempt({ idempotenceToken: 'same', methodArgs: 'fulfill' }),
        newAttempt({ idempotenceToken: 'same', methodName: 'refund', methodArgs: 'refund' }),
        newAttempt({ idempotenceToken: 'same', target: 'Billing', methodArgs: 'billing' }),
      ]),
    );
    expect(results.map((result) => result.created)).toEqual([false, true, true]);
    expect(results[0]?.attempt).toEqual(existing);
    expect(results[1]?.attempt).toMatchObject({ target: 'Orders', methodName: 'refund', methodArgs: 'refund' });
    expect(results[2]?.attempt).toMatchObject({ target: 'Billing', methodName: 'fulfill', methodArgs: 'billing' });
    for (const { attempt } of results) expect(await a.store.attemptFind(attempt.id)).toEqual(attempt);
  });

  test('insertSync, where the dialect has it, writes inside the synchronous transaction like insert', async () => {
    const { a } = await setup();
    if (!a.store.attemptInsertSync) {
      expect(['postgres', 'mysql']).toContain(a.store.dialect);
      return;
    }
    const insertSync = a.store.attemptInsertSync.bind(a.store);
    const [first, again] = await a.inTransaction(async (tx) => [
      insertSync(tx, newAttempt({ idempotenceToken: 'sync', methodArgs: AWKWARD_TEXT })),
      insertSync(tx, newAttempt({ idempotenceToken: 'sync', methodArgs: 'second' })),
    ]);
    expect(first?.created).toBe(true);
    expect(again).toEqual({ created: false, attempt: first?.attempt });
    expect(await a.store.attemptFind(first!.attempt.id)).toEqual(first?.attempt);
  });

  test('listDueIds and findWithDue: due pending attempts of the given methods, oldest due first', async () => {
    const { a } = await setup();
    const late = await a.insert({ scheduledAt: msTime(-30_000) });
    const oldest = await a.insert({ scheduledAt: msTime(-60_000) });
    const now = await a.insert();
    const future = await a.insert({ scheduledAt: msTime(3_600_000) });
    const refund = await a.insert({ methodName: 'refund' });
    const failed = await a.insert({ scheduledAt: msTime(-90_000) });
    await a.store.attemptRecordFailure(failed.id, { lastError: 'x', retryInMs: null });

    expect(await a.store.attemptListDueIds(10, [FULFILL])).toEqual([oldest.id, late.id, now.id]);
    expect(await a.store.attemptListDueIds(2, [FULFILL])).toEqual([oldest.id, late.id]);
    expect(await a.store.attemptListDueIds(10, [FULFILL, { target: 'Orders', method: 'refund' }])).toEqual([
      oldest.id,
      late.id,
      now.id,
      refund.id,
    ]);
    expect(await a.store.attemptListDueIds(10, [{ target: 'Nobody', method: 'fulfill' }])).toEqual([]);
    expect(await a.store.attemptListDueIds(10, [])).toEqual([]);

    expect(await a.store.attemptFindWithDue(oldest.id)).toEqual({ attempt: oldest, due: true });
    expect(await a.store.attemptFindWithDue(now.id)).toEqual({ attempt: now, due: true });
    expect(await a.store.attemptFindWithDue(future.id)).toEqual({ attempt: future, due: false });
    expect(await a.store.attemptFindWithDue(String(BigInt(refund.id) + 1000n))).toBeNull();
  });

  test('findLastByTokenPrefix: the last token by bytes among one method, whatever its status', async () => {
    const { a } = await setup();
    expect(a.store.attemptFindLastByTokenPrefix).toBeTypeOf('function');
    const findLast = a.store.attemptFindLastByTokenPrefix!.bind(a.store);
    // In bytes (UTF-8): ASCII < é (C3 A9) < ～ (EF BD 9E) < 😀 (F0 9F 98 80). In UTF-16 code units ～ sorts last.
    const tokens = ['tick:2026-01-02', 'tick:😀', 'tick:2026-01-01', 'tick:é', 'tick:Z', 'tick:～', 'tick:a', 'tic'];
    const byToken = new Map<string, Attempt>();
    for (const token of tokens) byToken.set(token, await a.insert({ idempotenceToken: token }));
    await a.insert({ idempotenceToken: 'tick:😀😀', methodName: 'refund' });
    await a.insert({ idempotenceToken: 'tick:😀😀', target: 'Billing' });
    const last = byToken.get('tick:😀')!;
    await a.store.attemptRecordFailure(last.id, { lastError: 'done', retryInMs: null });

    expect((await findLast('Orders', 'fulfill', 'tick:'))?.id).toBe(last.id);
    expect((await findLast('Orders', 'fulfill', 'tick:'))?.status).toBe('failed');
    expect((await findLast('Orders', 'fulfill', 'tick:2026'))?.idempotenceToken).toBe('tick:2026-01-02');
    expect((await findLast('Orders', 'fulfill', 'tick:2026-01-01'))?.idempotenceToken).toBe('tick:2026-01-01');
    expect((await findLast('Orders', 'fulfill', 'tic'))?.id).toBe(last.id);
    expect((await findLast('Orders', 'refund', 'tick:'))?.idempotenceToken).toBe('tick:😀😀');
    // The prefix is literal: no pattern characters.
    expect(await findLast('Orders', 'fulfill', 'tick_')).toBeNull();
    expect(await findLast('Orders', 'fulfill', 'tick%')).toBeNull();
    expect(await findLast('Orders', 'fulfill', 'tock:')).toBeNull();
    expect(await findLast('Nobody', 'fulfill', 'tick:')).toBeNull();
  });
};
