// npx tsx quick-start-sqlite.ts   (writes app.sqlite in the current folder)
import { createAsyncTask, type PerformContext } from 'async-task-ts';
import { sqlite } from 'async-task-ts/sqlite';
import Database from 'better-sqlite3';

const OrderClient = {
  async fulfill(args: { orderId: number }, ctx: PerformContext<Database.Database>) {
    console.log(`shipping order ${args.orderId}`);
    // Written through ctx.tx: commits together with the attempt's `succeeded`, or not at all.
    ctx.tx.prepare("UPDATE orders SET shipped_at = datetime('now') WHERE id = ?").run(args.orderId);
  },
};

const db = new Database('app.sqlite');
const asyncTask = createAsyncTask({ db: sqlite(db), targets: { OrderClient } });
await asyncTask.migrate(); // also switches the file to WAL mode
// Your own table (your migrations create it).
db.exec('CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, item TEXT, shipped_at TEXT)');

// better-sqlite3 transactions are synchronous: use enqueueSync inside them. It returns the attempt.
const placeOrder = db.transaction((item: string) => {
  const orderId = Number(db.prepare('INSERT INTO orders (item) VALUES (?)').run(item).lastInsertRowid);
  return { orderId, attempt: asyncTask.enqueueSync(db, 'OrderClient', 'fulfill', { orderId }) };
});
const { orderId, attempt: enqueued } = placeOrder('kettle');

// Later: perform it (a worker, `npx async-task worker`, does this for every due attempt).
const { outcome, attempt } = await asyncTask.perform(enqueued.id);
const row = db.prepare('SELECT shipped_at FROM orders WHERE id = ?').get(orderId) as {
  shipped_at: string | null;
};
console.log(
  `attempt ${attempt.id}: ${outcome} after ${attempt.numAttempts} run; shipped_at ${row.shipped_at ? 'set' : 'null'}`,
);

await asyncTask.close(); // the library's own connections; yours stay open
db.close();
