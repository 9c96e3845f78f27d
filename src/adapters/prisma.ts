import { type PgQueryable, PostgresStore, type PostgresStoreOptions } from '../store/postgres/postgres-store.js';
import type { Store } from '../store/store.js';
import { adaptStore } from './adapted-store.js';
import { pgResult, toPgParams } from './pg-values.js';

export type { PostgresStoreOptions } from '../store/postgres/postgres-store.js';

/** The part of a Prisma client (or interactive transaction client) the library uses. */
export interface PrismaQueryable {
  $queryRawUnsafe<T = unknown>(query: string, ...values: any[]): PromiseLike<T>;
  $executeRawUnsafe(query: string, ...values: any[]): PromiseLike<number>;
}

/** Prisma's interactive transaction options. */
export interface PrismaTransactionOptions {
  maxWait?: number;
  timeout?: number;
}

/** The part of a `PrismaClient` the library uses; `Tx` is its interactive transaction client. */
export interface PrismaLike<Tx extends PrismaQueryable> extends PrismaQueryable {
  $transaction<R>(fn: (tx: Tx) => PromiseLike<R>, options?: PrismaTransactionOptions): PromiseLike<R>;
}

export interface PrismaDriverOptions extends PostgresStoreOptions {
  /**
   * Options of the interactive transaction each perform runs in. Prisma ends a transaction that is
   * still open after `timeout` ms, so set it above your slowest target. Default: `{ timeout: 60_000 }`.
   */
  transactionOptions?: PrismaTransactionOptions;
}

function queryable(prisma: PrismaQueryable): PgQueryable {
  return {
    async query(text: string, values?: unknown[]) {
      const params = toPgParams(values);
      // Statements without parameters that read nothing (migrations: DDL, several statements at once) go
      // through $executeRawUnsafe; everything else through $queryRawUnsafe, which returns the rows.
      if (params.length === 0 && !/^\s*(SELECT|WITH)\b/i.test(text)) {
        const count = await prisma.$executeRawUnsafe(text);
        return pgResult([], count);
      }
      const rows = await prisma.$queryRawUnsafe<unknown[]>(text, ...params);
      return pgResult(rows);
    },
  };
}

/**
 * The PostgreSQL driver over a Prisma 7 client (with a PostgreSQL driver adapter such as
 * `@prisma/adapter-pg`). `enqueue` takes the client of an interactive transaction
 * (`prisma.$transaction(async (tx) => …)`); targets receive one as `ctx.tx`.
 */
export function prismaDriver<Tx extends PrismaQueryable>(
  prisma: PrismaLike<Tx>,
  options: PrismaDriverOptions = {},
): Store<Tx> {
  const { transactionOptions = { timeout: 60_000 }, ...storeOptions } = options;
  const transaction = <T>(fn: (tx: Tx) => Promise<T>): Promise<T> =>
    Promise.resolve(prisma.$transaction(fn, transactionOptions));
  const inner = new PostgresStore(
    { query: queryable(prisma).query, transaction: (fn) => transaction((tx) => fn(queryable(tx))) },
    storeOptions,
  );
  return adaptStore<Tx, PgQueryable>(inner, { unwrap: queryable, transaction });
}
