import { Command } from 'commander';
import { ATTEMPT_STATUSES } from '../../core/types.js';
import { contextOf, withAsyncTask } from '../context.js';
import { positiveInt, withExamples } from '../help.js';
import { colorStatus, formatAge } from '../output.js';

/** Exact counts up to this many rows per status; past it, the planner's estimate (marked `~`). */
const EXACT_COUNTS_UP_TO = 1_000_000;

interface Minute {
  minute: Date;
  succeeded: number;
  failed: number;
  expired: number;
}

export function statsCommand(): Command {
  const command = new Command('stats')
    .description('counts by status, the oldest due pending attempt, and throughput per minute')
    .option('-w, --window <minutes>', 'minutes of throughput to show (at most 1440)', positiveInt, 5)
    .option('--json', 'print the numbers as JSON')
    .action(async (options: { window: number; json?: boolean }, self: Command) => {
      const context = contextOf(self);
      const windowMinutes = Math.min(options.window, 1440);
      await withAsyncTask(context, async ({ store, where }) => {
        // The same read operations as the dashboard's overview, from the store layer.
        const queries = store.dashboardQueries();
        const now = Date.now();
        const firstMinute = now - (now % 60_000) - (windowMinutes - 1) * 60_000;
        const [counts, oldestDueAt, buckets] = await Promise.all([
          queries.dashboardStatusCounts(EXACT_COUNTS_UP_TO),
          queries.dashboardOldestDueAt(),
          queries.dashboardCompletions(new Date(firstMinute)),
        ]);
        const throughput: Minute[] = Array.from({ length: windowMinutes }, (_, i) => ({
          minute: new Date(firstMinute + i * 60_000),
          succeeded: 0,
          failed: 0,
          expired: 0,
        }));
        for (const bucket of buckets) {
          const slot = throughput[Math.floor((bucket.minute.getTime() - firstMinute) / 60_000)];
          if (slot) slot[bucket.status] += bucket.count;
        }
        const oldestAgeMs = oldestDueAt === null ? null : Math.max(0, now - oldestDueAt.getTime());
        if (options.json) {
          return context.out.json({
            table: store.tableName,
            counts: counts.counts,
            estimated: counts.estimated,
            oldestDueAt,
            oldestDuePendingAgeMs: oldestAgeMs,
            windowMinutes,
            throughput,
          });
        }
        const { colors } = context.out;
        context.out.line(`${colors.bold(store.tableName)} ${colors.dim(where)}`);
        context.out.table(
          ['status', 'attempts'],
          ATTEMPT_STATUSES.map((status) => [
            colorStatus(colors, status),
            `${counts.estimated.includes(status) ? '~' : ''}${counts.counts[status]}`,
          ]),
        );
        context.out.line(`oldest due pending: ${oldestAgeMs === null ? 'none' : `waiting ${formatAge(oldestAgeMs)}`}`);
        const total = throughput.reduce((sum, minute) => sum + minute.succeeded + minute.failed, 0);
        context.out.line(
          `throughput, last ${windowMinutes} min: ${total} completed (${(total / windowMinutes).toFixed(1)}/min)`,
        );
        // A row per minute helps for a few minutes; past that the total above says it.
        if (windowMinutes > 15) return;
        context.out.table(
          ['minute', 'succeeded', 'failed'],
          throughput.map((minute) => [
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
