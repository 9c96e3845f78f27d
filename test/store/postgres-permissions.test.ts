// The GRANT lines docs/integrations.md gives for a role that runs workers but does not migrate are
// enough, and needed: run as written, that role enqueues (from TypeScript and with the SQL function),
// performs, drains and lists; without them it is refused.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { internalsOf } from '../../src/async-task/internals.js';
import { postgres } from '../../src/drivers/postgres.js';
import { createAsyncTask } from '../../src/index.js';
import { createDatabase } from '../cli/support/project.js';
import { DEFAULT_PG_SCHEMA, DEFAULT_PG_TABLE } from '../support/pg-names.js';
import { withPgTransaction } from '../support/pg-transaction.js';

const DOC = path.resolve(import.meta.dirname, '../../docs/integrations.md');

/** The first ```sql block of the doc's "### Permissions" section. */
function documentedGrants(): string {
  const text = fs.readFileSync(DOC, 'utf8');
  const section = text.slice(text.indexOf('\n### Permissions\n'));
  const block = /```sql\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('docs/integrations.md has no SQL block under "### Permissions"');
  return block;
}

describe('PostgreSQL permissions of a worker role', () => {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('the documented GRANTs let a non-owner role enqueue, perform and list; without them it is refused', async () => {
    const adminUrl = inject('pgAdminUrl');
    const database = await createDatabase(adminUrl);
    const role = `async_task_worker_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    const admin = new pg.Pool({ connectionString: database.url, max: 2 });
    // pool.end() resolves before its sockets close; the database's DROP … WITH (FORCE) may then kill one.
    admin.on('error', () => {});
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    cleanups.push(async () => {
      await admin.end();
      await database.drop();
      const server = new pg.Client({ connectionString: adminUrl });
      await server.connect();
      await server.query(`DROP ROLE IF EXISTS ${role}`);
      await server.end();
    });
    const targets = {
      Greeter: {
        async greet(_args: { name: string }) {},
        async refuse(_args: { name: string }): Promise<void> {
          throw new Error('refused');
        },
      },
    };
    const owner = createAsyncTask({ db: postgres(admin), targets });
    await owner.migrate();
    await owner.close();

    const url = new URL(database.url);
    url.username = role;
    url.password = password;
    const pool = new pg.Pool({ connectionString: url.toString(), max: 3 });
    pool.on('error', () => {});
    cleanups.push(() => pool.end());
    const asyncTask = createAsyncTask({ db: postgres(pool), targets });
    cleanups.push(() => asyncTask.close());
    const enqueue = (name: string) =>
      withPgTransaction(pool, (client) => asyncTask.enqueue(client, 'Greeter', 'greet', { name }));

    // Without the grants: the role may not even look into the library's schema.
    await expect(enqueue('Ada')).rejects.toThrow(`permission denied for schema ${DEFAULT_PG_SCHEMA}`);

    const grants = documentedGrants();
    expect(grants).toContain('app_worker');
    await admin.query(grants.replaceAll('app_worker', role));

    const viaTypeScript = await enqueue('Ada');
    const viaSql = await withPgTransaction(pool, (client) =>
      client.query(`SELECT id::text FROM ${DEFAULT_PG_TABLE}_enqueue('Greeter', 'greet', '{"name": "Bob"}')`),
    );
    expect((await asyncTask.perform(viaTypeScript.id)).outcome).toBe('succeeded');
    expect(await asyncTask.drain()).toMatchObject({ performed: 1 });
    const { attempts } = await asyncTask.list();
    expect(attempts.map((attempt) => [attempt.id, attempt.status]).sort()).toEqual(
      [
        [viaTypeScript.id, 'succeeded'],
        [viaSql.rows[0].id, 'succeeded'],
      ].sort(),
    );

    // A failed run writes its error; retention deletes the attempt and its errors.
    const refused = await withPgTransaction(pool, (client) =>
      asyncTask.enqueue(client, 'Greeter', 'refuse', { name: 'Eve' }, {}),
    );
    expect((await asyncTask.perform(refused.id)).outcome).not.toBe('succeeded');
    expect((await asyncTask.fail(refused.id)).status).toBe('failed');
    const errors = await internalsOf(asyncTask).store.dashboardQueries().dashboardAttemptErrors(refused.id, 20);
    expect(errors.map((entry) => entry.run)).toEqual([1]);
    const worker = internalsOf(asyncTask).store.workerStore();
    expect(
      await worker.attemptPruneCompleted({ statuses: ['succeeded', 'failed'], olderThanMs: -60_000, limit: 10 }),
    ).toBe(3);
    expect(await internalsOf(asyncTask).store.dashboardQueries().dashboardAttemptErrors(refused.id, 20)).toEqual([]);
  });
});

describe('PostgreSQL permissions of a migrating role', () => {
  it('a role that owns a schema made for it, without CREATE on the database, migrates into it', async () => {
    const adminUrl = inject('pgAdminUrl');
    const database = await createDatabase(adminUrl);
    const role = `async_task_migrator_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    const admin = new pg.Pool({ connectionString: database.url, max: 2 });
    admin.on('error', () => {});
    const url = new URL(database.url);
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    await admin.query(`REVOKE CREATE ON DATABASE ${pg.escapeIdentifier(url.pathname.slice(1))} FROM PUBLIC`);
    await admin.query(`CREATE SCHEMA ${DEFAULT_PG_SCHEMA} AUTHORIZATION ${role}`);
    url.username = role;
    url.password = password;
    const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
    pool.on('error', () => {});
    try {
      // The role may not create schemas: the check is real.
      await expect(pool.query('CREATE SCHEMA not_allowed')).rejects.toThrow(/permission denied/);
      const asyncTask = createAsyncTask({ db: postgres(pool), targets: { Greeter: { async greet() {} } } });
      await asyncTask.migrate();
      await asyncTask.migrate(); // and again, with everything in place
      const attempt = await withPgTransaction(pool, (client) => asyncTask.enqueue(client, 'Greeter', 'greet', {}));
      expect((await asyncTask.perform(attempt.id)).outcome).toBe('succeeded');
      await asyncTask.close();
    } finally {
      await pool.end();
      await admin.end();
      await database.drop();
      const server = new pg.Client({ connectionString: adminUrl });
      await server.connect();
      await server.query(`DROP ROLE IF EXISTS ${role}`);
      await server.end();
    }
  });
});
