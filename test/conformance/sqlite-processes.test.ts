import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { sqlite } from '../../src/drivers/sqlite.js';
import { createAsyncTask } from '../../src/index.js';

const run = promisify(execFile);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'async-task-sqlite-proc-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('[sqlite] racing idempotent enqueues from several processes on one file create one row', async () => {
  const file = path.join(dir, 'race.sqlite');
  const db = new Database(file);
  const asyncTask = createAsyncTask({ db: sqlite(db), targets: { OrderClient: { fulfill() {} } } });
  await asyncTask.migrate();
  const child = path.resolve('test/support/sqlite-enqueue-child.ts');
  const outputs = await Promise.all(
    Array.from({ length: 4 }, () => run(process.execPath, ['--import', 'tsx', child, file, 'same-token', '50'])),
  );
  const ids = outputs.map(({ stdout }) => stdout.trim());
  expect(new Set(ids).size).toBe(1);
  expect((db.prepare('SELECT count(*) AS n FROM async_task_attempts').get() as { n: number }).n).toBe(1);
  await asyncTask.close();
  db.close();
}, 60_000);
