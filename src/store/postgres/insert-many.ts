import type { Attempt } from '../../core/types.js';
import type { InsertResult, NewAttempt } from '../store.js';
import type { PostgresNames } from './migrations.js';
import type { PgQueryable } from './pg-client.js';
import type { PostgresTables } from './pg-names.js';
import { type AttemptRow, prefixed, toAttempt } from './pg-row.js';

const keyOf = (target: string, method: string, token: string) => JSON.stringify([target, method, token]);

/** A new row as the insert wrote it: the input plus the database's id and time (the rest are defaults). */
function created(input: NewAttempt, id: string, createdAt: Date): Attempt {
  return {
    id,
    idempotenceToken: input.idempotenceToken,
    status: 'pending',
    target: input.target,
    methodName: input.methodName,
    methodArgs: input.methodArgs,
    encryptor: input.encryptor,
    numAttempts: 0,
    scheduledAt: input.scheduledAt,
    completedAt: null,
    createdAt,
    updatedAt: createdAt,
    lastError: null,
    leaseOwner: null,
    leaseExpiresAt: null,
  };
}

type Column = 'target' | 'methodName' | 'methodArgs' | 'encryptor' | 'idempotenceToken' | 'scheduledAt';
const COLUMNS_IN: readonly [Column, string, string][] = [
  ['target', 'target', 'text'],
  ['methodName', 'method_name', 'text'],
  ['methodArgs', 'method_args', 'text'],
  ['encryptor', 'encryptor', 'text'],
  ['idempotenceToken', 'idempotence_token', 'text'],
  ['scheduledAt', 'scheduled_at', 'timestamptz'],
];

const sameTime = (a: unknown, b: unknown) =>
  a === b || (a instanceof Date && b instanceof Date && a.getTime() === b.getTime());

/**
 * Inserts many attempts in one set-based statement inside `tx`. Returns them in input order; an input whose
 * idempotence token already exists (before, or earlier in this batch) gets the existing attempt, as `attemptInsert`
 * does. A column with one value for the whole batch (target, method, encryptor, due time: an `enqueueMany`) is
 * sent once; the others as one array each, unnested. One row comes back: the ids drawn for the inputs and the ids
 * inserted, as text, and the insert's time — no per-row result to parse.
 */
export async function insertMany(
  names: PostgresNames,
  tables: PostgresTables,
  tx: PgQueryable,
  attempts: readonly NewAttempt[],
): Promise<InsertResult[]> {
  if (attempts.length === 0) return [];
  const { hot, keys, ids } = tables;
  const values: unknown[] = [];
  const arrays: string[] = [];
  const arrayNames: string[] = [];
  const select = COLUMNS_IN.map(([key, column, type]) => {
    const first = (attempts[0] as NewAttempt)[key];
    if (attempts.every((attempt) => sameTime(attempt[key], first))) {
      values.push(first);
      return `$${values.length}::${type} AS ${column}`;
    }
    values.push(attempts.map((attempt) => attempt[key]));
    arrays.push(`$${values.length}::${type}[]`);
    arrayNames.push(column);
    return `i.${column}`;
  });
  const source =
    arrays.length > 0
      ? `unnest(${arrays.join(', ')}) WITH ORDINALITY AS i(${arrayNames.join(', ')}, n)`
      : `generate_series(1, ${attempts.length}) AS i(n)`;
  // Ids are drawn in input order up front; a row whose token is taken gets no key and is not inserted (its id is
  // skipped). A racing transaction with the same token makes this wait for its outcome.
  const { rows } = await tx.query(
    `WITH input AS MATERIALIZED (
       SELECT nextval('${ids}') AS id, i.n, ${select.join(', ')} FROM ${source} ORDER BY i.n
     ), key AS (
       INSERT INTO ${keys} (target, method_name, idempotence_token, id)
       SELECT target, method_name, idempotence_token, id FROM input WHERE idempotence_token IS NOT NULL
       ON CONFLICT DO NOTHING RETURNING id
     ), inserted AS (
       INSERT INTO ${hot} (id, target, method_name, method_args, encryptor, idempotence_token, scheduled_at)
       SELECT id, target, method_name, method_args, encryptor, idempotence_token, scheduled_at FROM input
       WHERE idempotence_token IS NULL OR id IN (SELECT id FROM key)
       RETURNING id
     )
     SELECT (SELECT string_agg(id::text, ',' ORDER BY n) FROM input) AS drawn,
       (SELECT string_agg(id::text, ',') FROM inserted) AS inserted, now() AS created_at`,
    values,
  );
  const row = rows[0] as { drawn: string; inserted: string | null; created_at: Date };
  const drawn = row.drawn.split(',');
  const inserted = new Set(row.inserted === null ? [] : row.inserted.split(','));
  const results: (InsertResult | undefined)[] = new Array(attempts.length);
  const conflicts: number[] = [];
  for (let index = 0; index < attempts.length; index++) {
    const id = drawn[index] as string;
    if (inserted.has(id)) {
      results[index] = { attempt: created(attempts[index] as NewAttempt, id, row.created_at), created: true };
    } else conflicts.push(index);
  }
  if (conflicts.length > 0) {
    const missing = conflicts.map((index) => attempts[index] as NewAttempt);
    // A new statement: it sees a racing transaction's commit, and each attempt wherever it is now.
    const existing = await tx.query(
      `SELECT ${prefixed('a')} FROM ${keys} AS k
       JOIN unnest($1::text[], $2::text[], $3::text[]) AS i(target, method_name, idempotence_token)
         USING (target, method_name, idempotence_token)
       JOIN ${names.table} AS a ON a.id = k.id`,
      [
        missing.map((attempt) => attempt.target),
        missing.map((attempt) => attempt.methodName),
        missing.map((attempt) => attempt.idempotenceToken),
      ],
    );
    const byToken = new Map<string, Attempt>();
    for (const found of existing.rows as AttemptRow[]) {
      const attempt = toAttempt(found);
      byToken.set(keyOf(attempt.target, attempt.methodName, attempt.idempotenceToken as string), attempt);
    }
    for (const index of conflicts) {
      const input = attempts[index] as NewAttempt;
      const attempt = byToken.get(keyOf(input.target, input.methodName, input.idempotenceToken as string));
      if (!attempt) throw new Error(`async-task: the idempotence key of ${input.idempotenceToken} names no attempt`);
      results[index] = { attempt, created: false };
    }
  }
  return results as InsertResult[];
}
