import fs from 'node:fs';
import path from 'node:path';
import { CliError, EXIT } from '../errors.js';
import type { AsyncTaskConfig } from './define-config.js';

/** Looked for in this order in the working directory. */
export const CONFIG_FILE_NAMES = [
  'async-task.config.ts',
  'async-task.config.mts',
  'async-task.config.js',
  'async-task.config.mjs',
] as const;

export interface LoadedConfig {
  readonly config: AsyncTaskConfig;
  readonly path: string;
}

/** The config file to use: `--config`, or the first of CONFIG_FILE_NAMES in `cwd`. */
export function findConfigFile(cwd: string, explicit?: string): string {
  if (explicit) {
    const file = path.resolve(cwd, explicit);
    if (!fs.existsSync(file)) throw new CliError(`Config file not found: ${file}`, EXIT.config);
    return file;
  }
  for (const name of CONFIG_FILE_NAMES) {
    const file = path.join(cwd, name);
    if (fs.existsSync(file)) return file;
  }
  throw new CliError(
    `No async-task.config.(ts|mts|js|mjs) in ${cwd}: run \`async-task init\`, or pass --config <file>`,
    EXIT.config,
  );
}

/** Loads the config file's default export; TypeScript is compiled on the fly by jiti. */
export async function loadConfig(cwd: string, explicit?: string): Promise<LoadedConfig> {
  const file = findConfigFile(cwd, explicit);
  const { createJiti } = await import('jiti');
  // jiti's file cache (node_modules/.cache/jiti) keeps repeated commands fast; entries are keyed by content.
  const jiti = createJiti(import.meta.url, { moduleCache: false, interopDefault: true });
  let exported: unknown;
  try {
    exported = await jiti.import(file, { default: true });
  } catch (error) {
    throw new CliError(`Could not load ${path.basename(file)}`, EXIT.config, { cause: error });
  }
  return { config: validateConfig(exported, path.basename(file)), path: file };
}

function validateConfig(value: unknown, name: string): AsyncTaskConfig {
  const fail = (problem: string) => new CliError(`${name}: ${problem}`, EXIT.config);
  if (!value || typeof value !== 'object') throw fail('the default export must be defineConfig({ ... })');
  const config = value as Partial<AsyncTaskConfig>;
  if (config.dialect === undefined && config.targets === undefined) {
    throw fail('the default export must be defineConfig({ dialect, url, targets, … })');
  }
  if (config.dialect !== 'postgres' && config.dialect !== 'sqlite' && config.dialect !== 'mysql') {
    throw fail(`dialect must be 'postgres', 'mysql' or 'sqlite' (got ${JSON.stringify(config.dialect)})`);
  }
  if (config.database !== undefined && typeof config.database !== 'string') throw fail('database must be a string');
  if (!config.targets || typeof config.targets !== 'object') throw fail('targets must be an object of name → target');
  if (config.url !== undefined && typeof config.url !== 'string') throw fail('url must be a string');
  if (config.db !== undefined && typeof config.db !== 'function')
    throw fail('db must be a function returning a driver');
  if (config.worker !== undefined && (typeof config.worker !== 'object' || config.worker === null)) {
    throw fail('worker must be an object');
  }
  return config as AsyncTaskConfig;
}
