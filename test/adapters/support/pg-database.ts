import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

const uniqueName = (prefix: string) => `${prefix}_${randomBytes(6).toString('hex')}`;

export interface TestSchema {
  /** The schema's name: the store's `schema` option, and the ORM's search_path. */
  readonly name: string;
  /** A connection URL whose sessions have this schema as their search_path. */
  readonly url: string;
}

/** One database on the shared test server for a test file; a fresh schema (with an `effects` table) per test. */
export function pgTestDatabase() {
  const adminUrl = inject('pgAdminUrl');
  const databaseName = uniqueName('async_task_adapter');
  let created: Promise<string> | undefined;

  const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };

  const databaseUrl = () => {
    created ??= admin(async (client) => {
      await client.query(`CREATE DATABASE ${databaseName}`);
      const url = new URL(adminUrl);
      url.pathname = `/${databaseName}`;
      return url.toString();
    });
    return created;
  };

  return {
    databaseUrl,
    async schema(): Promise<TestSchema> {
      const base = await databaseUrl();
      const name = uniqueName('s');
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      try {
        await client.query(`CREATE SCHEMA ${name}`);
        await client.query(`CREATE TABLE ${name}.effects (id serial PRIMARY KEY, key text NOT NULL)`);
      } finally {
        await client.end();
      }
      const url = new URL(base);
      url.searchParams.set('options', `-c search_path=${name}`);
      return { name, url: url.toString() };
    },
    /** Runs one query on a connection of its own (for counting, outside any ORM). */
    async query(text: string, values: unknown[] = []) {
      const client = new pg.Client({ connectionString: await databaseUrl() });
      await client.connect();
      try {
        return (await client.query(text, values)).rows;
      } finally {
        await client.end();
      }
    },
    async drop() {
      if (!created) return;
      await created;
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`));
    },
  };
}
