import knexFactory, { type Knex } from 'knex';
import { knexMysqlDriver } from '../../src/adapters/knex-mysql.js';
import { mysqlAdapterSuite } from './support/mysql-adapter.js';

mysqlAdapterSuite<Knex.Transaction>('knex (mysql2)', async (url) => {
  const knex = knexFactory({ client: 'mysql2', connection: url, pool: { min: 0, max: 5 } });
  return {
    driver: () => knexMysqlDriver(knex),
    inTransaction: (fn) => knex.transaction(async (trx) => fn(trx)),
    async writeEffect(tx, key) {
      await tx('effects').insert({ key });
    },
    isOrmHandle: (tx) => typeof tx === 'function' && (tx as { isTransaction?: boolean }).isTransaction === true,
    countEffects: async (key) => Number((await knex('effects').where({ key }).count({ n: '*' }))[0]?.n),
    close: () => knex.destroy(),
  };
});
