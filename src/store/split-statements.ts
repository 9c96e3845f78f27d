/**
 * Splits a SQL script into statements at semicolons outside quotes, comments and PostgreSQL
 * dollar-quoted bodies, for tools that run one statement at a time (better-sqlite3's `prepare`,
 * Drizzle's statement breakpoints). Chunks holding only comments are dropped; a chunk keeps the
 * comments that precede its statement.
 */
export function splitStatements(script: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  const push = (end: number) => {
    const text = script.slice(start, end).trim();
    if (stripComments(text).trim()) statements.push(text);
    start = end + 1;
  };
  while (i < script.length) {
    const char = script[i];
    const next = script[i + 1];
    if (char === "'" || char === '"') {
      i = script.indexOf(char, i + 1);
      // A doubled quote inside a literal is an escaped quote: the scan resumes after it.
      if (i === -1) break;
      i++;
    } else if (char === '-' && next === '-') {
      const end = script.indexOf('\n', i);
      i = end === -1 ? script.length : end + 1;
    } else if (char === '/' && next === '*') {
      const end = script.indexOf('*/', i + 2);
      i = end === -1 ? script.length : end + 2;
    } else if (char === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(script.slice(i))?.[0];
      if (tag) {
        const end = script.indexOf(tag, i + tag.length);
        i = end === -1 ? script.length : end + tag.length;
      } else i++;
    } else if (char === ';') {
      push(i);
      i++;
    } else i++;
  }
  push(script.length);
  return statements;
}

function stripComments(text: string): string {
  return text.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
}

/** Removes the common indentation of a statement's continuation lines (its first line is already trimmed). */
export function dedentStatement(statement: string): string {
  const lines = statement.split('\n');
  const rest = lines.slice(1).filter((line) => line.trim());
  if (rest.length === 0) return statement;
  const indent = Math.min(...rest.map((line) => line.length - line.trimStart().length));
  return lines.map((line, index) => (index === 0 ? line : line.slice(indent))).join('\n');
}
