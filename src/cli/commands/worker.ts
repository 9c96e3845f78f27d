import { Command, Option } from 'commander';
import { errorText } from '../../core/error-text.js';
import type { WorkerOptions } from '../../worker/worker-options.js';
import { contextOf, withAsyncTask } from '../context.js';
import { nonNegativeInt, positiveInt, withExamples } from '../help.js';
import { terminalText } from '../output.js';

interface WorkerFlags {
  concurrency?: number;
  mode?: WorkerOptions['mode'];
  batchSize?: number;
  pollInterval?: number;
  notify: boolean;
  shutdownTimeout?: number;
  drain?: boolean;
  json?: boolean;
}

/** Resolves on the first SIGTERM or SIGINT; a second one calls `onSecond` (exit at once). */
function untilSignal(onSecond: () => void): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const handler = (signal: NodeJS.Signals) => {
      if (received) return onSecond();
      received = true;
      resolve(signal);
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}

export function workerCommand(): Command {
  const command = new Command('worker')
    .description('run a worker: perform due attempts until SIGTERM or SIGINT, then stop gracefully')
    .option('-c, --concurrency <n>', 'attempts performed at once (default: config, then 10)', positiveInt)
    .addOption(
      new Option('--mode <mode>', 'how attempts run (default: config, then transactional)').choices([
        'transactional',
        'leased',
      ]),
    )
    .option('--batch-size <n>', 'attempts claimed per query (default: config, then 100)', positiveInt)
    .option(
      '--poll-interval <ms>',
      'look for due attempts this often when idle (default: config, then 1000)',
      positiveInt,
    )
    .option('--no-notify', 'poll only, no LISTEN/NOTIFY (behind a transaction-mode pooler)')
    .option(
      '--shutdown-timeout <ms>',
      'on a signal, let running attempts finish this long (default 30000)',
      nonNegativeInt,
    )
    .option('--drain', 'perform every due attempt now, in this process, then exit (cron jobs, scripts)')
    .option('--json', 'with --drain: print the counts as JSON')
    .action(async (options: WorkerFlags, self: Command) => {
      const context = contextOf(self, { infoLogs: true });
      await withAsyncTask(
        context,
        async ({ asyncTask, config, where }) => {
          if (options.drain) {
            const result = await asyncTask.drain();
            if (options.json) context.out.json(result);
            else
              context.out.line(
                `Performed ${result.performed}: ${result.succeeded} succeeded, ${result.retrying} retrying, ${result.failed} failed`,
              );
            return;
          }
          const { shutdownTimeoutMs, ...fromConfig } = config.worker ?? {};
          const flags: WorkerOptions = {
            concurrency: options.concurrency,
            mode: options.mode,
            batchSize: options.batchSize,
            pollIntervalMs: options.pollInterval,
            notify: options.notify === false ? false : undefined,
          };
          const workerOptions: WorkerOptions = { ...fromConfig };
          for (const [key, value] of Object.entries(flags)) {
            if (value !== undefined) (workerOptions as Record<string, unknown>)[key] = value;
          }
          const timeoutMs = options.shutdownTimeout ?? shutdownTimeoutMs ?? 30_000;
          const worker = asyncTask.worker(workerOptions);
          const { colors } = context.out;
          worker.on('attempt:succeeded', ({ attempt, durationMs }) =>
            context.logger.debug(
              `${colors.green('succeeded')} ${attempt.id} ${terminalText(`${attempt.target}.${attempt.methodName}`)}`,
              {
                durationMs,
              },
            ),
          );
          worker.on('attempt:failed', ({ attempt, error, willRetry }) =>
            context.out.note(
              `${willRetry ? colors.yellow('will retry') : colors.red('failed')} ${attempt.id} ${terminalText(`${attempt.target}.${attempt.methodName}`)} (run ${attempt.numAttempts}): ${terminalText(firstLine(error))}`,
            ),
          );
          const signal = untilSignal(() => {
            context.out.note('Second signal: exiting without waiting for running attempts.');
            process.exit(130);
          });
          await worker.start();
          context.out.note(`Worker ${worker.id} running on ${where}; Ctrl-C or SIGTERM stops it gracefully.`);
          const received = await signal;
          context.out.note(`${received}: stopping; running attempts get up to ${timeoutMs} ms to finish…`);
          await worker.stop({ timeoutMs });
          context.out.note('Worker stopped.');
        },
        // --concurrency sizes the pool the CLI opens (the config's worker.concurrency does so by itself).
        { poolSize: options.concurrency === undefined ? undefined : Math.max(20, options.concurrency + 5) },
      );
    });
  return withExamples(command, [
    ['async-task worker', "run with the config file's worker settings"],
    ['async-task worker --concurrency 20 --mode leased', 'override them'],
    ['DATABASE_URL=postgres://db/app async-task worker --no-notify', 'behind PgBouncer in transaction mode'],
    ['async-task worker --drain', 'perform what is due now, then exit'],
  ]);
}

/** The first line of any thrown value, safely (a target may throw anything). */
function firstLine(error: unknown): string {
  const text = errorText(error);
  return error instanceof Error ? errorText(safeMessage(error)) : (text.split('\n')[0] ?? text);
}

function safeMessage(error: Error): unknown {
  try {
    return error.message;
  } catch {
    return error;
  }
}
