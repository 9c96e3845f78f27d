import { eq, sql } from 'drizzle-orm';
import { PgTransaction, pgTable, serial, text } from 'drizzle-orm/pg-core';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { drizzleDriver } from '../../src/adapters/drizzle.js';
import { adapterSuite } from './support/adapter-suite.js';
import { pgTestDatabase } from './support/pg-database.js';

const effects = pgTable('effects', { id: serial('id').primaryKey(), key: text('key').notNull() });
const database = pgTestDatabase();

adapterSuite(
  'drizzle (postgres.js)',
  async () => {
    const schema = await database.schema();
    const client = postgres(await database.databaseUrl(), {
      max: 5,
      onnotice: () => {},
      connection: { search_path: schema.name },
    });
    // Drizzle switches off postgres.js's date parsing and serializing on this client.
    const db = drizzle({ client, schema: { effects } });
    return {
      driver: () => drizzleDriver(db, { schema: schema.name }),
      inTransaction: (fn) => db.transaction(async (tx) => fn(tx)),
      async writeEffect(tx, key) {
        await tx.insert(effects).values({ key });
      },
      isOrmHandle: (tx) => tx instanceof PgTransaction,
      countEffects: async (key) =>
        (await db.select({ n: sql<number>`count(*)::int` }).from(effects).where(eq(effects.key, key)))[0]?.n ?? 0,
      countAttempts: async () =>
        Number((await database.query(`SELECT count(*) AS n FROM ${schema.name}.async_task_attempts`))[0].n),
      close: () => client.end(),
    };
  },
  {},
  () => database.drop(),
);
