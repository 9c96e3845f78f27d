import { PrismaPg } from '@prisma/adapter-pg';
import { prismaDriver } from '../../src/adapters/prisma.js';
import { PrismaClient } from './prisma/generated/client.js';
import { adapterSuite } from './support/adapter-suite.js';
import { pgTestDatabase } from './support/pg-database.js';

const database = pgTestDatabase();

adapterSuite(
  'prisma 7 (adapter-pg, interactive transactions)',
  async () => {
    const schema = await database.schema();
    const prisma = new PrismaClient({
      adapter: new PrismaPg({ connectionString: schema.url, max: 5 }, { schema: schema.name }),
    });
    // An interactive transaction client: the models and raw queries, on the transaction's connection.
    return {
      driver: () => prismaDriver(prisma, { schema: schema.name }),
      inTransaction: (fn) => prisma.$transaction(async (tx) => fn(tx)),
      async writeEffect(tx, key) {
        await tx.effect.create({ data: { key } });
      },
      isOrmHandle: (tx) =>
        typeof tx === 'object' && tx !== null && tx !== prisma && 'effect' in tx && '$queryRawUnsafe' in tx,
      countEffects: (key) => prisma.effect.count({ where: { key } }),
      countAttempts: async () =>
        Number((await database.query(`SELECT count(*) AS n FROM ${schema.name}.async_task_attempts`))[0].n),
      close: () => prisma.$disconnect(),
    };
  },
  {},
  () => database.drop(),
);
