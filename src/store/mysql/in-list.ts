/**
 * The parameters of an `IN (…)` list of `items` (each a row of `width` values), padded to a power of two by
 * repeating the last item. The library's statements are prepared on the server, one per distinct text and
 * connection, and servers cap how many exist at once (`max_prepared_stmt_count`, 16382 by default): padding keeps
 * a list of up to n items to log2(n) texts. A repeated item changes nothing an `IN` selects.
 */
export function inList<T>(items: readonly T[], width = 1): { sql: string; values: T[] } {
  if (items.length === 0) throw new Error('async-task: an empty IN list');
  const rows = width === 1 ? items.map((item) => [item]) : chunk(items, width);
  let size = 1;
  while (size < rows.length) size *= 2;
  const padded = [...rows, ...Array.from({ length: size - rows.length }, () => rows[rows.length - 1] as T[])];
  const mark = width === 1 ? '?' : `(${Array.from({ length: width }, () => '?').join(', ')})`;
  return { sql: padded.map(() => mark).join(', '), values: padded.flat() };
}

function chunk<T>(items: readonly T[], width: number): T[][] {
  const rows: T[][] = [];
  for (let start = 0; start < items.length; start += width) rows.push(items.slice(start, start + width));
  return rows;
}
