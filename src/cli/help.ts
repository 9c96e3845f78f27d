import { type Command, InvalidArgumentError } from 'commander';

/** Adds an "Examples:" block to a command's --help. */
export function withExamples(command: Command, examples: readonly [string, string][]): Command {
  const width = Math.max(...examples.map(([example]) => example.length));
  const lines = examples.map(([example, what]) => `  $ ${example.padEnd(width)}  # ${what}`);
  return command.addHelpText('after', `\nExamples:\n${lines.join('\n')}\n`);
}

/** Parses a positive integer option; commander reports a bad value as a usage error. */
export function positiveInt(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('Expected a positive integer.');
  return number;
}

/** Parses a non-negative integer option (milliseconds and the like). */
export function nonNegativeInt(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new InvalidArgumentError('Expected a non-negative integer.');
  return number;
}
