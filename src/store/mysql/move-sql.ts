import { inList } from './in-list.js';
import { type MysqlQueryable, run } from './mysql-client.js';
import { byId, type MysqlTables } from './mysql-names.js';
import { NOW, STORED_COLUMNS } from './mysql-row.js';

/**
 * Moves the hot rows `ids` (already locked by the caller's transaction) into the history with `status`, completed
 * now, the lease cleared; `lastError` is an SQL expression over the moved row (a placeholder's value comes first in
 * `lastErrorValues`). Two statements of the caller's transaction: the insert, then the delete.
 */
export async function moveToHistory(
  tx: MysqlQueryable,
  tables: MysqlTables,
  ids: readonly string[],
  status: string,
  lastError = 'last_error',
  lastErrorValues: readonly unknown[] = [],
): Promise<void> {
  if (ids.length === 0) return;
  const list = inList(ids);
  await run(
    tx,
    `INSERT INTO ${tables.history} (${STORED_COLUMNS})
     SELECT id, idempotence_token, ?, target, method_name, method_args, encryptor, num_attempts,
       scheduled_at, ${NOW}, created_at, ${NOW}, ${lastError}, NULL, NULL
     FROM ${byId(tables.hot)} WHERE id IN (${list.sql})`,
    [status, ...lastErrorValues, ...list.values],
  );
  await run(tx, `DELETE h FROM ${byId(tables.hot, 'h')} WHERE h.id IN (${list.sql})`, list.values);
}

/** A completed attempt (locked by the caller) back into the hot table with its id, pending and due now. */
export async function moveToHot(tx: MysqlQueryable, tables: MysqlTables, id: string): Promise<boolean> {
  const inserted = await run<{ affectedRows: number }>(
    tx,
    `INSERT INTO ${tables.hot} (${STORED_COLUMNS})
     SELECT id, idempotence_token, 'pending', target, method_name, method_args, encryptor, num_attempts,
       ${NOW}, NULL, created_at, ${NOW}, last_error, NULL, NULL
     FROM ${tables.history} WHERE id = ?`,
    [id],
  );
  if (inserted.affectedRows === 0) return false;
  await run(tx, `DELETE FROM ${tables.history} WHERE id = ?`, [id]);
  return true;
}
