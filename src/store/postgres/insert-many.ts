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

/**
 * Inserts many attempts in one statement (arrays unnested), inside `tx`. Returns them in input order;
 * an input whose idempotence token already exists gets the existing attempt, as `attemptInsert` does.
 * Only ids come back from the insert (the rest is known), which keeps large batches cheap.
 */
export async function insertMany(
  names: PostgresNames,
  tables: PostgresTables,
  tx: PgQueryable,
  attempts: readonly NewAttempt[],
): Promise<InsertResult[]> {
  if (attempts.length === 0) return [];
  const column = <K extends keyof NewAttempt>(key: K) => attempts.map((attempt) => attempt[key]);
  const { hot, keys, ids } = tables;
  // Ids are drawn in input order up front; a row whose token is taken (before, or earlier in this batch) gets no
  // key and is not inserted, so its id is skipped. A racing transaction with the same token makes this wait.
  const { rows } = await tx.query(
    `WITH input AS MATERIALIZED (
       SELECT nextval('${ids}') AS id, i.*
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
         AS i(target, method_name, method_args, encryptor, idempotence_token, scheduled_at)
     ), key AS (
       INSERT INTO ${keys} (target, method_name, idempotence_token, id)
       SELECT target, method_name, idempotence_token, id FROM input WHERE idempotence_token IS NOT NULL
       ON CONFLICT DO NOTHING RETURNING id
     )
     INSERT INTO ${hot} (id, target, method_name, method_args, encryptor, idempotence_token, scheduled_at)
     SELECT id, target, method_name, method_args, encryptor, idempotence_token, scheduled_at FROM input
     WHERE idempotence_token IS NULL OR id IN (SELECT id FROM key)
     RETURNING id, idempotence_token, created_at`,
    [
      column('target'),
      column('methodName'),
      column('methodArgs'),
      column('encryptor'),
      column('idempotenceToken'),
      column('scheduledAt'),
    ],
  );
  // Rows are inserted in the order unnest yields them: ids ascend in input order.
  const returned = (rows as { id: string; idempotence_token: string | null; created_at: Date }[]).sort((a, b) =>
    Number(BigInt(a.id) - BigInt(b.id)),
  );
  const results: (InsertResult | undefined)[] = new Array(attempts.length);
  let next = 0;
  const conflicts: number[] = [];
  const seen = new Map<string, number>();
  for (let index = 0; index < attempts.length; index++) {
    const input = attempts[index] as NewAttempt;
    const token = input.idempotenceToken;
    if (token !== null) {
      const key = keyOf(input.target, input.methodName, token);
      // A token repeated within the batch: the later ones return the first one's attempt.
      if (seen.has(key)) {
        conflicts.push(index);
        continue;
      }
      seen.set(key, index);
    }
    const row = returned[next];
    // The next inserted row is this input's when its token matches (the batch is one target and method);
    // otherwise this input's token already existed and nothing was inserted for it.
    if (row && row.idempotence_token === token) {
      next++;
      results[index] = { attempt: created(input, String(row.id), row.created_at), created: true };
    } else {
      conflicts.push(index);
    }
  }
  if (conflicts.length > 0) {
    const missing = conflicts.map((index) => attempts[index] as NewAttempt);
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
    for (const row of existing.rows as AttemptRow[]) {
      const attempt = toAttempt(row);
      byToken.set(keyOf(attempt.target, attempt.methodName, attempt.idempotenceToken as string), attempt);
    }
    for (const index of conflicts) {
      const input = attempts[index] as NewAttempt;
      const attempt = byToken.get(keyOf(input.target, input.methodName, input.idempotenceToken as string));
      results[index] = { attempt: attempt as Attempt, created: false };
    }
  }
  return results as InsertResult[];
}
