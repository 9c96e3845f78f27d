import Table from 'cli-table3';
import pc from 'picocolors';
import type { AttemptStatus, Logger } from '../core/types.js';
import { formatDuration } from '../dashboard/format.js';

export type Colors = ReturnType<typeof pc.createColors>;

/** Where a command writes: stdout for results, stderr for progress and messages. */
export interface Output {
  readonly colors: Colors;
  readonly isTty: boolean;
  /** Terminal width, or 120 when not a terminal. */
  readonly width: number;
  line(text?: string): void;
  json(value: unknown): void;
  /** A message for the person (stderr), so stdout stays clean for pipes. */
  note(text: string): void;
  table(head: readonly string[], rows: readonly (readonly string[])[], options?: TableOptions): void;
}

export interface TableOptions {
  /** Index of the column that shrinks first when the terminal is narrow. Default: the last. */
  readonly flexColumn?: number;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters it neutralises.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the colour codes picocolors writes.
const SGR = /(\u001b\[[0-9;]*m)/;

/**
 * Stored text made safe for a terminal: control characters (ESC, CR, C1 codes such as CSI, bidi overrides)
 * become visible `\u001b`-style escapes, so a `last_error`, target or token cannot move the cursor, retitle the
 * window, plant a hyperlink or hide text. Newlines and tabs stay.
 */
export function terminalText(text: string): string {
  return text.replace(CONTROL, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Escapes everything but colour codes (when colour is on): a second guard behind `terminalText` at the sources. */
function guard(text: string, keepColors: boolean): string {
  if (!keepColors) return terminalText(text);
  return text
    .split(SGR)
    .map((part, index) => (index % 2 === 1 ? part : terminalText(part)))
    .join('');
}

/** Colour only when stdout is a terminal, NO_COLOR is unset and `--no-color` was not given. */
export function createOutput(options: { color: boolean }): Output {
  const isTty = Boolean(process.stdout.isTTY);
  const colorOn = Boolean(options.color && isTty && !process.env.NO_COLOR);
  const colors = pc.createColors(colorOn);
  const width = isTty ? Math.max(60, process.stdout.columns ?? 120) : 120;
  return {
    colors,
    isTty,
    width,
    line: (text = '') => process.stdout.write(`${guard(text, colorOn)}\n`),
    json: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    note: (text) => process.stderr.write(`${guard(text, colorOn)}\n`),
    table(head, rows, tableOptions = {}) {
      const widths = fitColumns(head, rows, width, tableOptions.flexColumn ?? head.length - 1);
      const table = new Table({
        head: head.map((title) => colors.bold(title)),
        colWidths: widths,
        style: { head: [], border: [], compact: true },
        truncate: '…',
      });
      for (const row of rows) table.push(row.map((cell) => guard(cell, colorOn)));
      process.stdout.write(`${table.toString()}\n`);
    },
  };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes to measure text.
const visible = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '').length;

/** Column widths (padding and borders included) that fit `width`, shrinking the flex column first, then the widest. */
function fitColumns(head: readonly string[], rows: readonly (readonly string[])[], width: number, flex: number) {
  const widths = head.map((title, index) =>
    Math.max(visible(title), ...rows.map((row) => Math.max(...(row[index] ?? '').split('\n').map(visible)))),
  );
  const padded = () => widths.reduce((sum, w) => sum + w + 2, 0) + widths.length + 1;
  const minimum = 6;
  if (padded() > width && widths[flex] !== undefined) {
    widths[flex] = Math.max(minimum, widths[flex] - (padded() - width));
  }
  while (padded() > width) {
    const widest = widths.indexOf(Math.max(...widths));
    if ((widths[widest] ?? 0) <= minimum) break;
    widths[widest] = (widths[widest] ?? 0) - 1;
  }
  return widths.map((w) => w + 2);
}

export function colorStatus(colors: Colors, status: AttemptStatus): string {
  if (status === 'succeeded') return colors.green(status);
  if (status === 'failed') return colors.red(status);
  if (status === 'expired') return colors.gray(status);
  return colors.yellow(status);
}

/** `3m 12s ago`-style ages for tables; exact ISO times go to --json. */
/** How long ago or how far behind: the dashboard's wording. */
export const formatAge = formatDuration;

export function formatTime(date: Date | null): string {
  if (date && !Number.isFinite(date.getTime())) return 'unreadable time';
  return date
    ? date
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')
    : '';
}

/** The CLI's logger: warnings and errors on stderr; info too for long-running commands; debug with --verbose. */
export function createCliLogger(options: { verbose: boolean; info: boolean }): Logger {
  const write = (level: string, message: string, fields?: Record<string, unknown>) =>
    process.stderr.write(
      `${level} ${guard(message, true)}${fields && Object.keys(fields).length ? ` ${terminalText(JSON.stringify(fields))}` : ''}\n`,
    );
  return {
    debug: (message, fields) => options.verbose && write('debug', message, fields),
    info: (message, fields) => (options.info || options.verbose) && write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
  };
}
