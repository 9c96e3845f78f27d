import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { postgres } from '../../src/drivers/postgres.js';
import { type AsyncTaskOptions, aesGcmEncryptor, createAsyncTask, type PerformContext } from '../../src/index.js';
import { pgTestDatabase } from '../adapters/support/pg-database.js';
import { withPgTransaction } from '../support/pg-transaction.js';

const database = pgTestDatabase();

/** A migrated AsyncTask in a fresh schema, and a pg pool whose search_path is that schema. */
async function setup(options: Partial<AsyncTaskOptions<any, pg.PoolClient>> = {}) {
  const schema = await database.schema();
  const pool = new pg.Pool({ connectionString: schema.url, max: 5 });
  pools.push(pool);
  const calls: { args: unknown; ctxTxIsClient: boolean }[] = [];
  const targets = {
    Orders: {
      async fulfill(args: unknown, ctx: PerformContext<pg.PoolClient>) {
        calls.push({ args, ctxTxIsClient: typeof ctx.tx.query === 'function' });
        await ctx.tx.query('INSERT INTO effects (key) VALUES ($1)', ['fulfilled']);
      },
    },
  };
  const asyncTask = createAsyncTask({ db: postgres(pool, { schema: schema.name }), targets, ...options });
  await asyncTask.migrate();
  const inTransaction = <T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> => withPgTransaction(pool, fn);
  // Plain SQL, as a client in any language would write it.
  const sqlEnqueue = (client: pg.PoolClient | pg.Pool, ...values: unknown[]) =>
    client
      .query(
        `SELECT * FROM ${schema.name}.async_task_attempts_enqueue($1, $2, $3::jsonb${values.length > 3 ? ', $4' : ''}${values.length > 4 ? ', $5' : ''})`,
        values,
      )
      .then((result) => result.rows[0] as { id: string; [column: string]: unknown });
  const count = async (query: string) => Number((await pool.query(query)).rows[0].n);
  return { schema, pool, asyncTask, calls, inTransaction, sqlEnqueue, count };
}

const pools: pg.Pool[] = [];
afterEach(async () => {
  while (pools.length > 0) await pools.pop()?.end();
});
afterAll(() => database.drop());

