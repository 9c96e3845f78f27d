import { Command } from 'commander';
import type { Attempt } from '../../core/types.js';
import { contextOf, withAsyncTask } from '../context.js';
import { positiveInt, withExamples } from '../help.js';
import { type Colors, colorStatus, formatAge, terminalText } from '../output.js';
import { addFilterOptions, type FilterOptions, toListOptions } from './attempt-filters.js';

interface ListFlags extends FilterOptions {
  limit: number;
  cursor?: string;
  json?: boolean;
}

function firstLine(text: string | null): string {
  return text ? (text.split('\n')[0] ?? '') : '';
}

export function attemptRow(colors: Colors, attempt: Attempt, now: number): string[] {
  const due = attempt.status === 'pending' ? (attempt.scheduledAt ?? attempt.createdAt) : null;
  const dueText = due === null ? '' : due.getTime() <= now ? 'now' : `in ${formatAge(due.getTime() - now)}`;
  return [
    attempt.id,
    colorStatus(colors, attempt.status),
    terminalText(`${attempt.target}.${attempt.methodName}`),
    String(attempt.numAttempts),
    dueText,
    `${formatAge(now - attempt.createdAt.getTime())} ago`,
    colors.dim(terminalText(firstLine(attempt.lastError))),
  ];
}

export function attemptsListCommand(): Command {
  const command = addFilterOptions(new Command('list').description('list attempts, newest first'))
    .option('-n, --limit <n>', 'how many (at most 1000)', positiveInt, 50)
    .option('--cursor <id>', 'continue after this id (the "next" hint of the previous page)')
    .option('--json', 'print {attempts, nextCursor} as JSON')
    .action(async (options: ListFlags, self: Command) => {
      const context = contextOf(self);
      await withAsyncTask(context, async ({ asyncTask }) => {
        const page = await asyncTask.list({ ...toListOptions(options), limit: options.limit, cursor: options.cursor });
        // The stored (maybe encrypted) arguments stay out: `attempts show` decodes them.
        if (options.json) {
          const attempts = page.attempts.map(({ methodArgs: _stored, ...attempt }) => attempt);
          return context.out.json({ attempts, nextCursor: page.nextCursor });
        }
        if (page.attempts.length === 0) return context.out.note('No attempts match.');
        const now = Date.now();
        context.out.table(
          ['id', 'status', 'target.method', 'runs', 'due', 'created', 'last error'],
          page.attempts.map((attempt) => attemptRow(context.out.colors, attempt, now)),
        );
        if (page.nextCursor) context.out.note(`More: async-task attempts list --cursor ${page.nextCursor}`);
      });
    });
  return withExamples(command, [
    ['async-task attempts list', 'the 50 newest attempts'],
    ['async-task attempts list --status failed --target OrderClient', 'failed attempts of one target'],
    ['async-task attempts list --json | jq ".attempts[].id"', 'ids for a script'],
  ]);
}
