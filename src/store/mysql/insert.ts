import { InvalidArgumentsError } from '../../core/errors.js';
import type { Attempt } from '../../core/types.js';
import type { InsertResult, NewAttempt } from '../store.js';
import { ER_DUP_ENTRY, errnoOf, type MysqlQueryable, run } from './mysql-client.js';
import type { MysqlTables } from './mysql-names.js';
import { type AttemptRow, columns, NOW, toAttempt, utcText } from './mysql-row.js';

/** The column lengths of migration 1, in characters (code points, as MySQL counts them). */
const LIMITS = { target: 255, methodName: 255, encryptor: 255, idempotenceToken: 255 } as const;

/**
 * Refuses what MySQL would otherwise truncate (outside strict mode, silently): two long tokens cut to one prefix
 * would be one attempt.
 */
function checkLengths(attempt: NewAttempt): void {
  for (const [field, limit] of Object.entries(LIMITS) as [keyof typeof LIMITS, number][]) {
    const value = attempt[field];
    if (value !== null && [...value].length > limit) {
      throw new InvalidArgumentsError(`${field} is longer than ${limit} characters, the limit on MySQL`);
    }
  }
}

/** The attempt `id` wherever it is, locked for share: a locking read sees the latest commit, not the snapshot. */
async function findShared(tx: MysqlQueryable, tables: MysqlTables, id: string): Promise<Attempt | null> {
  for (const table of [tables.hot, tables.history]) {
    const rows = await run<AttemptRow[]>(tx, `SELECT ${columns()} FROM ${table} WHERE id = ? LOCK IN SHARE MODE`, [id]);
    if (rows[0]) return toAttempt(rows[0]);
  }
  return null;
}

/**
 * Inserts one attempt inside the application's transaction `tx`. Without a token: the row, then reads it back.
 * With one: the row, then its key; a key already there (committed, or written earlier in this transaction) fails
 * the key's insert alone (MySQL undoes the failed statement, not the transaction), and the row is taken back. A
 * racing uncommitted key makes the insert wait for that transaction: its commit means "exists", its rollback
 * lets this one through.
 */
export async function insertAttempt(
  tx: MysqlQueryable,
  tables: MysqlTables,
  attempt: NewAttempt,
): Promise<InsertResult> {
  checkLengths(attempt);
  const scheduledAt = attempt.scheduledAt === null ? null : utcText(attempt.scheduledAt);
  for (let tries = 0; tries < 3; tries++) {
    await run(
      tx,
      `INSERT INTO ${tables.hot}
         (target, method_name, method_args, encryptor, idempotence_token, scheduled_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ${NOW}, ${NOW})`,
      [
        attempt.target,
        attempt.methodName,
        attempt.methodArgs,
        attempt.encryptor,
        attempt.idempotenceToken,
        scheduledAt,
      ],
    );
    if (attempt.idempotenceToken !== null) {
      try {
        await run(
          tx,
          `INSERT INTO ${tables.keys} (target, method_name, idempotence_token, id) VALUES (?, ?, ?, LAST_INSERT_ID())`,
          [attempt.target, attempt.methodName, attempt.idempotenceToken],
        );
      } catch (error) {
        if (errnoOf(error) !== ER_DUP_ENTRY) throw error;
        await run(tx, `DELETE FROM ${tables.hot} WHERE id = LAST_INSERT_ID()`);
        const existing = await findExisting(tx, tables, attempt);
        if (existing) return { attempt: existing, created: false };
        // The key was pruned between the two statements: try again.
        continue;
      }
    }
    const rows = await run<AttemptRow[]>(tx, `SELECT ${columns()} FROM ${tables.hot} WHERE id = LAST_INSERT_ID()`);
    return { attempt: toAttempt(rows[0] as AttemptRow), created: true };
  }
  throw new Error(`async-task: the idempotence key of ${attempt.idempotenceToken} kept changing`);
}

async function findExisting(tx: MysqlQueryable, tables: MysqlTables, attempt: NewAttempt): Promise<Attempt | null> {
  const [key] = await run<{ id: string }[]>(
    tx,
    `SELECT CAST(id AS CHAR) AS id FROM ${tables.keys}
     WHERE target = ? AND method_name = ? AND idempotence_token = ? LOCK IN SHARE MODE`,
    [attempt.target, attempt.methodName, attempt.idempotenceToken],
  );
  return key ? findShared(tx, tables, key.id) : null;
}

/** Row counts of one multi-row INSERT: a batch is split into these, so few statement texts are prepared. */
const CHUNKS = [256, 128, 64, 32, 16, 8, 4, 2, 1];

/**
 * Inserts attempts without tokens in multi-row statements, results in input order. Only where the server gives one
 * statement's rows consecutive ids (`innodb_autoinc_lock_mode` 0 or 1: MariaDB's default): the rows are read back
 * by the id range from `LAST_INSERT_ID()`, and checked against the inputs.
 */
export async function insertUntokened(
  tx: MysqlQueryable,
  tables: MysqlTables,
  attempts: readonly NewAttempt[],
): Promise<InsertResult[]> {
  const results: InsertResult[] = [];
  let start = 0;
  while (start < attempts.length) {
    const size = CHUNKS.find((chunk) => chunk <= attempts.length - start) as number;
    const chunk = attempts.slice(start, start + size);
    start += size;
    for (const attempt of chunk) checkLengths(attempt);
    await run(
      tx,
      `INSERT INTO ${tables.hot} (target, method_name, method_args, encryptor, scheduled_at, created_at, updated_at)
       VALUES ${chunk.map(() => `(?, ?, ?, ?, ?, ${NOW}, ${NOW})`).join(', ')}`,
      chunk.flatMap((attempt) => [
        attempt.target,
        attempt.methodName,
        attempt.methodArgs,
        attempt.encryptor,
        attempt.scheduledAt === null ? null : utcText(attempt.scheduledAt),
      ]),
    );
    const rows = await run<AttemptRow[]>(
      tx,
      `SELECT ${columns()} FROM ${tables.hot} AS t
       WHERE t.id BETWEEN LAST_INSERT_ID() AND LAST_INSERT_ID() + ? ORDER BY t.id`,
      [size - 1],
    );
    const inserted = rows.map(toAttempt);
    const same = (attempt: Attempt | undefined, input: NewAttempt) =>
      attempt?.target === input.target &&
      attempt.methodName === input.methodName &&
      attempt.methodArgs === input.methodArgs &&
      attempt.idempotenceToken === null;
    if (inserted.length !== size || !chunk.every((input, index) => same(inserted[index], input))) {
      throw new Error('async-task: a multi-row insert did not get consecutive ids (innodb_autoinc_lock_mode 2?)');
    }
    for (const attempt of inserted) results.push({ attempt, created: true });
  }
  return results;
}
