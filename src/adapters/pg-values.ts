/**
 * Parameters as every PostgreSQL client sends them alike: a `Date` as ISO 8601 text, since some
 * clients (postgres.js after Drizzle configured it) no longer serialize dates themselves.
 */
export function toPgParams(values: readonly unknown[] | undefined): unknown[] {
  return (values ?? []).map((value) => (value instanceof Date ? value.toISOString() : value));
}

/** The `{ rows, rowCount }` the PostgreSQL store reads, from a client's rows. */
export function pgResult(
  rows: readonly unknown[],
  rowCount?: number | bigint | null,
): { rows: any[]; rowCount: number } {
  return { rows: [...rows], rowCount: rowCount === undefined || rowCount === null ? rows.length : Number(rowCount) };
}
