import { Command } from 'commander';
import { ATTEMPT_STATUSES } from '../../core/types.js';
import { hasStats } from '../../store/stats.js';
import { contextOf, withAsyncTask } from '../context.js';
import { CliError } from '../errors.js';
import { positiveInt, withExamples } from '../help.js';
import { colorStatus, formatAge } from '../output.js';

export function statsCommand(): Command {
  const command = new Command('stats')
    .description('counts by status, the oldest due pending attempt, and throughput per minute')
    .option('-w, --window <minutes>', 'minutes of throughput to show (at most 1440)', positiveInt, 5)
    .option('--json', 'print the numbers as JSON')
    .action(async (options: { window: number; json?: boolean }, self: Command) => {
      const context = contextOf(self);
      const windowMinutes = Math.min(options.window, 1440);
      await withAsyncTask(context, async ({ store, where }) => {
        if (!hasStats(store)) throw new CliError(`The ${store.dialect} driver in use has no stats`);
        const stats = await store.attemptStats({ windowMinutes });
        if (options.json) return context.out.json({ table: store.tableName, windowMinutes, ...stats });
        const { colors } = context.out;
        context.out.line(`${colors.bold(store.tableName)} ${colors.dim(where)}`);
        context.out.table(
          ['status', 'attempts'],
          ATTEMPT_STATUSES.map((status) => [colorStatus(colors, status), String(stats.counts[status])]),
        );
        const oldest = stats.oldestDuePendingAgeMs;
        context.out.line(
          `due now: ${stats.duePending} (${stats.retryingPending} retrying); oldest due pending: ${oldest === null ? 'none' : `waiting ${formatAge(oldest)}`}`,
        );
        const total = stats.throughput.reduce((sum, minute) => sum + minute.succeeded + minute.failed, 0);
        context.out.line(
          `throughput, last ${windowMinutes} min: ${total} completed (${(total / windowMinutes).toFixed(1)}/min)`,
        );
        // A table per minute helps for a few minutes; past that the total above says it.
        if (windowMinutes > 15) return;
        context.out.table(
          ['minute', 'succeeded', 'failed'],
          stats.throughput.map((minute) => [
            minute.minute.toISOString().slice(11, 16),
            String(minute.succeeded),
            minute.failed > 0 ? colors.red(String(minute.failed)) : '0',
          ]),
        );
      });
    });
  return withExamples(command, [
    ['async-task stats', 'the numbers now'],
    ['async-task stats --window 60', 'throughput over the last hour'],
    ['watch -n 5 async-task stats', 'keep watching'],
    ['async-task stats --json', 'for a monitoring script'],
  ]);
}
