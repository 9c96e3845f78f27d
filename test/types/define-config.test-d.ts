import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import { describe, expectTypeOf, it } from 'vitest';
import { kyselyDriver } from '../../src/adapters/kysely.js';
import { defineConfig } from '../../src/cli/config/define-config.js';
import { postgres } from '../../src/drivers/postgres.js';
import { sqlite } from '../../src/drivers/sqlite.js';
import type { PerformContext } from '../../src/index.js';

interface DB {
  orders: { id: number };
}

const kyselyTarget = {
  async fulfill(_args: { orderId: number }, _ctx: PerformContext<Transaction<DB>>) {},
};
const pgTarget = {
  async fulfill(_args: { orderId: number }, _ctx: PerformContext<pg.PoolClient>) {},
};
const anyTxTarget = {
  async fulfill(_args: { orderId: number }, _ctx: PerformContext) {},
  async ping(_args: { at: string }) {},
};

const kysely = (url: string) =>
  new Kysely<DB>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url }) }) });

describe("defineConfig: targets' ctx.tx is the driver's transaction", () => {
  it("accepts targets typed with the driver's transaction, or with none", () => {
    const config = defineConfig({
      dialect: 'postgres',
      url: 'postgres://localhost/app',
      db: ({ url }) => kyselyDriver(kysely(url)),
      targets: { Orders: kyselyTarget, Any: anyTxTarget },
    });
    expectTypeOf(config.targets.Orders).toEqualTypeOf(kyselyTarget);
    defineConfig({
      dialect: 'postgres',
      db: ({ url }) => postgres(new pg.Pool({ connectionString: url })),
      targets: { Orders: pgTarget, Any: anyTxTarget },
    });
    // Without db the CLI opens pg or better-sqlite3 itself: any target is accepted.
    defineConfig({ dialect: 'postgres', url: 'postgres://localhost/app', targets: { Orders: pgTarget } });
  });

  it('rejects a target whose ctx.tx is another driver’s transaction', () => {
    defineConfig({
      dialect: 'postgres',
      db: ({ url }) => postgres(new pg.Pool({ connectionString: url })),
      // @ts-expect-error a Kysely target under the pg driver: ctx.tx would be a pg client
      targets: { Orders: kyselyTarget },
    });
    defineConfig({
      dialect: 'postgres',
      db: ({ url }) => kyselyDriver(kysely(url)),
      // @ts-expect-error a pg target under the Kysely driver
      targets: { Orders: pgTarget },
    });
    defineConfig({
      dialect: 'sqlite',
      db: ({ url }) => sqlite(new Database(url)),
      // @ts-expect-error a Kysely target under better-sqlite3
      targets: { Orders: kyselyTarget },
    });
  });
});
