import { errorText } from '../../core/error-text.js';
import { TransactionAbortedError } from '../../core/errors.js';
import type { AttemptScope } from '../worker-store.js';
import {
  control,
  ER_LOCK_DEADLOCK,
  ER_LOCK_WAIT_TIMEOUT,
  errnoOf,
  type MysqlPoolConnectionLike,
  type MysqlQueryable,
  run,
} from './mysql-client.js';

/** ER_UNKNOWN_SYSTEM_VARIABLE: MySQL has no `@@in_transaction` (MariaDB has). */
const ER_UNKNOWN_SYSTEM_VARIABLE = 1193;

/** Errors after which InnoDB may have rolled back the whole transaction, not just the statement. */
const ABORTING = new Set([ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT]);

/** Methods that would end the perform transaction behind the library's back (MySQL commits on a new BEGIN). */
const TRANSACTION_CONTROL = new Set(['beginTransaction', 'commit', 'rollback', 'changeUser']);

/**
 * Statements that end the transaction they run in: transaction control, and DDL, which MySQL commits implicitly
 * (temporary tables excepted). On `ctx.tx` they would commit the attempt's writes before its outcome.
 */
const ENDS_TRANSACTION =
  /^\s*(START\s+TRANSACTION|BEGIN|COMMIT|ROLLBACK(?!\s+(WORK\s+)?TO\b)|SET\s+(SESSION\s+)?AUTOCOMMIT|LOCK\s+TABLES?|UNLOCK\s+TABLES?|CREATE\s+(?!TEMPORARY\b)|ALTER\s|DROP\s+(?!TEMPORARY\b)|RENAME\s|TRUNCATE\s)/i;

/** What a store's scopes learn about the server once. */
export interface ProbeState {
  inTransactionUnknown: boolean;
}

/**
 * The scope of one attempt's writes inside a perform transaction: its savepoint opened on the target's first
 * statement; `ctx.tx` is the connection behind a proxy that watches failed statements and refuses the ones that
 * would end the transaction.
 */
export function mysqlAttemptScope(
  tx: MysqlPoolConnectionLike,
  state: ProbeState,
): AttemptScope<MysqlPoolConnectionLike> {
  let opened = false;
  /** The last statement of the target's that failed, and whether it may have ended the transaction. */
  let failed: unknown;
  let aborted = false;
  const open = () => {
    opened = true;
    return control(tx, 'SAVEPOINT async_task_attempt');
  };
  const watch = (method: 'query' | 'execute') => {
    // mysql2 also takes an options object (`{ sql, … }`) where the seam's type says text.
    const original = tx[method]?.bind(tx) as ((...args: unknown[]) => Promise<[any, any]>) | undefined;
    if (!original) return undefined;
    return (...args: [string | { sql?: unknown }, unknown?]) => {
      const sql = typeof args[0] === 'string' ? args[0] : args[0]?.sql;
      if (typeof sql === 'string' && ENDS_TRANSACTION.test(sql)) {
        failed = new TransactionAbortedError(
          `ctx.tx refused ${JSON.stringify(sql.trim().slice(0, 40))}: MySQL would commit the attempt's transaction`,
        );
        aborted = true;
        return Promise.reject(failed);
      }
      // mysql2 runs a connection's commands in order: the savepoint is in place before this statement.
      if (!opened) open().catch(() => {});
      return original(...args).then(undefined, (error: unknown) => {
        failed = error;
        const errno = errnoOf(error);
        if (errno === undefined || ABORTING.has(errno)) aborted = true;
        throw error;
      });
    };
  };
  const query = watch('query');
  const execute = watch('execute');
  const scoped = new Proxy(tx, {
    get(target, property) {
      if (property === 'query') return query;
      if (property === 'execute') return execute;
      if (typeof property === 'string' && TRANSACTION_CONTROL.has(property)) {
        return () => {
          throw new TransactionAbortedError(`ctx.tx.${property}() would end the attempt's transaction`);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const probe = async (cause: unknown) => {
    let open = true;
    try {
      open = await inTransaction(tx, state);
    } catch (error) {
      throw new TransactionAbortedError(errorText(cause ?? error), { cause: cause ?? error });
    }
    if (!open) {
      throw new TransactionAbortedError(cause === undefined ? 'the transaction was rolled back' : errorText(cause), {
        cause,
      });
    }
  };
  return {
    tx: scoped,
    begin: async () => {},
    open: async () => {
      if (!opened) await open();
    },
    rollback: async () => {
      if (opened) await control(tx, 'ROLLBACK TO SAVEPOINT async_task_attempt');
    },
    // A failed statement leaves a MySQL transaction usable, unless InnoDB rolled it back whole (a deadlock, a
    // lock wait timeout under innodb_rollback_on_timeout) or the connection failed: then nothing may commit.
    check: async () => {
      if (failed === undefined) return;
      if (aborted) throw new TransactionAbortedError(errorText(failed), { cause: failed });
      await probe(failed);
    },
    probe: () => probe(undefined),
  };
}

/** Whether the connection is still inside a transaction (MariaDB says; on MySQL, whether it answers at all). */
async function inTransaction(tx: MysqlQueryable, state: ProbeState): Promise<boolean> {
  if (!state.inTransactionUnknown) {
    try {
      const [row] = await run<{ open: number | string }[]>(tx, 'SELECT @@in_transaction AS open');
      return Number(row?.open) === 1;
    } catch (error) {
      if (errnoOf(error) !== ER_UNKNOWN_SYSTEM_VARIABLE) throw error;
      state.inTransactionUnknown = true;
    }
  }
  await run(tx, 'SELECT 1 AS alive');
  return true;
}
