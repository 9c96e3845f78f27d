import knexFactory from 'knex';
import { knexDriver } from '../../src/adapters/knex.js';
import { adapterSuite } from './support/adapter-suite.js';
import { pgTestDatabase } from './support/pg-database.js';

const database = pgTestDatabase();

adapterSuite(
  'knex (pg)',
  async () => {
    const schema = await database.schema();
    const knex = knexFactory({ client: 'pg', connection: schema.url, pool: { min: 0, max: 5 } });
    return {
      driver: () => knexDriver(knex, { schema: schema.name }),
      inTransaction: (fn) => knex.transaction(async (trx) => fn(trx)),
      async writeEffect(tx, key) {
        await tx('effects').insert({ key });
      },
      isOrmHandle: (tx) => typeof tx === 'function' && (tx as { isTransaction?: boolean }).isTransaction === true,
      countEffects: async (key) => Number((await knex('effects').where({ key }).count({ n: '*' }))[0]?.n),
      countAttempts: async () =>
        Number((await database.query(`SELECT count(*) AS n FROM ${schema.name}.async_task_attempts`))[0].n),
      close: () => knex.destroy(),
    };
  },
  {},
  () => database.drop(),
);
