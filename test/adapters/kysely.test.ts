import { CamelCasePlugin, type Generated, Kysely, PostgresDialect, Transaction } from 'kysely';
import pg from 'pg';
import { kyselyDriver } from '../../src/adapters/kysely.js';
import { adapterSuite } from './support/adapter-suite.js';
import { pgTestDatabase } from './support/pg-database.js';

interface Database {
  effects: { id: Generated<number>; key: string };
}

const database = pgTestDatabase();

// With CamelCasePlugin, as many applications use it: the library's own queries must not be renamed.

adapterSuite(
  'kysely (PostgreSQL, with CamelCasePlugin)',
  async () => {
    const schema = await database.schema();
    const pool = new pg.Pool({ connectionString: schema.url, max: 5 });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [new CamelCasePlugin()] });
    return {
      driver: () => kyselyDriver(db, { schema: schema.name }),
      inTransaction: (fn) => db.transaction().execute(async (trx) => fn(trx)),
      async writeEffect(tx, key) {
        await tx.insertInto('effects').values({ key }).execute();
      },
      isOrmHandle: (tx) => tx instanceof Transaction,
      countEffects: async (key) =>
        Number(
          (
            await db
              .selectFrom('effects')
              .select((eb) => eb.fn.countAll().as('n'))
              .where('key', '=', key)
              .executeTakeFirstOrThrow()
          ).n,
        ),
      countAttempts: async () =>
        Number((await database.query(`SELECT count(*) AS n FROM ${schema.name}.async_task_attempts`))[0].n),
      close: () => db.destroy(),
    };
  },
  {},
  () => database.drop(),
);
