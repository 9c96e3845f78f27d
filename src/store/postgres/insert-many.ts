import type { Attempt } from '../../core/types.js';
import type { InsertResult, NewAttempt } from '../store.js';
import type { PostgresNames } from './migrations.js';
import { type AttemptRow, COLUMNS, type PgQueryable, toAttempt } from './postgres-store.js';

const keyOf = (target: string, method: string, token: string) => JSON.stringify([target, method, token]);

/**
 * Inserts many attempts in one statement (arrays unnested), inside `tx`. Returns them in input order;
 * an input whose idempotence token already exists gets the existing attempt, as `attemptInsert` does.
 */
export async function insertMany(
  names: PostgresNames,
  tx: PgQueryable,
  attempts: readonly NewAttempt[],
): Promise<InsertResult[]> {
  if (attempts.length === 0) return [];
  const column = <K extends keyof NewAttempt>(key: K) => attempts.map((attempt) => attempt[key]);
  const { rows } = await tx.query(
    `INSERT INTO ${names.table} (target, method_name, method_args, encryptor, idempotence_token, scheduled_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
     ON CONFLICT (target, method_name, idempotence_token) WHERE idempotence_token IS NOT NULL DO NOTHING
     RETURNING ${COLUMNS}`,
    [
      column('target'),
      column('methodName'),
      column('methodArgs'),
      column('encryptor'),
      column('idempotenceToken'),
      column('scheduledAt'),
    ],
  );
  const inserted = (rows as AttemptRow[]).map(toAttempt).sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
  const byToken = new Map<string, Attempt>();
  // Rows are inserted in the order unnest yields them, so untokened ones map back by id order.
  const untokened: Attempt[] = [];
  for (const attempt of inserted) {
    if (attempt.idempotenceToken === null) untokened.push(attempt);
    else byToken.set(keyOf(attempt.target, attempt.methodName, attempt.idempotenceToken), attempt);
  }
  const missing = attempts.filter(
    (attempt) =>
      attempt.idempotenceToken !== null &&
      !byToken.has(keyOf(attempt.target, attempt.methodName, attempt.idempotenceToken)),
  );
  if (missing.length > 0) {
    const existing = await tx.query(
      `SELECT ${COLUMNS} FROM ${names.table} AS t
       JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(target, method_name, idempotence_token)
         USING (target, method_name, idempotence_token)`,
      [
        missing.map((attempt) => attempt.target),
        missing.map((attempt) => attempt.methodName),
        missing.map((attempt) => attempt.idempotenceToken),
      ],
    );
    for (const row of existing.rows as AttemptRow[]) {
      const attempt = toAttempt(row);
      byToken.set(keyOf(attempt.target, attempt.methodName, attempt.idempotenceToken as string), attempt);
    }
  }
  const created = new Set(inserted);
  let next = 0;
  return attempts.map((attempt) => {
    const found =
      attempt.idempotenceToken === null
        ? untokened[next++]
        : byToken.get(keyOf(attempt.target, attempt.methodName, attempt.idempotenceToken));
    return { attempt: found as Attempt, created: created.has(found as Attempt) };
  });
}
