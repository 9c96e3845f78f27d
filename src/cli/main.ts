#!/usr/bin/env node
import fs from 'node:fs';
import { CommanderError } from 'commander';
import { EXIT, exitCodeOf, oneLine } from './errors.js';
import { terminalText } from './output.js';
import { buildProgram } from './program.js';

function packageVersion(): string {
  const file = new URL('../../package.json', import.meta.url);
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

async function main(argv: readonly string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  try {
    await buildProgram(packageVersion()).parseAsync(argv as string[]);
    return EXIT.ok;
  } catch (error) {
    // commander has already printed its own one-line message (and the help hint).
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    process.stderr.write(`async-task: ${terminalText(oneLine(error))}\n`);
    if (verbose && error instanceof Error) {
      process.stderr.write(`${error.stack}\n`);
      if (error.cause instanceof Error) process.stderr.write(`Caused by: ${error.cause.stack}\n`);
    } else if (exitCodeOf(error) === EXIT.failure) process.stderr.write('(run with --verbose for the stack)\n');
    return exitCodeOf(error);
  }
}

// Explicit exit: an open pool or a worker timer must not keep a finished command alive.
main(process.argv).then((code) => process.exit(code));
