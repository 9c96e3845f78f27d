import type { InitChoices, PlannedFile } from './choices.js';

export const CONFIG_PATH = 'async-task.config.ts';
export const TARGET_PATH = 'src/targets/greeter.ts';
export const TEST_PATH = 'test/async-task.test.ts';

/** A single-quoted TypeScript string literal. */
const quote = (value: string) => `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

function configFile(choices: InitChoices): PlannedFile {
  const extra = [
    choices.schema ? `  schema: ${quote(choices.schema)},\n` : '',
    choices.table ? `  table: ${quote(choices.table)},\n` : '',
  ].join('');
  const urlNote = choices.dialect === 'sqlite' ? 'a file path, relative to this file' : 'a connection URL';
  return {
    path: CONFIG_PATH,
    content: `import { defineConfig } from 'async-task-ts/config';
import { Greeter } from './src/targets/greeter.js';

// Read by the \`async-task\` CLI: migrate, worker, attempts, stats. Docs: docs/cli.md of async-task.
export default defineConfig({
  dialect: '${choices.dialect}',
  // ${urlNote}. DATABASE_URL overrides it; --url overrides both.
  url: ${quote(choices.url)},
${extra}  // Only these objects' methods can ever be called by a worker.
  targets: { Greeter },
  // Flags of \`async-task worker\` override these.
  worker: { concurrency: 5 },
});
`,
  };
}

function targetFile(choices: InitChoices): PlannedFile {
  const txNote =
    choices.dialect === 'postgres'
      ? 'ctx.tx is a pg client inside the transaction that marks this attempt succeeded'
      : 'ctx.tx is the better-sqlite3 database inside the transaction that marks this attempt succeeded';
  return {
    path: TARGET_PATH,
    content: `import type { PerformContext } from 'async-task-ts';

/**
 * A sample target. Enqueue a call inside your transaction:
 *   await asyncTask.enqueue(tx, 'Greeter', 'greet', { name: 'Ada' });
 * and a worker calls it once that transaction commits (never if it rolls back).
 */
export const Greeter = {
  async greet(args: { name: string }, ctx: PerformContext): Promise<void> {
    // Call the outside world here. Database writes that must commit together with this attempt's
    // success go through ctx.tx (${txNote}).
    console.log(\`Hello, \${args.name}! (attempt \${ctx.attempt.id}, run \${ctx.attempt.numAttempts})\`);
  },
};
`,
  };
}

/** Opening the database and enqueueing inside a committed transaction, per dialect. */
function dialectParts(choices: InitChoices) {
  const options = [choices.schema ? 'schema: config.schema' : '', 'table: config.table'].filter(Boolean).join(', ');
  if (choices.dialect === 'postgres') {
    return {
      imports: `import pg from 'pg';\nimport { postgres } from 'async-task-ts/postgres';`,
      open: `const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL || config.url });
const asyncTask = createAsyncTask({ db: postgres(pool, { ${options} }), targets: config.targets });`,
      close: 'await asyncTask.close();\n  await pool.end();',
      enqueue: `  // The application's transaction: the attempt commits with it.
  const client = await pool.connect();
  let id: string;
  try {
    await client.query('BEGIN');
    id = (await asyncTask.enqueue(client, 'Greeter', 'greet', { name: 'Ada' })).id;
    await client.query('COMMIT');
  } finally {
    client.release();
  }`,
    };
  }
  return {
    imports: `import path from 'node:path';\nimport { fileURLToPath } from 'node:url';\nimport Database from 'better-sqlite3';\nimport { sqlite } from 'async-task-ts/sqlite';`,
    open: `// Relative paths are relative to async-task.config.ts, as for the CLI.
const root = fileURLToPath(new URL('..', import.meta.url));
const file = path.resolve(root, (process.env.DATABASE_URL || config.url || 'app.db').replace(/^file:/, ''));
const db = new Database(file);
const asyncTask = createAsyncTask({ db: sqlite(db, { ${options} }), targets: config.targets });`,
    close: 'await asyncTask.close();\n  db.close();',
    enqueue: `  // The application's transaction: the attempt commits with it.
  const id = db.transaction(() => asyncTask.enqueueSync(db, 'Greeter', 'greet', { name: 'Ada' }).id)();`,
  };
}

function testFile(choices: InitChoices): PlannedFile {
  const parts = dialectParts(choices);
  const title = 'Greeter.greet runs once the transaction that enqueued it commits';
  if (choices.runner === 'node') {
    return {
      path: TEST_PATH,
      content: `// Run with: node --import tsx --test ${TEST_PATH}
import assert from 'node:assert/strict';
import { after, mock, test } from 'node:test';
import { createAsyncTask } from 'async-task-ts';
${parts.imports}
import config from '../async-task.config.js';
import { Greeter } from '../src/targets/greeter.js';

${parts.open}

after(async () => {
  ${parts.close}
});

test('${title}', async () => {
  const greet = mock.method(Greeter, 'greet', async () => {});
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
    content: `import { createAsyncTask } from 'async-task-ts';
${parts.imports}
import { afterAll, expect, test, vi } from 'vitest';
import config from '../async-task.config.js';
import { Greeter } from '../src/targets/greeter.js';

${parts.open}

afterAll(async () => {
  ${parts.close}
});

test('${title}', async () => {
  const greet = vi.spyOn(Greeter, 'greet').mockResolvedValue();
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
  return [configFile(choices), targetFile(choices), testFile(choices)];
}
