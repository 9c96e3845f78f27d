import { expect, it } from 'vitest';
import { InvalidArgumentsError, UnknownMethodError, UnknownTargetError } from '../../src/index.js';
import { forEachDialect } from '../support/suite.js';

class Money {
  constructor(readonly cents: number) {}
}

const cyclic: Record<string, unknown> = { a: 1 };
cyclic.self = cyclic;

/** Arguments that would not survive the round trip faithfully, with what the error should say. */
const badArgs: [string, unknown, RegExp][] = [
  ['a function', { callback: () => 1 }, /function cannot be stored/],
  ['a symbol', { tag: Symbol('x') }, /symbol cannot be stored/],
  ['a cycle', cyclic, /cycle/],
  ['undefined in an array', { ids: [1, undefined, 3] }, /undefined.*\$\.ids\[1\]/],
  // biome-ignore lint/suspicious/noSparseArray: the point of the case
  ['a sparse array', { ids: [1, , 3] }, /sparse/],
  ['NaN', { amount: Number.NaN }, /NaN/],
  ['Infinity', { amount: Number.POSITIVE_INFINITY }, /Infinity/],
  ['-0', { amount: -0 }, /-0/],
  ['a bigint', { amount: 10n }, /bigint/],
  ['a class instance', { price: new Money(5) }, /instance of Money.*lose its type/],
  ['a Map', { lookup: new Map() }, /instance of Map/],
  ['a Set', { ids: new Set([1]) }, /instance of Set/],
  ['an invalid Date', { at: new Date('nope') }, /invalid Date/],
  ['undefined as the whole argument', undefined, /undefined/],
];

