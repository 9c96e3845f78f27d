import { Command } from 'commander';
import type { ScheduleStatus } from '../../recurring/status.js';
import { contextOf, withAsyncTask } from '../context.js';
import { withExamples } from '../help.js';
import { colorStatus, formatTime } from '../output.js';

function recurringListCommand(): Command {
  return new Command('list')
    .description("the config's recurring schedules: next tick, last tick and its outcome")
    .option('--json', 'print the schedules as JSON')
    .action(async (options: { json?: boolean }, self: Command) => {
      const context = contextOf(self);
      await withAsyncTask(context, async ({ asyncTask }) => {
        const schedules: ScheduleStatus[] = await asyncTask.recurring.list();
        if (options.json) return context.out.json(schedules);
        if (schedules.length === 0) {
          context.out.note('No recurring schedules in the config (see docs/recurring.md).');
          return;
        }
        const { colors } = context.out;
        context.out.table(
          ['schedule', 'cron', 'target.method', 'next tick', 'last tick', 'outcome'],
          schedules.map((schedule) => [
            schedule.name,
            schedule.timezone === 'UTC' ? schedule.cron : `${schedule.cron} ${colors.dim(schedule.timezone)}`,
            `${schedule.target}.${schedule.method}`,
            formatTime(schedule.nextTick),
            schedule.lastTick ? formatTime(schedule.lastTick.at) : colors.dim('never'),
            schedule.lastTick
              ? `${colorStatus(colors, schedule.lastTick.status)} #${schedule.lastTick.attemptId}`
              : colors.dim('-'),
          ]),
          { flexColumn: 1 },
        );
      });
    });
}

export function recurringCommand(): Command {
  const command = new Command('recurring')
    .description('recurring schedules (cron) declared in the config')
    .addCommand(recurringListCommand());
  return withExamples(command, [
    ['async-task recurring list', 'next and last tick of every schedule'],
    ['async-task recurring list --json', 'for a monitoring script'],
  ]);
}
