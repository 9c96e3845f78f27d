import type { AddressInfo } from 'node:net';
import { Command } from 'commander';
import { createDashboard } from '../../dashboard/dashboard.js';
import { serveDashboard } from '../../dashboard/node.js';
import { contextOf, withAsyncTask } from '../context.js';
import { CliError } from '../errors.js';
import { nonNegativeInt, withExamples } from '../help.js';

interface DashboardFlags {
  port: number;
  host: string;
  readOnly?: boolean;
  showArgs?: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Resolves on the first SIGTERM or SIGINT. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
}

export function dashboardCommand(): Command {
  const command = new Command('dashboard')
    .description('serve the web dashboard (this machine only, unless --host says otherwise)')
    .option('-p, --port <n>', 'the port (0: any free one)', nonNegativeInt, 4000)
    .option('--host <address>', 'the address to listen on', '127.0.0.1')
    .option('--read-only', 'show attempts, never act on them')
    .option('--show-args', "decrypt and show attempts' arguments")
    .action(async (options: DashboardFlags, self: Command) => {
      const context = contextOf(self, { infoLogs: true });
      const password = process.env.ASYNC_TASK_DASHBOARD_PASSWORD;
      if (!LOOPBACK.has(options.host) && !password) {
        throw new CliError(
          `Refusing to serve the dashboard on ${options.host} without a password: set ASYNC_TASK_DASHBOARD_PASSWORD`,
        );
      }
      await withAsyncTask(context, async ({ asyncTask, where }) => {
        const dashboard = createDashboard({
          asyncTask,
          readOnly: options.readOnly === true,
          showArgs: options.showArgs === true,
          logger: context.logger,
          ...(password && {
            basicAuth: { username: process.env.ASYNC_TASK_DASHBOARD_USER ?? 'admin', password },
          }),
        });
        const signal = untilSignal();
        const server = await serveDashboard(dashboard, { port: options.port, host: options.host });
        const { port } = server.address() as AddressInfo;
        const host = options.host.includes(':') ? `[${options.host}]` : options.host;
        context.out.note(`Dashboard for ${where} on http://${host}:${port}/ (Ctrl-C stops it)`);
        await signal;
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        context.out.note('Dashboard stopped.');
      });
    });
  return withExamples(command, [
    ['async-task dashboard', 'on http://127.0.0.1:4000/'],
    ['async-task dashboard --port 8080 --read-only', 'look, do not touch'],
    [
      'ASYNC_TASK_DASHBOARD_PASSWORD=… async-task dashboard --host 0.0.0.0',
      'reachable from elsewhere, behind basic auth',
    ],
  ]);
}
