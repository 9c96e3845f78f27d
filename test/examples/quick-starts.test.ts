// The README's quick starts are the files under examples/, and they run as written against a real database.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { createDatabase } from '../cli/support/project.js';
import { DEFAULT_PG_TABLE } from '../support/pg-names.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The first ```ts block after `heading` in the README. */
function readmeBlock(heading: string): string {
  const start = readme.indexOf(`\n${heading}\n`);
  expect(start, `README has no "${heading}"`).toBeGreaterThan(-1);
  const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(start));
  return match?.[1] ?? '';
}

function run(file: string, cwd: string, env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [TSX, path.join(ROOT, file)], {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

const QUICK_STARTS = [
  { heading: '## Quick start (PostgreSQL)', file: 'examples/quick-start-postgres.ts', dialect: 'postgres' },
  {
    heading: '## Quick start (SQLite, the embedded default)',
    file: 'examples/quick-start-sqlite.ts',
    dialect: 'sqlite',
  },
] as const;

const dialects = (process.env.ASYNC_TASK_DIALECTS ?? 'postgres,sqlite').split(',');

describe('README quick starts', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  for (const quickStart of QUICK_STARTS) {
    test(`${quickStart.heading}: the README block is ${quickStart.file}`, () => {
      expect(readmeBlock(quickStart.heading)).toBe(fs.readFileSync(path.join(ROOT, quickStart.file), 'utf8'));
    });

    test.skipIf(!dialects.includes(quickStart.dialect))(
      `${quickStart.file} runs as written, twice, and ships the order through ctx.tx`,
      { timeout: 60_000 },
      async () => {
        const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'async-task-quick-start-'));
        cleanups.push(() => fs.rmSync(cwd, { recursive: true, force: true }));
        const env: Record<string, string> = {};
        if (quickStart.dialect === 'postgres') {
          const database = await createDatabase(inject('pgAdminUrl'));
          cleanups.push(database.drop);
          env.DATABASE_URL = database.url;
        }
        for (const round of [1, 2]) {
          const { code, output } = await run(quickStart.file, cwd, env);
          expect(code, output).toBe(0);
          expect(output).toContain(`shipping order ${round}`);
          expect(output).toMatch(new RegExp(`attempt ${round}: succeeded after 1 run; shipped_at set`));
        }
        if (quickStart.dialect === 'postgres') {
          const client = new pg.Client({ connectionString: env.DATABASE_URL });
          await client.connect();
          const { rows } = await client.query(
            'SELECT count(*)::int AS shipped FROM orders WHERE shipped_at IS NOT NULL',
          );
          // The app's table is alone in public; the library's objects went to a schema of their own.
          const publicTables = await client.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
          const attempts = await client.query(`SELECT count(*)::int AS n FROM ${DEFAULT_PG_TABLE}`);
          await client.end();
          expect(rows[0].shipped).toBe(2);
          expect(publicTables.rows).toEqual([{ tablename: 'orders' }]);
          expect(attempts.rows[0].n).toBe(2);
        } else {
          expect(fs.existsSync(path.join(cwd, 'app.sqlite'))).toBe(true);
        }
      },
    );
  }
});
