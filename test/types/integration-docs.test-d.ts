// The examples of docs/integrations.md, type-checked: a schema inline where the docs import one.
import Database from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3';
import { drizzle } from 'drizzle-orm/node-postgres';
import { integer as pgInteger, pgTable, text as pgText, serial, timestamp } from 'drizzle-orm/pg-core';
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import knexFactory, { type Knex } from 'knex';
import { type Generated, Kysely, MysqlDialect, PostgresDialect, type Transaction } from 'kysely';
import { createPool } from 'mysql2';
import pg from 'pg';
import postgres, { type TransactionSql } from 'postgres';
import { describe, expectTypeOf, it } from 'vitest';
import { drizzleDriver } from '../../src/adapters/drizzle.js';
import { type DrizzleSqliteTx, drizzleSqliteDriver } from '../../src/adapters/drizzle-sqlite.js';
import { knexDriver } from '../../src/adapters/knex.js';
import { kyselyDriver } from '../../src/adapters/kysely.js';
import { kyselyMysqlDriver } from '../../src/adapters/kysely-mysql.js';
import { postgresJsDriver } from '../../src/adapters/postgres-js.js';
import { prismaDriver } from '../../src/adapters/prisma.js';
import { createAsyncTask, type PerformContext } from '../../src/index.js';
import { type Prisma, PrismaClient } from '../adapters/prisma/generated/client.js';

declare const shipping: { ship(orderId: number, options: { signal: AbortSignal }): Promise<void> };

describe('docs/integrations.md examples compile', () => {
  it('postgres.js', async () => {
    const sql = postgres(process.env.DATABASE_URL!);
    const OrderClient = {
      async fulfill(args: { orderId: number }, ctx: PerformContext<TransactionSql>) {
        await shipping.ship(args.orderId, { signal: ctx.signal });
        await ctx.tx`UPDATE orders SET shipped_at = now() WHERE id = ${args.orderId}`;
      },
    };
    const asyncTask = createAsyncTask({ db: postgresJsDriver(sql), targets: { OrderClient } });
    await sql.begin(async (sql) => {
      const [order] = await sql`INSERT INTO orders (item) VALUES ('kettle') RETURNING id`;
      await asyncTask.enqueue(sql, 'OrderClient', 'fulfill', { orderId: order!.id }, { idempotenceToken: 'x' });
    });
  });

  it('kysely', async () => {
    interface DB {
      orders: { id: Generated<number>; item: string; shippedAt: Date | null };
    }
    const db = new Kysely<DB>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) }),
    });
    const OrderClient = {
      async fulfill(args: { orderId: number }, ctx: PerformContext<Transaction<DB>>) {
        await ctx.tx.updateTable('orders').set({ shippedAt: new Date() }).where('id', '=', args.orderId).execute();
      },
    };
    const asyncTask = createAsyncTask({ db: kyselyDriver(db), targets: { OrderClient } });
    await db.transaction().execute(async (trx) => {
      const order = await trx.insertInto('orders').values({ item: 'kettle' }).returning('id').executeTakeFirstOrThrow();
      await asyncTask.enqueue(trx, 'OrderClient', 'fulfill', { orderId: order.id });
    });
  });

  it('drizzle (node-postgres)', async () => {
    const schema = {
      orders: pgTable('orders', {
        id: serial('id').primaryKey(),
        item: pgText('item').notNull(),
        qty: pgInteger('qty'),
        shippedAt: timestamp('shipped_at'),
      }),
    };
    const db = drizzle({ connection: process.env.DATABASE_URL!, schema });
    type Tx = Parameters<Parameters<typeof db.transaction>[0]>[0];
    const OrderClient = {
      async fulfill(args: { orderId: number }, ctx: PerformContext<Tx>) {
        await ctx.tx.update(schema.orders).set({ shippedAt: new Date() }).where(eq(schema.orders.id, args.orderId));
      },
    };
    const asyncTask = createAsyncTask({ db: drizzleDriver(db), targets: { OrderClient } });
    await db.transaction(async (tx) => {
      const [order] = await tx.insert(schema.orders).values({ item: 'kettle' }).returning();
      await asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: order!.id });
    });
  });

  it('drizzle (better-sqlite3)', () => {
    const schema = {
      orders: sqliteTable('orders', {
        id: integer('id').primaryKey({ autoIncrement: true }),
        item: text('item').notNull(),
        shippedAt: integer('shipped_at'),
      }),
    };
    const db = drizzleSqlite({ client: new Database('app.sqlite'), schema });
    type Tx = DrizzleSqliteTx<typeof db>;
    const OrderClient = {
      async fulfill(args: { orderId: number }, ctx: PerformContext<Tx>) {
        ctx.tx.update(schema.orders).set({ shippedAt: Date.now() }).where(eq(schema.orders.id, args.orderId)).run();
      },
    };
    const asyncTask = createAsyncTask({ db: drizzleSqliteDriver(db), targets: { OrderClient } });
    db.transaction((tx) => {
      const order = tx.insert(schema.orders).values({ item: 'kettle' }).returning().get();
      asyncTask.enqueueSync(tx, 'OrderClient', 'fulfill', { orderId: order.id });
    });
  });

  it('prisma', async () => {
    const prisma = new PrismaClient({ adapter: undefined as never });
    type Tx = Prisma.TransactionClient;
    expectTypeOf(prismaDriver(prisma).attemptInsert).parameter(0).toEqualTypeOf<Tx>();
    const Effects = {
      async record(args: { key: string }, ctx: PerformContext<Tx>) {
        await ctx.tx.effect.create({ data: { key: args.key } });
      },
    };
    const asyncTask = createAsyncTask({ db: prismaDriver(prisma), targets: { Effects } });
    await prisma.$transaction(async (tx) => {
      const effect = await tx.effect.create({ data: { key: 'kettle' } });
      await asyncTask.enqueue(tx, 'Effects', 'record', { key: `after-${effect.id}` });
    });
  });

  it('knex', async () => {
    const knex = knexFactory({ client: 'pg', connection: process.env.DATABASE_URL });
    const OrderClient = {
      async fulfill(args: { orderId: number }, ctx: PerformContext<Knex.Transaction>) {
        await ctx.tx('orders').where({ id: args.orderId }).update({ shipped_at: knex.fn.now() });
      },
    };
    const asyncTask = createAsyncTask({ db: knexDriver(knex), targets: { OrderClient } });
    await knex.transaction(async (trx) => {
      const [order] = await trx('orders').insert({ item: 'kettle' }).returning('id');
      await asyncTask.enqueue(trx, 'OrderClient', 'fulfill', { orderId: order.id });
    });
  });

  it('MySQL and MariaDB: Kysely', async () => {
    interface DB {
      orders: { id: number };
    }
    const OrderClient = {
      async fulfill(args: { orderId: number }, ctx: PerformContext<Transaction<DB>>) {
        await ctx.tx.updateTable('orders').set({ id: args.orderId }).where('id', '=', args.orderId).execute();
      },
    };
    const id = 1;
    const db = new Kysely<DB>({ dialect: new MysqlDialect({ pool: createPool({ uri: process.env.DATABASE_URL }) }) });
    const asyncTask = createAsyncTask({ db: kyselyMysqlDriver(db), targets: { OrderClient } });
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('orders').values({ id }).execute();
      await asyncTask.enqueue(trx, 'OrderClient', 'fulfill', { orderId: id });
    });
    expectTypeOf(asyncTask.enqueue).parameter(0).toEqualTypeOf<Transaction<DB>>();
  });
});
