// `async-task dashboard` as a process: binds 127.0.0.1, serves the pages, refuses another address
// without a password, and stops on SIGTERM.
import { spawn } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, test } from 'vitest';
import { sqlite } from '../../src/drivers/sqlite.js';
import { createAsyncTask } from '../../src/index.js';
import { CLI, expectOk, makeProject, removeProject, runCli, write } from './support/project.js';

const closers: (() => unknown)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

const config = `import { defineConfig } from 'async-task-ts/config';

export default defineConfig({
  dialect: 'sqlite',
  url: 'app.db',
  targets: { Mailer: { async send(_args: { to: string }) {} } },
});
`;

test('serves the dashboard on 127.0.0.1 until SIGTERM', { timeout: 60_000 }, async () => {
  const dir = makeProject('dashboard');
  closers.push(() => removeProject(dir));
  write(dir, 'async-task.config.ts', config);
  expectOk(await runCli(dir, ['migrate']), 'migrate');
  const db = new Database(path.join(dir, 'app.db'));
  const asyncTask = createAsyncTask({ db: sqlite(db), targets: { Mailer: { async send(_args: { to: string }) {} } } });
  closers.push(() => db.close());
  closers.push(() => asyncTask.close());
  const attempt = await asyncTask.enqueue(db, 'Mailer', 'send', { to: '<script>ada</script>' });

  const refused = await runCli(dir, ['dashboard', '--host', '0.0.0.0', '--port', '0']);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain('without a password');

  const child = spawn(process.execPath, [CLI, 'dashboard', '--port', '0', '--read-only'], { cwd: dir });
  closers.push(() => child.exitCode === null && child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const deadline = Date.now() + 20_000;
  while (!/http:\/\/127\.0\.0\.1:\d+\//.test(stderr)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no dashboard: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const base = /http:\/\/127\.0\.0\.1:\d+/.exec(stderr)![0];
  const list = await fetch(`${base}/attempts`);
  expect(list.status).toBe(200);
  const html = await list.text();
  expect(html).toContain(`<tr data-id="${attempt.id}">`);
  expect(html).toContain('read-only');
  expect(html).not.toContain('name="op"');
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(stderr).toContain('Dashboard stopped.');
});
