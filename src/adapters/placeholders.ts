/**
 * Rewrites PostgreSQL's numbered placeholders (`$1`, reusable) into positional `?` ones (Knex),
 * repeating a value wherever its number repeats. Literal `?` in the text is escaped for Knex.
 * Text without values is returned as it is: it may hold `$` of its own (dollar-quoted bodies).
 */
export function toQuestionMarks(text: string, values: readonly unknown[]): { text: string; values: unknown[] } {
  if (values.length === 0) return { text, values: [] };
  const ordered: unknown[] = [];
  const rewritten = text.replace(/\?/g, '\\?').replace(/\$(\d+)/g, (_match, digits: string) => {
    const index = Number(digits) - 1;
    if (index < 0 || index >= values.length) throw new RangeError(`placeholder $${digits} has no value`);
    ordered.push(values[index]);
    return '?';
  });
  return { text: rewritten, values: ordered };
}
