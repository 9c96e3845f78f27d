// `async-task demo` and `npm run demo`: the point of the library in a few seconds, on SQLite in a temp
// folder (no server). An order transaction that fails takes its attempt with it; one that commits gets
// performed once.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import Table from 'cli-table3';
import picocolors from 'picocolors';
import { createAsyncTask } from '../../async-task/create-async-task.js';
import { InvalidStateError } from '../../core/errors.js';
import type { PerformContext } from '../../core/types.js';
import { sqlite } from '../../drivers/sqlite.js';

export interface ShopDemoOptions {
  /** Pauses between steps so a person can follow. Default: true. */
  readonly paced?: boolean;
  /** Default: when stdout is a terminal. */
  readonly color?: boolean;
  /** Default: console.log. */
  readonly say?: (text: string) => void;
}

/** Tells the story; resolves with how many times the fulfillment service was called (1). */
export async function runShopDemo(options: ShopDemoOptions = {}): Promise<number> {
  const pc = picocolors.createColors(options.color ?? Boolean(process.stdout.isTTY));
  const paced = options.paced ?? true;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, paced ? ms : 0));
  const say = options.say ?? ((text: string) => console.log(text));
  const step = (n: number, text: string) => say(`\n${pc.bold(pc.cyan(`${n}.`))} ${pc.bold(text)}`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'async-task-demo-'));
  const db = new Database(path.join(dir, 'shop.sqlite'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL, shipped INTEGER NOT NULL DEFAULT 0)');

  let fulfillmentCalls = 0;

  /** The outside world: a fulfillment service we must never call for an order that does not exist. */
  const OrderClient = {
    async fulfill(args: { orderId: number }, ctx: PerformContext<Database.Database>) {
      fulfillmentCalls++;
      say(`   ${pc.magenta('→ calling the fulfillment service')} for order #${args.orderId} …`);
      await sleep(600);
      // Written through ctx.tx: commits together with the attempt's `succeeded`, or not at all.
      ctx.tx.prepare('UPDATE orders SET shipped = 1 WHERE id = ?').run(args.orderId);
    },
  };

  const asyncTask = createAsyncTask({ db: sqlite(db), targets: { OrderClient } });

  async function printAttempts(title: string): Promise<void> {
    const { attempts } = await asyncTask.list({ limit: 20 });
    const orders = new Map(
      (db.prepare('SELECT id, item, shipped FROM orders').all() as { id: number; item: string; shipped: number }[]).map(
        (order) => [order.id, order],
      ),
    );
    say(pc.dim(`   ${title}`));
    if (attempts.length === 0 && orders.size === 0) {
      say(pc.dim('   (no orders and no attempts: nothing was left behind)'));
      return;
    }
    const table = new Table({
      head: ['attempt', 'call', 'status', 'num_attempts', 'completed_at', 'order', 'shipped'].map((h) => pc.bold(h)),
      style: { head: [], border: [] },
    });
    for (const attempt of [...attempts].reverse()) {
      const args = (await asyncTask.decodeArgs(attempt)) as { orderId: number };
      const order = orders.get(args.orderId);
      const colour = attempt.status === 'succeeded' ? pc.green : attempt.status === 'pending' ? pc.yellow : pc.red;
      table.push([
        attempt.id,
        `${attempt.target}.${attempt.methodName}`,
        colour(attempt.status),
        String(attempt.numAttempts),
        attempt.completedAt ? attempt.completedAt.toISOString().slice(11, 23) : '—',
        order ? `#${order.id} ${order.item}` : '—',
        order?.shipped ? 'yes' : 'no',
      ]);
    }
    say(table.toString());
  }

  say(pc.bold('AsyncTask demo') + pc.dim(` — SQLite at ${path.join(dir, 'shop.sqlite')}`));
  await asyncTask.migrate();

  step(1, 'Order #1: insert the order and enqueue OrderClient.fulfill in ONE transaction … then payment fails.');
  const placeOrder = db.transaction((id: number, item: string, paymentOk: boolean) => {
    db.prepare('INSERT INTO orders (id, item) VALUES (?, ?)').run(id, item);
    asyncTask.enqueueSync(db, 'OrderClient', 'fulfill', { orderId: id }, { idempotenceToken: `order-${id}` });
    if (!paymentOk) throw new Error('payment declined');
  });
  try {
    placeOrder(1, 'teapot', false);
  } catch (error) {
    say(`   ${pc.red('✗ transaction rolled back:')} ${(error as Error).message}`);
  }
  await printAttempts('After the rollback:');
  say(
    `   The order and its attempt are gone together; the fulfillment service was called ${pc.bold(String(fulfillmentCalls))} times.`,
  );
  await sleep(400);

  step(2, 'Order #2: the same transaction, and this time it commits.');
  placeOrder(2, 'kettle', true);
  say(`   ${pc.green('✓ committed')}`);
  await printAttempts('Before the worker runs:');
  await sleep(400);

  step(3, 'A worker (here in this process; usually `async-task worker`) picks up the committed attempt.');
  const worker = asyncTask.worker({ concurrency: 2, pollIntervalMs: 200 });
  const performed = new Promise<void>((resolve) => worker.on('attempt:succeeded', () => resolve()));
  await worker.start();
  await performed;
  await worker.stop();
  say(`   ${pc.green('✓ performed')}, and the worker stopped gracefully`);
  await printAttempts('After:');

  step(4, 'Performing it again is refused: the attempt is no longer pending.');
  const [done] = (await asyncTask.list({ status: 'succeeded', limit: 1 })).attempts;
  try {
    await asyncTask.perform(done!.id);
  } catch (error) {
    if (!(error instanceof InvalidStateError)) throw error;
    say(`   ${pc.yellow(error.name)} (${error.code}): ${error.message}`);
  }
  say(
    `\n${pc.bold('Result:')} the fulfillment service was called ${pc.bold(String(fulfillmentCalls))} time, for the order that exists.`,
  );
  await asyncTask.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return fulfillmentCalls;
}
