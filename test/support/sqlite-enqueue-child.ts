// A separate process enqueuing with an idempotence token inside its own transaction, held open a while.
import Database from 'better-sqlite3';
import { sqlite } from '../../src/drivers/sqlite.js';
import { createAsyncTask } from '../../src/index.js';

const [file, token, holdMs] = process.argv.slice(2) as [string, string, string];
const db = new Database(file);
db.pragma('busy_timeout = 10000');
const asyncTask = createAsyncTask({ db: sqlite(db), targets: { OrderClient: { fulfill(_args: { pid: number }) {} } } });
db.exec('BEGIN IMMEDIATE');
const attempt = asyncTask.enqueueSync(db, 'OrderClient', 'fulfill', { pid: process.pid }, { idempotenceToken: token });
await new Promise((resolve) => setTimeout(resolve, Number(holdMs)));
db.exec('COMMIT');
process.stdout.write(`${attempt.id}\n`);
await asyncTask.close();
db.close();
