// What `init` writes and refuses to write, with flags and with prompts on a real terminal.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  hasScript,
  json,
  KEYS,
  makeProject,
  read,
  removeProject,
  runCli,
  runCliOnTerminal,
  write,
} from './support/project.js';

const projects: string[] = [];
const project = (name: string) => {
  const dir = makeProject(name);
  projects.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of projects) removeProject(dir);
});

describe('async-task init', () => {
  test.skipIf(!hasScript)(
    'asks for the dialect, tool and runner when a terminal is attached, and colours its report',
    async () => {
      const dir = project('init-tty');
      // sqlite is preselected: up to postgres; sql preselected: down to knex; vitest preselected: down to node:test.
      const { code, screen } = await runCliOnTerminal(
        dir,
        ['init'],
        [
          { waitFor: 'Which database?', keys: [KEYS.up, KEYS.enter] },
          { waitFor: 'Which migration tool', keys: [KEYS.down, KEYS.enter] },
          { waitFor: 'Which test runner?', keys: [KEYS.down, KEYS.enter] },
        ],
      );
      expect(code, screen).toBe(0);
      expect(screen).toContain('async-task init: postgres, knex, node');
      expect(screen).toContain('\u001b[32mwrote\u001b[39m');
      expect(read(dir, 'async-task.config.ts')).toContain("dialect: 'postgres'");
      expect(read(dir, 'test/async-task.test.ts')).toContain("from 'node:test'");
      const [migration] = fs.readdirSync(path.join(dir, 'migrations'));
      expect(migration).toMatch(/^\d{14}_async_task\.js$/);
      expect(read(dir, `migrations/${migration}`)).toContain('export async function up(knex)');
    },
  );

  test('without a terminal, init chooses from what package.json has installed, or requires the flag', async () => {
    const empty = project('init-no-terminal');
    const refused = await runCli(empty, ['init']);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe(
      'async-task: No terminal to ask on: pass --dialect postgres|sqlite|mysql|mariadb (none of pg, better-sqlite3, mysql2 is in package.json).',
    );
    expect(fs.existsSync(path.join(empty, 'async-task.config.ts'))).toBe(false);

    // mysql2 alone does not say MySQL or MariaDB (their migrations differ): the flag is required.
    const mysqlProject = project('init-mysql2');
    write(mysqlProject, 'package.json', JSON.stringify({ type: 'module', dependencies: { mysql2: '^3' } }));
    const undecided = await runCli(mysqlProject, ['init']);
    expect(undecided.code).toBe(2);
    expect(undecided.stderr).toContain('package.json has drivers for mysql');
    expect(fs.existsSync(path.join(mysqlProject, 'async-task.config.ts'))).toBe(false);
    // Prisma is not offered on MySQL.
    const prisma = await runCli(mysqlProject, ['init', '--dialect', 'mysql', '--tool', 'prisma']);
    expect(prisma.code).toBe(2);
    expect(prisma.stderr).toContain('Prisma on MySQL is not supported yet');

    // pg installed, better-sqlite3 not: PostgreSQL, never a silent SQLite.
    const dir = project('init-detected');
    write(
      dir,
      'package.json',
      JSON.stringify({
        type: 'module',
        dependencies: { pg: '^8', kysely: '^0.28' },
        devDependencies: { vitest: '^4' },
      }),
    );
    const { written } = json(await runCli(dir, ['init', '--json']));
    expect(written).toEqual([
      expect.stringMatching(/^migrations\/\d{14}_async_task\.ts$/),
      'scripts/kysely-migrate.ts',
      'async-task.config.ts',
      'src/db/client.ts',
      'src/targets/greeter.ts',
      'test/async-task.test.ts',
    ]);
    expect(read(dir, 'async-task.config.ts')).toContain("dialect: 'postgres'");
    expect(read(dir, 'src/db/client.ts')).toContain('kyselyDriver(db)');
    expect(read(dir, 'test/async-task.test.ts')).toContain("from 'vitest'");

    // Two ORMs installed: which one is the user's to say.
    write(
      dir,
      'package.json',
      JSON.stringify({ dependencies: { 'better-sqlite3': '^12', knex: '^3', 'drizzle-orm': '^0.45' } }),
    );
    const ambiguous = await runCli(dir, ['init', '--force']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain('pass --tool sql|knex|kysely|drizzle|prisma (package.json has knex, drizzle)');
  });

  test('never overwrites without --force; --force rewrites its migration in place', async () => {
    const dir = project('init-force');
    const first = json(await runCli(dir, ['init', '-d', 'postgres', '--tool', 'kysely', '--json']));
    write(dir, 'src/targets/greeter.ts', '// my own edits\n');

    const refused = await runCli(dir, ['init', '-d', 'postgres', '--tool', 'kysely']);
    expect(refused.code).toBe(7);
    expect(refused.stderr).toContain('Would overwrite');
    expect(refused.stderr).toContain('nothing written. Pass --force to overwrite.');
    expect(read(dir, 'src/targets/greeter.ts')).toBe('// my own edits\n');

    // A migration of ours from an earlier run still counts: a second one would create the table twice.
    for (const file of ['async-task.config.ts', 'src/targets/greeter.ts', 'test/async-task.test.ts']) {
      fs.rmSync(path.join(dir, file));
    }
    const earlier = 'migrations/20200101000000_async_task.ts';
    fs.renameSync(path.join(dir, first.written[0]), path.join(dir, earlier));
    const second = await runCli(dir, ['init', '-d', 'postgres', '--tool', 'kysely']);
    expect(second.code).toBe(7);
    expect(second.stderr).toContain(`${earlier} (a migration of ours)`);

    const forced = json(await runCli(dir, ['init', '-d', 'postgres', '--tool', 'kysely', '--force', '--json']));
    // The Migrator script init added the first time is there already: the tool's setup is never rewritten.
    expect(first.written).toContain('scripts/kysely-migrate.ts');
    expect(forced.written).toEqual([
      earlier,
      ...first.written.slice(1).filter((file: string) => !file.startsWith('scripts/')),
    ]);
    expect(fs.readdirSync(path.join(dir, 'migrations'))).toEqual(['20200101000000_async_task.ts']);
    expect(read(dir, 'src/targets/greeter.ts')).toContain('export const Greeter');
  });

  test('--table and --schema reach the migration, the config and the sample test', async () => {
    const dir = project('init-names');
    const { written } = json(
      await runCli(dir, ['init', '-d', 'postgres', '--tool', 'sql', '--table', 'jobs', '--schema', 'queue', '--json']),
    );
    const sql = read(dir, written[0]);
    expect(sql).toContain('CREATE SCHEMA IF NOT EXISTS "queue"');
    expect(sql).toContain('CREATE TABLE "queue"."jobs"');
    expect(sql).toContain('INSERT INTO "queue"."jobs_migrations" (version, name) VALUES (1,');
    expect(read(dir, 'async-task.config.ts')).toContain("schema: 'queue',\n  table: 'jobs',");
    expect(read(dir, 'src/db/client.ts')).toContain("postgres(pool, { schema: 'queue', table: 'jobs' })");
    const bad = await runCli(dir, ['init', '-d', 'sqlite', '--schema', 'queue', '--force']);
    expect(bad.code).toBe(2);
    const badName = await runCli(dir, ['init', '-d', 'sqlite', '--table', 'jobs; drop', '--force']);
    expect(badName.code).toBe(3);
    expect(badName.stderr).toContain('table "jobs; drop" must match');
  });
});
