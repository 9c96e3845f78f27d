// The dashboard over an ORM driver: the adapted store passes the dashboard's queries through.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, expect, it } from 'vitest';
import { kyselySqliteDriver } from '../../src/adapters/kysely-sqlite.js';
import { createDashboard } from '../../src/dashboard/index.js';
import { createAsyncTask } from '../../src/index.js';
import { DashboardClient, rowIds } from './client.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'async-task-dashboard-kysely-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('works over the Kysely driver: lists, shows and acts', async () => {
  const database = new Database(path.join(dir, 'app.sqlite'));
  const db = new Kysely<Record<string, never>>({ dialect: new SqliteDialect({ database }) });
  const asyncTask = createAsyncTask({
    db: kyselySqliteDriver(db, database),
    targets: { Mailer: { async send(_args: { to: string }) {} } },
  });
  try {
    await asyncTask.migrate();
    const attempt = await db.transaction().execute((trx) => asyncTask.enqueue(trx, 'Mailer', 'send', { to: 'ada' }));
    const client = DashboardClient.over(createDashboard({ asyncTask }));
    expect(rowIds((await client.get('/attempts')).text)).toEqual([attempt.id]);
    expect((await client.get('/targets')).text).toContain('Mailer.send');
    const result = await client.post('/actions', { op: 'expire:selected', id: attempt.id });
    expect(result.text).toContain('Expired 1 attempt.');
    expect((await asyncTask.find(attempt.id))?.status).toBe('expired');
  } finally {
    await asyncTask.close();
    await db.destroy();
  }
});
