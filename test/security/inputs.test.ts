// Issue 9, items 6, 8, 9 and 10: bad input gets a typed error (or null), never a raw database or engine error.
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { postgres } from '../../src/drivers/postgres.js';
import {
  AttemptNotFoundError,
  createAsyncTask,
  DecryptionError,
  decodeArgs,
  encodeArgs,
  InvalidArgumentsError,
  InvalidOptionsError,
} from '../../src/index.js';
import { forEachDialect } from '../support/suite.js';

const OUT_OF_RANGE_ID = '9999999999999999999';

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { v: value };
  return value;
}

forEachDialect('security: inputs at the API boundary', (env) => {
  it('an id beyond 64 bits: find() is null, perform/expire/fail/retry are AttemptNotFoundError', async () => {
    const { make } = await env();
    const asyncTask = await make();
    expect(await asyncTask.find(OUT_OF_RANGE_ID)).toBeNull();
    expect(await asyncTask.find('9223372036854775808')).toBeNull();
    expect(await asyncTask.find('9223372036854775807')).toBeNull();
    for (const operation of ['perform', 'expire', 'fail', 'retry'] as const) {
      await expect(asyncTask[operation](OUT_OF_RANGE_ID)).rejects.toBeInstanceOf(AttemptNotFoundError);
    }
    await expect(asyncTask.list({ cursor: OUT_OF_RANGE_ID })).rejects.toBeInstanceOf(InvalidOptionsError);
  });

  it('NUL in an idempotence token or a list filter is a typed error', async () => {
    const { db, make } = await env();
    const asyncTask = await make();
    await expect(
      db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'echo', {}, { idempotenceToken: 'a\u0000b' })),
    ).rejects.toBeInstanceOf(InvalidArgumentsError);
    for (const field of ['target', 'method', 'idempotenceToken'] as const) {
      await expect(asyncTask.list({ [field]: 'x\u0000' })).rejects.toBeInstanceOf(InvalidOptionsError);
    }
    // NUL inside the arguments is fine: it is escaped in the stored JSON text.
    const attempt = await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'echo', { s: 'a\u0000b' }));
    expect(await asyncTask.decodeArgs(attempt)).toEqual({ s: 'a\u0000b' });
  });

  it('scheduledAt outside the years 1 to 9999 is InvalidArgumentsError, not a database error', async () => {
    const { db, make } = await env();
    const asyncTask = await make();
    for (const scheduledAt of [new Date(Date.UTC(-5000, 0, 1)), new Date(Date.UTC(-1, 0, 1)), new Date(8.64e15)]) {
      await expect(
        db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'echo', {}, { scheduledAt })),
      ).rejects.toBeInstanceOf(InvalidArgumentsError);
    }
    const far = await db.inTransaction((tx) =>
      asyncTask.enqueue(tx, 'OrderClient', 'echo', {}, { scheduledAt: new Date('9999-12-31T00:00:00Z') }),
    );
    expect(far.scheduledAt?.toISOString()).toBe('9999-12-31T00:00:00.000Z');
  });

  it('an own __proto__ key in the arguments comes back as data, and pollutes nothing', async () => {
    const { db, make, calls } = await env();
    const asyncTask = await make();
    const args = JSON.parse('{"__proto__": {"isAdmin": true}, "name": "x"}');
    const attempt = await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'echo', args));
    expect(attempt.methodArgs).toContain('__proto__');
    await asyncTask.perform(attempt.id);
    const received = calls[0]?.args as Record<string, unknown>;
    expect(Object.hasOwn(received, '__proto__')).toBe(true);
    expect(JSON.stringify(received)).toBe(JSON.stringify(args));
    expect(Object.getPrototypeOf(received)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });
});

describe('security: the codec', () => {
  it('deeply nested arguments are InvalidArgumentsError, not a RangeError', () => {
    expect(() => encodeArgs(nested(100_000))).toThrow(InvalidArgumentsError);
    expect(() => encodeArgs(nested(257))).toThrow(/nested deeper than 256/);
    expect(decodeArgs(encodeArgs(nested(255)))).toEqual(nested(255));
  });

  it('a number beyond a double (as the SQL function or a table writer can store) is refused on reading', () => {
    expect(() => decodeArgs('{"amount": 1e400}')).toThrow(InvalidArgumentsError);
    expect(() => decodeArgs('[-1e400]')).toThrow(InvalidArgumentsError);
    expect(decodeArgs('{"amount": 1.5e300}')).toEqual({ amount: 1.5e300 });
  });
});

describe('security: PostgreSQL table names and the SQL enqueue function', () => {
  const pool = new pg.Pool({ connectionString: inject('pgAdminUrl'), max: 3 });
  afterAll(() => pool.end());

  it('a table name too long for its derived index names is refused up front, not at migrate()', async () => {
    const schema = `sec_${Math.random().toString(36).slice(2, 10)}`;
    try {
      expect(() => postgres(pool, { schema, table: 'a'.repeat(52) })).toThrow(InvalidOptionsError);
      expect(() => postgres(pool, { schema, table: 'a'.repeat(42) })).toThrow(/at most 41/);
      const longest = createAsyncTask({
        db: postgres(pool, { schema, table: 't'.repeat(41) }),
        targets: { Mailer: { async send() {} } },
      });
      await longest.migrate();
      await longest.migrate();
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
  });

  it('the SQL function refuses blank names and numbers JavaScript reads as Infinity; such a row never runs', async () => {
    const schema = `sec_${Math.random().toString(36).slice(2, 10)}`;
    const calls: unknown[] = [];
    const asyncTask = createAsyncTask({
      db: postgres(pool, { schema }),
      targets: {
        Payout: {
          async send(args: unknown) {
            calls.push(args);
          },
        },
      },
      retry: { maxAttempts: 1 },
    });
    try {
      await asyncTask.migrate();
      const enqueue = (target: string, method: string, args: string) =>
        pool.query(`SELECT id FROM ${schema}.async_task_attempts_enqueue($1, $2, $3::jsonb)`, [target, method, args]);
      await expect(enqueue('   ', 'send', '{}')).rejects.toMatchObject({ code: '22023' });
      await expect(enqueue('Payout', '\t', '{}')).rejects.toMatchObject({ code: '22023' });
      await expect(enqueue('Payout', 'send', '{"amount": 1e400}')).rejects.toMatchObject({ code: '22003' });
      // A table writer bypasses the function: the codec refuses the number at perform time.
      const { rows } = await pool.query(
        `INSERT INTO ${schema}.async_task_attempts (target, method_name, method_args, encryptor)
         VALUES ('Payout', 'send', '{"amount": 1e400}', 'null') RETURNING id`,
      );
      const result = await asyncTask.perform(String(rows[0].id));
      expect(result.outcome).toBe('failed');
      expect(result.error).toBeInstanceOf(DecryptionError);
      expect(calls).toEqual([]);
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
  });
});
