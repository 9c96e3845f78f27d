import type { TransactionOptions } from '../store.js';
import { control, type MysqlPoolConnectionLike, type MysqlPoolLike } from './mysql-client.js';

/**
 * Runs `fn` in a transaction on a connection of the pool: committed when it resolves, rolled back when it throws.
 * READ COMMITTED, as on PostgreSQL: locking reads take no gap locks (a claim never blocks an enqueue), and each
 * statement sees what others committed before it. A connection that failed, or that a timed-out target may still
 * hold (`abandonOnError`), is destroyed, not returned to the pool: the server rolls back what it had.
 */
export async function inOwnTransaction<T>(
  pool: MysqlPoolLike,
  fn: (tx: MysqlPoolConnectionLike) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const connection = await pool.getConnection();
  let broken = false;
  try {
    await control(connection, 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
    await control(connection, 'START TRANSACTION');
  } catch (error) {
    discard(connection);
    throw error;
  }
  try {
    const result = await fn(connection);
    await control(connection, 'COMMIT');
    return result;
  } catch (error) {
    if (options.abandonOnError?.(error)) {
      broken = true;
      throw error;
    }
    await control(connection, 'ROLLBACK').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    if (broken) discard(connection);
    else connection.release();
  }
}

function discard(connection: MysqlPoolConnectionLike): void {
  if (connection.destroy) connection.destroy();
  else connection.release();
}
