import { Command } from 'commander';
import { attemptsCommand } from './commands/attempts.js';
import { dashboardCommand } from './commands/dashboard.js';
import { demoCommand } from './commands/demo.js';
import { initCommand } from './commands/init.js';
import { migrateCommand } from './commands/migrate.js';
import { recurringCommand } from './commands/recurring.js';
import { statsCommand } from './commands/stats.js';
import { workerCommand } from './commands/worker.js';
import { EXIT } from './errors.js';
import { withExamples } from './help.js';

/** Every command exits through the caller instead of process.exit, so errors get our codes and one line. */
function throwInsteadOfExit(command: Command): void {
  command.exitOverride();
  command.showHelpAfterError('(add --help for usage)');
  for (const sub of command.commands) throwInsteadOfExit(sub);
}

export function buildProgram(version: string): Command {
  const program = new Command('async-task')
    .description('Transactional, database-backed task execution: set up, migrate, run workers, inspect attempts.')
    .version(version, '-V, --version')
    .option('--config <file>', 'the config file (default: async-task.config.{ts,mts,js,mjs} in this folder)')
    .option('--url <url>', 'the database URL or SQLite file; wins over DATABASE_URL and the config')
    .option('--verbose', 'debug logs, and the stack of an error')
    .option('--no-color', 'no colours (they are only used on a terminal anyway; NO_COLOR works too)')
    .showHelpAfterError('(add --help for usage)')
    .addCommand(initCommand())
    .addCommand(migrateCommand())
    .addCommand(workerCommand())
    .addCommand(attemptsCommand())
    .addCommand(statsCommand())
    .addCommand(recurringCommand())
    .addCommand(dashboardCommand())
    .addCommand(demoCommand());
  program.addHelpText(
    'after',
    `\nExit codes: ${Object.entries(EXIT)
      .map(([name, code]) => `${code} ${name}`)
      .join(', ')}`,
  );
  withExamples(program, [
    ['async-task init', 'set a project up (asks a few questions)'],
    ['async-task migrate', 'create or upgrade the attempts table'],
    ['async-task worker --concurrency 10', 'perform attempts until Ctrl-C'],
    ['async-task attempts list --status failed', 'what failed, and why'],
    ['async-task stats', 'how the queue is doing'],
    ['async-task dashboard', 'see and steer attempts in a browser'],
    ['async-task demo', 'see the point of the library in ten seconds'],
  ]);
  throwInsteadOfExit(program);
  return program;
}
