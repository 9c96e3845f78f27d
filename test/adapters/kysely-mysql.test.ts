import { CamelCasePlugin, type Generated, Kysely, MysqlDialect, Transaction } from 'kysely';
import { createPool } from 'mysql2';
import { kyselyMysqlDriver } from '../../src/adapters/kysely-mysql.js';
import { mysqlAdapterSuite } from './support/mysql-adapter.js';

interface Database {
  effects: { id: Generated<number>; key: string };
}

// With CamelCasePlugin, as many applications use it: the library's own queries must not be renamed.
mysqlAdapterSuite<Transaction<Database>>('kysely (MySQL, with CamelCasePlugin)', async (url) => {
  const db = new Kysely<Database>({
    dialect: new MysqlDialect({ pool: createPool({ uri: url, connectionLimit: 5 }) }),
    plugins: [new CamelCasePlugin()],
  });
  return {
    driver: () => kyselyMysqlDriver(db),
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
    close: () => db.destroy(),
  };
});
