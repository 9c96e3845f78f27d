import { configDialect, type InitChoices, type PlannedFile } from './choices.js';
import { type DataLayer, dataLayer } from './data-layer.js';

export const CONFIG_PATH = 'async-task.config.ts';
export const TARGET_PATH = 'src/targets/greeter.ts';
export const TEST_PATH = 'test/async-task.test.ts';
export const CLIENT_PATH = 'src/db/client.ts';

/** A single-quoted TypeScript string literal. */
const quote = (value: string) => `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

function configFile(choices: InitChoices, layer: DataLayer): PlannedFile {
  const urlNote = choices.dialect === 'sqlite' ? 'a file path, relative to this file' : 'a connection URL';
  const server = { postgres: 'PostgreSQL', sqlite: 'SQLite', mysql: 'mysql://', mariadb: 'mysql://' }[choices.dialect];
  return {
    path: CONFIG_PATH,
    content: `import { defineConfig } from 'async-task-ts/config';
import { connect } from './src/db/client.js';
import { Greeter } from './src/targets/greeter.js';

// Read by the \`async-task\` CLI: migrate, worker, attempts, stats, dashboard.
// Docs: node_modules/async-task-ts/docs/cli.md (run \`npx async-task --help\` for the commands).
export default defineConfig({
  dialect: '${configDialect(choices.dialect)}',
  // ${urlNote}. A ${server} DATABASE_URL overrides it; --url overrides both.
  url: ${quote(choices.url)},
  // The driver the CLI uses: ${layer.name}, so targets receive its transaction as ctx.tx.
  db: ({ url, onClose }) => {
    const { driver, close } = connect(url);
    onClose(close);
    return driver;
  },
${choices.schema ? `  schema: ${quote(choices.schema)},\n` : ''}${choices.table ? `  table: ${quote(choices.table)},\n` : ''}  // Only these objects' methods can ever be called by a worker.
  targets: { Greeter },
  // Flags of \`async-task worker\` override these.
  worker: { concurrency: 5 },
});
`,
  };
}

function clientFile(layer: DataLayer): PlannedFile {
  return { path: CLIENT_PATH, content: layer.client };
}

function targetFile(layer: DataLayer): PlannedFile {
  const enqueue = layer.enqueue.includes('enqueueSync') ? 'enqueueSync' : 'enqueue';
  return {
    path: TARGET_PATH,
    content: `import type { PerformContext } from 'async-task-ts';
${layer.targetImports ? `${layer.targetImports}\n` : ''}import type { Tx } from '../db/client.js';

/**
 * A sample target. Enqueue a call inside your transaction:
 *   asyncTask.${enqueue}(tx, 'Greeter', 'greet', { name: 'Ada' });
 * and a worker calls it once that transaction commits (never if it rolls back).
 */
export const Greeter = {
  async greet(args: { name: string }, ctx: PerformContext<Tx>): Promise<void> {
    // ctx.tx is ${layer.name}'s transaction that also marks this attempt succeeded: database writes
    // through it commit together with that, or not at all. Call the outside world here too.
    ${layer.targetQuery}
    console.log(\`Hello, \${args.name}! (attempt \${ctx.attempt.id}, run \${ctx.attempt.numAttempts}, database time \${now})\`);
  },
};
`,
  };
}

/** Opening the database and enqueueing inside a committed transaction, per dialect. */
function dialectParts(choices: InitChoices, layer: DataLayer) {
  const open =
    choices.dialect !== 'sqlite'
      ? `const { db, driver, close } = connect(process.env.DATABASE_URL || config.url!);`
      : `// Relative paths are relative to async-task.config.ts, as for the CLI.
const root = fileURLToPath(new URL('..', import.meta.url));
const { db, driver, close } = connect(path.resolve(root, (process.env.DATABASE_URL || config.url!).replace(/^file:/, '')));`;
  return {
    imports: `${choices.dialect === 'sqlite' ? "import path from 'node:path';\nimport { fileURLToPath } from 'node:url';\n" : ''}`,
    open: `${open}
const asyncTask = createAsyncTask({ db: driver, targets: config.targets });`,
    close: 'await asyncTask.close();\n  await close();',
    enqueue: `  // The application's transaction: the attempt commits with it.\n${layer.enqueue.replace(/^ {2}\/\/ The application's transaction: the attempt commits with it.\n/, '')}`,
  };
}

function testFile(choices: InitChoices, layer: DataLayer): PlannedFile {
  const parts = dialectParts(choices, layer);
  const title = 'Greeter.greet runs once the transaction that enqueued it commits';
  if (choices.runner === 'node') {
    return {
      path: TEST_PATH,
      content: `// Run with: node --import tsx --test ${TEST_PATH}
${parts.imports}import assert from 'node:assert/strict';
import { after, mock, test } from 'node:test';
import { createAsyncTask } from 'async-task-ts';
import config from '../async-task.config.js';
import { connect } from '../src/db/client.js';
import { Greeter } from '../src/targets/greeter.js';

${parts.open}

after(async () => {
  ${parts.close}
});

test('${title}', async () => {
  // Watches the real target, which runs with ${layer.name}'s transaction as ctx.tx.
  const greet = mock.method(Greeter, 'greet');
${parts.enqueue}

  // What a worker does, in this process: perform every due attempt now.
  await asyncTask.drain();

  assert.deepEqual(greet.mock.calls.at(-1)?.arguments[0], { name: 'Ada' });
  assert.equal((await asyncTask.find(id))?.status, 'succeeded');
});
`,
    };
  }
  return {
    path: TEST_PATH,
    content: `${parts.imports}import { createAsyncTask } from 'async-task-ts';
import { afterAll, expect, test, vi } from 'vitest';
import config from '../async-task.config.js';
import { connect } from '../src/db/client.js';
import { Greeter } from '../src/targets/greeter.js';

${parts.open}

afterAll(async () => {
  ${parts.close}
});

test('${title}', async () => {
  // Watches the real target, which runs with ${layer.name}'s transaction as ctx.tx.
  const greet = vi.spyOn(Greeter, 'greet');
${parts.enqueue}

  // What a worker does, in this process: perform every due attempt now.
  await asyncTask.drain();

  expect(greet).toHaveBeenCalledWith({ name: 'Ada' }, expect.objectContaining({ tx: expect.anything() }));
  expect((await asyncTask.find(id))?.status).toBe('succeeded');
});
`,
  };
}

/** The config, the sample target and the sample test. */
export function projectFiles(choices: InitChoices): PlannedFile[] {
  const layer = dataLayer(choices);
  return [configFile(choices, layer), clientFile(layer), targetFile(layer), testFile(choices, layer)];
}