forEachDialect('enqueue', (env, dialect) => {
  it('commit: the attempt exists, pending, num_attempts 0, due at once', async () => {
    const { db, make } = await env();
    const asyncTask = await make();
    const attempt = await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 1 }));
    expect(attempt).toMatchObject({
      status: 'pending',
      numAttempts: 0,
      target: 'OrderClient',
      methodName: 'fulfill',
      encryptor: 'null',
      scheduledAt: null,
      completedAt: null,
      idempotenceToken: null,
      lastError: null,
    });
    expect(typeof attempt.id).toBe('string');
    expect(await asyncTask.find(attempt.id)).toEqual(attempt);
  });

  it('rollback: no attempt, and the target is never called', async () => {
    const { db, make, calls } = await env();
    const asyncTask = await make();
    await expect(
      db.inTransaction(async (tx) => {
        await asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 1 });
        throw new Error('payment declined');
      }),
    ).rejects.toThrow('payment declined');
    expect(await db.countAttempts()).toBe(0);
    expect(await asyncTask.drain()).toEqual({ performed: 0, succeeded: 0, retrying: 0, failed: 0 });
    expect(calls).toHaveLength(0);
  });

  it('the same idempotence token returns the existing attempt and creates nothing', async () => {
    const { db, make } = await env();
    const asyncTask = await make();
    const first = await db.inTransaction((tx) =>
      asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 1 }, { idempotenceToken: 'order-1' }),
    );
    const again = await db.inTransaction((tx) =>
      asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 999 }, { idempotenceToken: 'order-1' }),
    );
    expect(again.id).toBe(first.id);
    expect(await asyncTask.decodeArgs(again)).toEqual({ orderId: 1 });
    // The token is scoped to (target, method): another method may reuse it.
    const other = await db.inTransaction((tx) =>
      asyncTask.enqueue(tx, 'OrderClient', 'echo', { x: 1 }, { idempotenceToken: 'order-1' }),
    );
    expect(other.id).not.toBe(first.id);
    expect(await db.countAttempts()).toBe(2);
  });

  // SQLite transactions on one connection cannot overlap; its race runs in processes (sqlite-race.test.ts).
  it.runIf(dialect.name !== 'sqlite')('racing idempotent enqueues from many transactions create one row', async () => {
    const { db, make } = await env();
    const asyncTask = await make();
    const attempts = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        db.inTransaction(async (tx) => {
          const attempt = await asyncTask.enqueue(
            tx,
            'OrderClient',
            'fulfill',
            { orderId: i },
            { idempotenceToken: 'race' },
          );
          // Hold the transaction open so the others collide with it.
          await new Promise((resolve) => setTimeout(resolve, 20));
          return attempt;
        }),
      ),
    );
    expect(new Set(attempts.map((attempt) => attempt.id)).size).toBe(1);
    expect(await db.countAttempts()).toBe(1);
  });

  it('a token freed by a rolled-back transaction can be used again', async () => {
    const { db, make } = await env();
    const asyncTask = await make();
    await expect(
      db.inTransaction(async (tx) => {
        await asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 1 }, { idempotenceToken: 't' });
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    const attempt = await db.inTransaction((tx) =>
      asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 2 }, { idempotenceToken: 't' }),
    );
    expect(await asyncTask.decodeArgs(attempt)).toEqual({ orderId: 2 });
  });

  it('dates, nested objects and unicode survive the round trip', async () => {
    const { db, make, calls } = await env();
    const asyncTask = await make();
    const args = { at: new Date('2026-01-02T03:04:05.678Z'), nested: { list: [1, 'two', null, true, { deep: 'ü✓' }] } };
    const attempt = await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'echo', args));
    await asyncTask.perform(attempt.id);
    expect(calls[0]?.args).toEqual(args);
    expect((calls[0]!.args as typeof args).at).toBeInstanceOf(Date);
  });

  it('scheduledAt delays the attempt', async () => {
    const { db, make } = await env();
    const asyncTask = await make();
    const at = new Date(Date.now() + 3_600_000);
    const attempt = await db.inTransaction((tx) =>
      asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 1 }, { scheduledAt: at }),
    );
    expect(attempt.scheduledAt?.getTime()).toBe(at.getTime());
    expect((await asyncTask.drain()).performed).toBe(0);
  });

  for (const [what, args, message] of badArgs) {
    it(`rejects ${what} at enqueue with INVALID_ARGUMENTS and writes nothing`, async () => {
      const { db, make } = await env();
      const asyncTask = await make();
      await db.inTransaction(async (tx) => {
        const attempt = asyncTask.enqueue(tx, 'OrderClient', 'echo', args as never);
        await expect(attempt).rejects.toBeInstanceOf(InvalidArgumentsError);
        await expect(asyncTask.enqueue(tx, 'OrderClient', 'echo', args as never)).rejects.toThrow(message);
        // The caller's transaction is still usable.
        await asyncTask.enqueue(tx, 'OrderClient', 'echo', { ok: true });
      });
      expect(await db.countAttempts()).toBe(1);
    });
  }

  it('rejects unknown targets and methods, including inherited members', async () => {
    const { db, make } = await env();
    const asyncTask = await make();
    const enqueue = asyncTask.enqueue as (tx: unknown, t: string, m: string, a: unknown) => Promise<unknown>;
    await db.inTransaction(async (tx) => {
      await expect(enqueue(tx, 'Nope', 'fulfill', {})).rejects.toBeInstanceOf(UnknownTargetError);
      await expect(enqueue(tx, 'toString', 'call', {})).rejects.toMatchObject({ code: 'UNKNOWN_TARGET' });
      await expect(enqueue(tx, '__proto__', 'valueOf', {})).rejects.toMatchObject({ code: 'UNKNOWN_TARGET' });
      for (const method of ['nope', 'constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
        await expect(enqueue(tx, 'OrderClient', method, {})).rejects.toBeInstanceOf(UnknownMethodError);
      }
    });
    expect(await db.countAttempts()).toBe(0);
  });

  it('rejects a scheduledAt that is not a valid Date and a token that is not a non-empty string', async () => {
    const { db, make } = await env();
    const asyncTask = await make();
    const cases: unknown[] = [
      { scheduledAt: '2030-01-01' },
      { scheduledAt: Date.now() },
      { scheduledAt: new Date(Number.NaN) },
      { idempotenceToken: 42 },
      { idempotenceToken: '' },
      { idempotenceToken: { id: 1 } },
      'not-an-object',
    ];
    await db.inTransaction(async (tx) => {
      for (const options of cases) {
        await expect(
          asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 1 }, options as never),
        ).rejects.toMatchObject({
          code: 'INVALID_ARGUMENTS',
        });
      }
    });
    expect(await db.countAttempts()).toBe(0);
  });
});
