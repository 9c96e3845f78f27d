import { Command } from 'commander';
import { withExamples } from '../help.js';
import { attemptsChangeCommand } from './attempts-change.js';
import { attemptsListCommand } from './attempts-list.js';
import { attemptsShowCommand } from './attempts-show.js';

export function attemptsCommand(): Command {
  const command = new Command('attempts')
    .description('list, inspect, retry, expire or fail attempts')
    .addCommand(attemptsListCommand())
    .addCommand(attemptsShowCommand())
    .addCommand(attemptsChangeCommand('retry'))
    .addCommand(attemptsChangeCommand('expire'))
    .addCommand(attemptsChangeCommand('fail'));
  return withExamples(command, [
    ['async-task attempts list --status failed', 'what failed'],
    ['async-task attempts show 42', 'why attempt 42 failed'],
    ['async-task attempts retry 42', 'run it again'],
  ]);
}
