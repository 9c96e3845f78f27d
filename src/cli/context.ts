import type { Command } from 'commander';
import type { Logger } from '../core/types.js';
import { loadConfig } from './config/load-config.js';
import { type OpenedAsyncTask, openAsyncTask } from './config/open-async-task.js';
import { createCliLogger, createOutput, type Output } from './output.js';

/** The options every command accepts (declared on the program). */
export interface GlobalOptions {
  config?: string;
  url?: string;
  verbose?: boolean;
  color: boolean;
}

export interface CliContext {
  readonly globals: GlobalOptions;
  readonly out: Output;
  readonly logger: Logger;
  readonly cwd: string;
  /** Loads the config and opens the database; closed by `withAsyncTask`. */
  open(overrides?: OpenOverrides): Promise<OpenedAsyncTask>;
}

/** The context of the command being run, from the program's global options. */
export function contextOf(command: Command, options: { infoLogs?: boolean } = {}): CliContext {
  const globals = command.optsWithGlobals() as GlobalOptions;
  const logger = createCliLogger({ verbose: Boolean(globals.verbose), info: Boolean(options.infoLogs) });
  const cwd = process.cwd();
  return {
    globals,
    out: createOutput({ color: globals.color !== false }),
    logger,
    cwd,
    async open(overrides = {}) {
      const loaded = await loadConfig(cwd, globals.config);
      return openAsyncTask(loaded, { url: globals.url, logger, ...overrides });
    },
  };
}

export interface OpenOverrides {
  /** See `OpenOptions.poolSize`. */
  readonly poolSize?: number;
  /** See `OpenOptions.skipReadyCheck`. */
  readonly skipReadyCheck?: boolean;
  /** The library's logger for this command, unless the config has one. Default: the CLI's. */
  readonly logger?: Logger;
}

/** Opens the configured AsyncTask, runs `fn`, and always closes the connections. */
export async function withAsyncTask<T>(
  context: CliContext,
  fn: (opened: OpenedAsyncTask) => Promise<T>,
  overrides?: OpenOverrides,
): Promise<T> {
  const opened = await context.open(overrides);
  try {
    return await fn(opened);
  } finally {
    await opened.close();
  }
}
