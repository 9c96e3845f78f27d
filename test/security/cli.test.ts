// Issue 9, items 6, 7 and 10 for the command line: stored text cannot drive the terminal, a bad id is
// "not found" (exit 4), and secrets in a connection URL are never printed.
import { spawn } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlite } from '../../src/drivers/sqlite.js';
import { createAsyncTask } from '../../src/index.js';
import { CLI, expectOk, makeProject, removeProject, runCli, write } from '../cli/support/project.js';

// ESC-based sequences (retitle the window, clear the screen, hide text, a hyperlink), a bare CSI (U+009B),
// a carriage return that would overwrite the line, and a bidi override.
const HOSTILE =
  '\u001b]0;pwned\u0007\u001b[2J\u001b[8mhidden\u001b]8;;https://evil.example\u0007link\u009b31m\roverwrite\u202e';
const evilTarget = `Evil${HOSTILE}`;

const closers: (() => unknown)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

// Each case runs the built CLI several times; on a loaded machine that takes a while.
describe('security: the CLI', { timeout: 120_000 }, () => {
  let dir: string;
  let id: string;

  beforeAll(async () => {
    dir = makeProject('security');
    closers.push(() => removeProject(dir));
    write(
      dir,
      'async-task.config.ts',
      `import { defineConfig } from 'async-task-ts/config';\nexport default defineConfig({ dialect: 'sqlite', url: 'app.db', targets: { Mailer: { async send() {} } } });\n`,
    );
    expectOk(await runCli(dir, ['migrate']), 'migrate');
    const db = new Database(path.join(dir, 'app.db'));
    closers.push(() => db.close());
    const targets = {
      [evilTarget]: {
        async [evilTarget](_args: unknown) {
          throw new Error(`boom ${HOSTILE}`);
        },
      },
    };
    const asyncTask = createAsyncTask({ db: sqlite(db), targets, retry: { maxAttempts: 1 } });
    const attempt = await asyncTask.enqueue(db, evilTarget, evilTarget as never, { note: HOSTILE } as never, {
      idempotenceToken: HOSTILE,
    });
    await asyncTask.perform(attempt.id);
    id = attempt.id;
  });

  it('item 7: list and show escape control characters from stored text, with and without --no-color', async () => {
    for (const args of [
      ['attempts', 'list', '--no-color'],
      ['attempts', 'list'],
      ['attempts', 'show', id, '--no-color'],
      ['attempts', 'show', id],
    ]) {
      const result = expectOk(await runCli(dir, args), args.join(' '));
      const output = result.stdout + result.stderr;
      // biome-ignore lint/suspicious/noControlCharactersInRegex: these must not reach the terminal.
      expect(output, args.join(' ')).not.toMatch(/[\u001b\u0007\u009b\r\u202e]/);
      expect(output, args.join(' ')).toContain('\\u001b');
    }
    const show = await runCli(dir, ['attempts', 'show', id, '--no-color']);
    expect(show.stdout).toContain('boom \\u001b]0;pwned\\u0007');
    // --json is for scripts: JSON escapes control characters itself.
    const json = JSON.parse((await runCli(dir, ['attempts', 'show', id, '--json'])).stdout);
    expect(json.lastError).toContain(HOSTILE);
  });

  it('item 6: attempts show of an id beyond 64 bits is "not found" (exit 4), not a failure', async () => {
    for (const bad of ['9999999999999999999', '9223372036854775808']) {
      const result = await runCli(dir, ['attempts', 'show', bad]);
      expect(result.code, bad).toBe(4);
      expect(result.stderr).toContain('No attempt');
    }
  });

  it('item 10: a password given as a URL parameter is redacted in the "Dashboard for" line', async () => {
    // The config's own db factory opens the store (here the SQLite file) and ignores the URL, so the line
    // is printed without a server that would check the password.
    const factoryDir = makeProject('security-url');
    closers.push(() => removeProject(factoryDir));
    write(
      factoryDir,
      'async-task.config.ts',
      `import Database from 'better-sqlite3';
import { defineConfig } from 'async-task-ts/config';
import { sqlite } from 'async-task-ts/sqlite';
export default defineConfig({ dialect: 'postgres', db: () => sqlite(new Database('app.db')) as never, targets: { Mailer: { async send() {} } } });
`,
    );
    const url = 'postgres://app:secret1@db.internal:5432/app?password=hunter2&sslpassword=swordfish&application_name=x';
    const migrated = expectOk(await runCli(factoryDir, ['migrate', '--url', url]), 'migrate');
    expect(migrated.stdout + migrated.stderr).not.toMatch(/secret1|hunter2|swordfish/);

    const child = spawn(process.execPath, [CLI, 'dashboard', '--port', '0', '--url', url], { cwd: factoryDir });
    closers.push(() => child.exitCode === null && child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise((resolve) => child.on('close', resolve));
    for (let i = 0; i < 400 && !stderr.includes('Dashboard for'); i++) {
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGTERM');
    await exited;
    expect(stderr).toContain('Dashboard for postgres://app:***@db.internal:5432/app?password=***');
    expect(stderr).toContain('application_name=x');
    expect(stderr).not.toMatch(/secret1|hunter2|swordfish/);
  });
});
