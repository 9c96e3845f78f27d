import { Command, Option } from 'commander';
import type { WorkerConfig } from '../config/define-config.js';
import { contextOf, withAsyncTask } from '../context.js';
import { CliError } from '../errors.js';
import { nonNegativeInt, positiveInt, withExamples } from '../help.js';

/** The worker `asyncTask.worker(...)` returns (issue 3), as the CLI uses it. */
interface RunningWorker {
  start(): Promise<void>;
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

type WorkerFactory = (options: Omit<WorkerConfig, 'shutdownTimeoutMs'>) => RunningWorker;

interface WorkerFlags {
  concurrency?: number;
  mode?: WorkerConfig['mode'];
  batchSize?: number;
  pollInterval?: number;
  shutdownTimeout?: number;
  drain?: boolean;
  json?: boolean;
}

/** Resolves when the process gets SIGTERM or SIGINT; a second signal exits at once. */
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
    .option(
      '-c, --concurrency <n>',
      'attempts performed at once (default: config, then the worker default)',
      positiveInt,
    )
    .addOption(
      new Option('--mode <mode>', 'how attempts run (default: config, then transactional)').choices([
        'transactional',
        'leased',
      ]),
    )
    .option('--batch-size <n>', 'attempts claimed per round trip', positiveInt)
    .option('--poll-interval <ms>', 'how often to look for due attempts without a notification', positiveInt)
    .option(
      '--shutdown-timeout <ms>',
      'how long to wait for running attempts on a signal (default 30000)',
      nonNegativeInt,
    )
    .option('--drain', 'perform every due attempt now, then exit (for cron jobs and scripts)')
    .option('--json', 'with --drain: print the counts as JSON')
    .action(async (options: WorkerFlags, self: Command) => {
      const context = contextOf(self, { infoLogs: true });
      await withAsyncTask(context, async ({ asyncTask, config, where }) => {
        if (options.drain) {
          const result = await asyncTask.drain();
          if (options.json) context.out.json(result);
          else
            context.out.line(
              `Performed ${result.performed}: ${result.succeeded} succeeded, ${result.retrying} retrying, ${result.failed} failed`,
            );
          return;
        }
        const factory = (asyncTask as unknown as { worker?: WorkerFactory }).worker;
        if (typeof factory !== 'function') throw new CliError('This version of async-task has no worker; use --drain');
        const settings = { ...config.worker };
        const workerOptions = {
          concurrency: options.concurrency ?? settings.concurrency,
          mode: options.mode ?? settings.mode,
          batchSize: options.batchSize ?? settings.batchSize,
          pollIntervalMs: options.pollInterval ?? settings.pollIntervalMs,
        };
        const defined = Object.fromEntries(Object.entries(workerOptions).filter(([, value]) => value !== undefined));
        const timeoutMs = options.shutdownTimeout ?? settings.shutdownTimeoutMs ?? 30_000;
        const worker = factory.call(asyncTask, defined);
        const signal = untilSignal(() => {
          context.out.note('Second signal: exiting without waiting for running attempts.');
          process.exit(130);
        });
        await worker.start();
        context.out.note(`Worker running on ${where} ${JSON.stringify(defined)}; Ctrl-C or SIGTERM stops it.`);
        const received = await signal;
        context.out.note(`${received}: stopping (waiting up to ${timeoutMs} ms for running attempts)…`);
        await worker.stop({ timeoutMs });
        context.out.note('Worker stopped.');
      });
    });
  return withExamples(command, [
    ['async-task worker', "run with the config file's worker settings"],
    ['async-task worker --concurrency 20 --mode leased', 'override them'],
    ['async-task worker --drain', 'perform what is due now, then exit'],
  ]);
}
