import { Command } from 'commander';
import { AttemptNotFoundError } from '../../core/errors.js';
import { RUN_ERRORS_KEPT } from '../../store/run-errors.js';
import { contextOf, withAsyncTask } from '../context.js';
import { withExamples } from '../help.js';
import { colorStatus, formatTime, terminalText } from '../output.js';

export function attemptsShowCommand(): Command {
  const command = new Command('show')
    .description('show one attempt, with its decoded arguments, last error and the error of each failed run')
    .argument('<id>', 'the attempt id')
    .option('--no-args', 'do not decrypt and print the arguments')
    .option('--json', 'print the attempt as JSON (with "args" when decoded)')
    .action(async (id: string, options: { args: boolean; json?: boolean }, self: Command) => {
      const context = contextOf(self);
      await withAsyncTask(context, async ({ asyncTask, store }) => {
        const attempt = await asyncTask.find(id);
        if (!attempt) throw new AttemptNotFoundError(id);
        // Newest run first; the store keeps the errors of the last RUN_ERRORS_KEPT runs.
        const runErrors = await store.dashboardQueries().dashboardAttemptErrors(attempt.id, RUN_ERRORS_KEPT);
        let args: { value?: unknown; error?: string } = {};
        if (options.args) {
          try {
            args = { value: await asyncTask.decodeArgs(attempt) };
          } catch (error) {
            args = { error: error instanceof Error ? error.message : String(error) };
          }
        }
        if (options.json) {
          const { methodArgs: _stored, ...rest } = attempt;
          return context.out.json({
            ...rest,
            runErrors,
            ...(options.args ? { args: args.value, argsError: args.error } : {}),
          });
        }
        const { colors } = context.out;
        const fields: [string, string][] = [
          ['id', attempt.id],
          ['status', colorStatus(colors, attempt.status)],
          ['call', terminalText(`${attempt.target}.${attempt.methodName}`)],
          ['runs', String(attempt.numAttempts)],
          ['idempotence token', terminalText(attempt.idempotenceToken ?? '')],
          // The null encryptor stores the arguments as plain JSON text.
          [
            'encryptor',
            attempt.encryptor === 'null' ? 'none (arguments stored as JSON text)' : terminalText(attempt.encryptor),
          ],
          ['scheduled at', formatTime(attempt.scheduledAt)],
          ['created at', formatTime(attempt.createdAt)],
          ['updated at', formatTime(attempt.updatedAt)],
          ['completed at', formatTime(attempt.completedAt)],
        ];
        if (attempt.leaseOwner)
          fields.push(['lease', `${terminalText(attempt.leaseOwner)} until ${formatTime(attempt.leaseExpiresAt)}`]);
        const width = Math.max(...fields.map(([name]) => name.length));
        for (const [name, value] of fields) context.out.line(`${colors.dim(name.padEnd(width))}  ${value}`);
        if (options.args) {
          context.out.line(colors.bold('\narguments'));
          context.out.line(
            args.error ? colors.red(terminalText(args.error)) : terminalText(JSON.stringify(args.value, null, 2)),
          );
        }
        if (attempt.lastError) {
          context.out.line(colors.bold('\nlast error'));
          context.out.line(terminalText(attempt.lastError));
        }
        if (runErrors.length > 0) {
          context.out.line(colors.bold('\nerrors by run (newest first)'));
          for (const entry of runErrors) {
            context.out.line(colors.dim(`run ${entry.run}, failed ${formatTime(entry.failedAt)}`));
            context.out.line(terminalText(entry.error));
          }
          const newest = runErrors[0]!.run;
          if (newest > RUN_ERRORS_KEPT) {
            context.out.line(colors.dim(`(errors of runs 1–${newest - RUN_ERRORS_KEPT} are no longer kept)`));
          }
        }
      });
    });
  return withExamples(command, [
    ['async-task attempts show 42', 'everything about attempt 42'],
    ['async-task attempts show 42 --no-args', 'without decrypting its arguments'],
    ['async-task attempts show 42 --json', 'as JSON'],
  ]);
}
