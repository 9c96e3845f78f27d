// DATABASE_URL=postgres://postgres@localhost:5432/postgres npx tsx quick-start-postgres.ts
import { createAsyncTask, type PerformContext } from 'async-task-ts';
import { postgres } from 'async-task-ts/postgres';
import pg from 'pg';

// Your code that calls the outside world (here a stand-in that logs).
const shipping = {
  async ship(orderId: number, options: { signal: AbortSignal }) {
    options.signal.throwIfAborted();
    console.log(`shipping order ${orderId}`);
  },
};

// A target: a named object whose methods may be called later. Only registered targets can ever be called.
const OrderClient = {
  async fulfill(args: { orderId: number }, ctx: PerformContext<pg.PoolClient>) {
    await shipping.ship(args.orderId, { signal: ctx.signal });
    // Written through ctx.tx: commits together with the attempt's `succeeded`, or not at all.
    await ctx.tx.query('UPDATE orders SET shipped_at = now() WHERE id = $1', [args.orderId]);
  },
};

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
const asyncTask = createAsyncTask({ db: postgres(pool), targets: { OrderClient } });
await asyncTask.migrate(); // idempotent; safe from many processes at once
// Your own table (your migrations create it).
await pool.query('CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY, item text, shipped_at timestamptz)');

// In your request handler, inside your transaction:
const client = await pool.connect();
let orderId: number;
let attemptId: string;
try {
  await client.query('BEGIN');
  const { rows } = await client.query('INSERT INTO orders (item) VALUES ($1) RETURNING id', ['kettle']);
  orderId = rows[0].id;
  // enqueue returns the attempt (status 'pending'); the token makes a repeated enqueue return the same one.
  const attempt = await asyncTask.enqueue(
    client,
    'OrderClient',
    'fulfill',
    { orderId },
    { idempotenceToken: `order-${orderId}` },
  );
  attemptId = attempt.id;
  await client.query('COMMIT'); // ROLLBACK instead, and fulfill() is never called
} catch (error) {
  await client.query('ROLLBACK');
  throw error;
} finally {
  client.release();
}

// Later, anywhere: perform it (a worker, `npx async-task worker`, does this for every due attempt).
const { outcome, attempt } = await asyncTask.perform(attemptId);
const { rows } = await pool.query('SELECT shipped_at FROM orders WHERE id = $1', [orderId]);
console.log(
  `attempt ${attempt.id}: ${outcome} after ${attempt.numAttempts} run; shipped_at ${rows[0].shipped_at ? 'set' : 'null'}`,
);

await asyncTask.close();
await pool.end();
