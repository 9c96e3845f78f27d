import postgres from 'postgres';
import { postgresJsDriver } from '../../src/adapters/postgres-js.js';
import { adapterSuite } from './support/adapter-suite.js';
import { pgTestDatabase } from './support/pg-database.js';

const database = pgTestDatabase();

adapterSuite(
  'postgres.js',
  async () => {
    const schema = await database.schema();
    const sql = postgres(await database.databaseUrl(), {
      max: 5,
      onnotice: () => {},
      connection: { search_path: schema.name },
    });
    // The `sql` of sql.begin is callable and has savepoint(); the top-level `sql` has begin() instead.
    const inTransactions = new WeakSet<object>();
    return {
      driver: () => postgresJsDriver(sql, { schema: schema.name }),
      inTransaction: (fn) =>
        sql.begin(async (tx) => {
          inTransactions.add(tx);
          return fn(tx);
        }) as never,
      async writeEffect(tx, key) {
        await tx`INSERT INTO effects (key) VALUES (${key})`;
      },
      isOrmHandle: (tx) => typeof tx === 'function' && 'savepoint' in tx && !('begin' in tx),
      countEffects: async (key) => Number((await sql`SELECT count(*) AS n FROM effects WHERE key = ${key}`)[0]?.n),
      countAttempts: async () =>
        Number((await database.query(`SELECT count(*) AS n FROM ${schema.name}.async_task_attempts`))[0].n),
      close: () => sql.end(),
    };
  },
  {},
  () => database.drop(),
);