describe('PostgreSQL enqueue function (migration 3)', () => {
  it('enqueues inside the caller’s transaction; perform decodes the jsonb args and the target writes via ctx.tx', async () => {
    const { asyncTask, calls, inTransaction, sqlEnqueue, count } = await setup();
    const args = { orderId: 7, items: [{ sku: 'a-1', qty: 2 }], note: null, at: { $date: '2026-01-02T03:04:05.678Z' } };
    const row = await inTransaction((client) => sqlEnqueue(client, 'Orders', 'fulfill', JSON.stringify(args)));
    expect(row).toMatchObject({ status: 'pending', num_attempts: 0, encryptor: 'null', target: 'Orders' });
    const result = await asyncTask.perform(row.id);
    expect(result.outcome).toBe('succeeded');
    expect(calls).toEqual([
      {
        args: { orderId: 7, items: [{ sku: 'a-1', qty: 2 }], note: null, at: new Date('2026-01-02T03:04:05.678Z') },
        ctxTxIsClient: true,
      },
    ]);
    expect(await count('SELECT count(*) AS n FROM effects')).toBe(1);
  });

  it('writes the same row as enqueue() without an encryptor', async () => {
    const { asyncTask, inTransaction, sqlEnqueue } = await setup();
    const args = { orderId: 1, tags: ['x', 'y'], nested: { deep: [1, 2.5, true] } };
    const viaSql = await inTransaction((client) => sqlEnqueue(client, 'Orders', 'fulfill', JSON.stringify(args)));
    const viaLibrary = await inTransaction((client) => asyncTask.enqueue(client, 'Orders', 'fulfill', args));
    const fromSql = await asyncTask.find(viaSql.id);
    expect(fromSql).not.toBeNull();
    const shape = ({ id, createdAt, updatedAt, methodArgs, ...rest }: NonNullable<typeof fromSql>) => rest;
    expect(shape(fromSql!)).toEqual(shape(viaLibrary));
    expect(await asyncTask.decodeArgs(fromSql!)).toEqual(await asyncTask.decodeArgs(viaLibrary));
  });

  it('rollback: no attempt', async () => {
    const { inTransaction, sqlEnqueue, count } = await setup();
    await expect(
      inTransaction(async (client) => {
        await sqlEnqueue(client, 'Orders', 'fulfill', '{"orderId":1}');
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await count('SELECT count(*) AS n FROM async_task_attempts')).toBe(0);
  });

  it('is idempotent like enqueue(): the same token returns the existing attempt, also one made by enqueue()', async () => {
    const { asyncTask, pool, inTransaction, sqlEnqueue, count } = await setup();
    const first = await sqlEnqueue(pool, 'Orders', 'fulfill', '{"orderId":1}', 'order-1');
    const again = await sqlEnqueue(pool, 'Orders', 'fulfill', '{"orderId":2}', 'order-1');
    expect(again.id).toBe(first.id);
    expect(await count('SELECT count(*) AS n FROM async_task_attempts')).toBe(1);
    const libraryFirst = await inTransaction((client) =>
      asyncTask.enqueue(client, 'Orders', 'fulfill', { orderId: 3 }, { idempotenceToken: 'order-3' }),
    );
    expect((await sqlEnqueue(pool, 'Orders', 'fulfill', '{"orderId":3}', 'order-3')).id).toBe(libraryFirst.id);
    const viaLibrary = await inTransaction((client) =>
      asyncTask.enqueue(client, 'Orders', 'fulfill', { orderId: 1 }, { idempotenceToken: 'order-1' }),
    );
    expect(viaLibrary.id).toBe(first.id);
  });

  it('two transactions racing with one token: the second waits for the first and returns its attempt', async () => {
    const { pool, sqlEnqueue, count } = await setup();
    const first = await pool.connect();
    const second = await pool.connect();
    try {
      await first.query('BEGIN');
      await second.query('BEGIN');
      const made = await sqlEnqueue(first, 'Orders', 'fulfill', '{"orderId":1}', 'race');
      const waiting = sqlEnqueue(second, 'Orders', 'fulfill', '{"orderId":1}', 'race');
      await first.query('COMMIT');
      expect((await waiting).id).toBe(made.id);
      await second.query('COMMIT');
    } finally {
      first.release();
      second.release();
    }
    expect(await count('SELECT count(*) AS n FROM async_task_attempts')).toBe(1);
  });

  it('scheduled_at: not performed before it; drain performs what is due', async () => {
    const { asyncTask, pool, sqlEnqueue } = await setup();
    const later = await sqlEnqueue(pool, 'Orders', 'fulfill', '{}', null, new Date(Date.now() + 3_600_000));
    await sqlEnqueue(pool, 'Orders', 'fulfill', '{}');
    expect(await asyncTask.drain()).toMatchObject({ performed: 1, succeeded: 1 });
    expect((await asyncTask.find(later.id))?.status).toBe('pending');
  });

  it('a running worker performs what SQL enqueued (found by its next poll: the function sends no NOTIFY)', async () => {
    const { asyncTask, pool, calls, sqlEnqueue } = await setup();
    const worker = asyncTask.worker({ concurrency: 2, pollIntervalMs: 100 });
    await worker.start();
    try {
      await sqlEnqueue(pool, 'Orders', 'fulfill', '{"orderId":1}');
      await sqlEnqueue(pool, 'Orders', 'fulfill', '{"orderId":2}');
      const deadline = Date.now() + 10_000;
      while ((await asyncTask.list({ status: 'succeeded' })).attempts.length < 2) {
        if (Date.now() > deadline) throw new Error('the worker did not perform the attempts in time');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await worker.stop();
    }
    const orderIds = calls.map((call) => (call.args as { orderId: number }).orderId);
    expect(orderIds.sort()).toEqual([1, 2]);
  });

  it('rows it writes are performed when the application encrypts its own arguments and lists the target', async () => {
    const encryptor = aesGcmEncryptor({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' });
    const { asyncTask, pool, calls, sqlEnqueue } = await setup({ encryptor, acceptPlaintext: ['Orders.fulfill'] });
    const row = await sqlEnqueue(pool, 'Orders', 'fulfill', '{"orderId":9}');
    expect(row.method_args).toBe('{"orderId": 9}');
    expect((await asyncTask.perform(row.id)).outcome).toBe('succeeded');
    expect(calls[0]?.args).toEqual({ orderId: 9 });
  });

  it('with an encryptor and no acceptPlaintext, its rows are refused with a DecryptionError', async () => {
    const encryptor = aesGcmEncryptor({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' });
    const { asyncTask, pool, calls, sqlEnqueue } = await setup({ encryptor, retry: { maxAttempts: 1 } });
    const row = await sqlEnqueue(pool, 'Orders', 'fulfill', '{"orderId":9}');
    const result = await asyncTask.perform(row.id);
    expect(result.outcome).toBe('failed');
    expect(result.error).toMatchObject({ code: 'DECRYPTION_FAILED' });
    expect(calls).toEqual([]);
  });

  it('an unknown target or method is accepted by SQL, then refused by perform (UNKNOWN_TARGET / UNKNOWN_METHOD) and left pending', async () => {
    const { asyncTask, pool, sqlEnqueue } = await setup({ retry: { maxAttempts: 2, backoff: () => 0 } });
    const unknownTarget = await sqlEnqueue(pool, 'Nobody', 'fulfill', '{}');
    await expect(asyncTask.perform(unknownTarget.id)).rejects.toMatchObject({ code: 'UNKNOWN_TARGET' });
    const unknownMethod = await sqlEnqueue(pool, 'Orders', 'constructor', '{}');
    await expect(asyncTask.perform(unknownMethod.id)).rejects.toMatchObject({ code: 'UNKNOWN_METHOD' });
    for (const id of [unknownTarget.id, unknownMethod.id]) {
      expect(await asyncTask.find(id)).toMatchObject({ status: 'pending', numAttempts: 0, lastError: null });
    }
    // drain() leaves them for a process that knows them, and does not loop on them.
    expect(await asyncTask.drain()).toMatchObject({ performed: 0 });
  });

  it('rejects what enqueue() rejects: empty or blank target or method, SQL NULL args, an empty token', async () => {
    const { pool, sqlEnqueue, count } = await setup();
    await expect(sqlEnqueue(pool, '', 'fulfill', '{}')).rejects.toThrow('target must be a non-blank text');
    await expect(sqlEnqueue(pool, ' \t', 'fulfill', '{}')).rejects.toThrow('target must be a non-blank text');
    await expect(sqlEnqueue(pool, 'Orders', null, '{}')).rejects.toThrow('method must be a non-blank text');
    await expect(sqlEnqueue(pool, 'Orders', '\n', '{}')).rejects.toThrow('method must be a non-blank text');
    await expect(sqlEnqueue(pool, 'Orders', 'fulfill', null)).rejects.toThrow('args must not be SQL NULL');
    await expect(sqlEnqueue(pool, 'Orders', 'fulfill', '{}', '')).rejects.toThrow('idempotence_token must be NULL');
    expect(await count('SELECT count(*) AS n FROM async_task_attempts')).toBe(0);
  });

  it('can be called from a trigger: an insert into an application table enqueues in the same transaction', async () => {
    const { schema, asyncTask, pool, calls } = await setup();
    await pool.query(`
      CREATE TABLE orders (id serial PRIMARY KEY, total numeric NOT NULL);
      CREATE FUNCTION enqueue_fulfillment() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM ${schema.name}.async_task_attempts_enqueue(
          'Orders', 'fulfill', jsonb_build_object('orderId', NEW.id), idempotence_token => 'order-' || NEW.id);
        RETURN NEW;
      END $$;
      CREATE TRIGGER orders_enqueue AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION enqueue_fulfillment();
    `);
    await pool.query('INSERT INTO orders (total) VALUES (10), (20)');
    expect(await asyncTask.drain()).toMatchObject({ performed: 2, succeeded: 2 });
    expect(calls.map((call) => call.args)).toEqual([{ orderId: 1 }, { orderId: 2 }]);
  });
});
