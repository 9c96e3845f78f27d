import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { contextOf } from '../context.js';
import { CliError, EXIT, usageError } from '../errors.js';
import { withExamples } from '../help.js';
import {
  DEFAULT_MIGRATIONS_DIRS,
  DEFAULT_URLS,
  INIT_DIALECTS,
  type InitChoices,
  type InitDialect,
  MIGRATION_TOOLS,
  type MigrationTool,
  type PlannedFile,
  parseTimestamp,
  TEST_RUNNERS,
  type TestRunner,
} from '../init/choices.js';
import { findExistingMigration, migrationFiles } from '../init/migration-files.js';
import { nextSteps } from '../init/next-steps.js';
import { projectFiles } from '../init/project-files.js';
import { toolSetupFiles } from '../init/tool-setup.js';
import { canPrompt, chooseOne } from '../interaction.js';

interface InitFlags {
  dialect?: InitDialect;
  tool?: MigrationTool;
  runner?: TestRunner;
  table?: string;
  schema?: string;
  dir?: string;
  force?: boolean;
  json?: boolean;
}

const TOOL_CHOICES: { value: MigrationTool; label: string; hint: string }[] = [
  { value: 'sql', label: 'Raw SQL', hint: 'a .sql file for psql, sqlite3 or your SQL runner' },
  { value: 'knex', label: 'Knex', hint: 'knex migrate:latest' },
  { value: 'kysely', label: 'Kysely', hint: 'Migrator / kysely-ctl' },
  { value: 'drizzle', label: 'Drizzle', hint: 'drizzle-kit migrate' },
  { value: 'prisma', label: 'Prisma', hint: 'prisma migrate deploy' },
];

/** The project's dependencies (all kinds), from its package.json. */
function installedPackages(cwd: string): Set<string> {
  try {
    const json = JSON.parse(fs.readFileSync(path.join(cwd, 'package.json'), 'utf8'));
    return new Set(
      ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'].flatMap((key) =>
        Object.keys(json[key] ?? {}),
      ),
    );
  } catch {
    return new Set();
  }
}

/** What the project's package.json suggests for each choice: the only candidate, or undefined when none or several fit. */
export function detectChoices(installed: ReadonlySet<string>) {
  const only = <T>(found: T[]): T | undefined => (found.length === 1 ? found[0] : undefined);
  const dialects: InitDialect[] = [];
  if (['pg', 'postgres', '@prisma/adapter-pg'].some((name) => installed.has(name))) dialects.push('postgres');
  if (installed.has('better-sqlite3')) dialects.push('sqlite');
  // mysql2 serves MySQL and MariaDB alike, whose migrations differ (the collation): that one is asked or passed.
  if (installed.has('mysql2') || installed.has('mariadb')) dialects.push('mysql');
  const tools = (['knex', 'kysely', 'drizzle-orm', 'prisma'] as const)
    .filter((name) => installed.has(name) || (name === 'prisma' && installed.has('@prisma/client')))
    .map((name): MigrationTool => (name === 'drizzle-orm' ? 'drizzle' : name));
  const runners: TestRunner[] = [];
  if (installed.has('vitest')) runners.push('vitest');
  if (installed.has('tsx')) runners.push('node');
  return {
    // mysql2 alone does not say which server: MySQL and MariaDB get different migrations.
    dialect: only(dialects) === 'mysql' ? undefined : only(dialects),
    dialects,
    tool: tools.length === 0 ? ('sql' as const) : only(tools),
    tools,
    runner: only(runners) ?? (runners.length === 0 ? ('vitest' as const) : 'vitest'),
  };
}

async function decide(flags: InitFlags, cwd: string, url: string | undefined): Promise<InitChoices> {
  const detected = detectChoices(installedPackages(cwd));
  // Without a terminal nothing is asked: a choice comes from the flag, or from what package.json has installed.
  if (!canPrompt()) {
    const missing: string[] = [];
    if (!flags.dialect && !detected.dialect) {
      missing.push(
        `--dialect ${INIT_DIALECTS.join('|')} (${detected.dialects.length === 0 ? 'none of pg, better-sqlite3, mysql2 is in package.json' : `package.json has drivers for ${detected.dialects.join(', ')}`})`,
      );
    }
    if (!flags.tool && !detected.tool) {
      missing.push(`--tool ${MIGRATION_TOOLS.join('|')} (package.json has ${detected.tools.join(', ')})`);
    }
    if (missing.length > 0) {
      throw usageError(`No terminal to ask on: pass ${missing.join(' and ')}.`);
    }
  }
  const dialect =
    flags.dialect ??
    (await chooseOne<InitDialect>(
      'Which database?',
      [
        { value: 'postgres', label: 'PostgreSQL' },
        { value: 'sqlite', label: 'SQLite', hint: 'better-sqlite3, a file next to your app' },
        { value: 'mysql', label: 'MySQL', hint: '8.0.17+, over mysql2' },
        { value: 'mariadb', label: 'MariaDB', hint: '10.6+, over mysql2' },
      ],
      detected.dialect ?? 'sqlite',
    ));
  const tool =
    flags.tool ??
    (await chooseOne<MigrationTool>('Which migration tool do you use?', TOOL_CHOICES, detected.tool ?? 'sql'));
  const runner =
    flags.runner ??
    (await chooseOne<TestRunner>(
      'Which test runner?',
      [
        { value: 'vitest', label: 'Vitest' },
        { value: 'node', label: 'node:test', hint: 'with tsx' },
      ],
      detected.runner,
    ));
  if (flags.schema && dialect !== 'postgres') throw usageError('--schema is for PostgreSQL only.');
  if (tool === 'prisma' && (dialect === 'mysql' || dialect === 'mariadb')) {
    throw usageError(
      `Prisma on ${dialect === 'mysql' ? 'MySQL' : 'MariaDB'} is not supported yet: pass --tool sql, knex, kysely or drizzle.`,
    );
  }
  return {
    cwd,
    dialect,
    tool,
    runner,
    url: url ?? DEFAULT_URLS[dialect],
    table: flags.table,
    schema: flags.schema,
    migrationsDir: flags.dir ?? DEFAULT_MIGRATIONS_DIRS[tool],
    now: new Date(),
  };
}

/** Refuses to overwrite anything (or add a second migration of ours) unless --force. */
function checkConflicts(choices: InitChoices, files: readonly PlannedFile[], force: boolean | undefined): void {
  if (force) return;
  const conflicts = files.filter((file) => !file.updates && fs.existsSync(path.join(choices.cwd, file.path)));
  const existing = choices.tool === 'drizzle' ? undefined : findExistingMigration(choices.cwd, choices.migrationsDir);
  const problems = conflicts.map((file) => file.path);
  if (existing && !problems.includes(existing)) problems.push(`${existing} (a migration of ours)`);
  if (problems.length > 0) {
    throw new CliError(
      `Would overwrite ${problems.join(', ')}; nothing written. Pass --force to overwrite.`,
      EXIT.exists,
    );
  }
}

export function initCommand(): Command {
  const command = new Command('init')
    .description('set a project up: the migration for your tool, async-task.config.ts, a sample target and test')
    .addOption(
      new Option(
        '-d, --dialect <dialect>',
        'the database (asked on a terminal; else the one package.json has: pg, better-sqlite3; mysql2 is asked)',
      ).choices(INIT_DIALECTS),
    )
    .addOption(
      new Option('--tool <tool>', 'your migration tool (asked; else the one package.json has, or sql)').choices(
        MIGRATION_TOOLS,
      ),
    )
    .addOption(
      new Option(
        '--runner <runner>',
        'your test runner (asked; else vitest, or node:test when only tsx is there)',
      ).choices(TEST_RUNNERS),
    )
    .option('--table <name>', 'the attempts table (default async_task_attempts)')
    .option('--schema <name>', 'the PostgreSQL schema (default async_task, a schema of its own)')
    .option('--dir <dir>', "where the migration goes (default: the tool's usual folder)")
    .option('-f, --force', 'overwrite files that exist')
    .option('--json', 'print {written, nextSteps} as JSON')
    .action(async (flags: InitFlags, self: Command) => {
      const context = contextOf(self);
      // The global --url is the URL (or SQLite file) written into the config.
      let choices = await decide(flags, context.cwd, context.globals.url);
      // With --force, a migration of ours is rewritten in place (same timestamp), never added twice.
      const existing =
        choices.tool === 'drizzle' ? undefined : findExistingMigration(choices.cwd, choices.migrationsDir);
      const stamp = existing && /(\d{14})_async_task/.exec(existing)?.[1];
      if (flags.force && stamp) choices = { ...choices, now: parseTimestamp(stamp) };
      const setup = toolSetupFiles(choices);
      const files = [
        ...migrationFiles(
          choices,
          setup.map((file) => file.path),
        ),
        ...setup,
        ...projectFiles(choices),
      ];
      checkConflicts(choices, files, flags.force);
      for (const file of files) {
        const full = path.join(choices.cwd, file.path);
        fs.mkdirSync(path.dirname(full), { recursive: true });
        fs.writeFileSync(full, file.content);
      }
      const steps = nextSteps(choices, files);
      if (flags.json) return context.out.json({ written: files.map((file) => file.path), nextSteps: steps });
      const { colors } = context.out;
      context.out.line(colors.bold(`async-task init: ${choices.dialect}, ${choices.tool}, ${choices.runner}`));
      for (const file of files) context.out.line(`  ${colors.green(file.updates ? 'updated' : 'wrote')}  ${file.path}`);
      context.out.line(colors.bold('\nNext:'));
      for (const [index, step] of steps.entries()) context.out.line(`  ${index + 1}. ${step}`);
    });
  command.addHelpText('after', '\nThe global --url sets the URL (or SQLite file) written into the config.');
  return withExamples(command, [
    ['async-task init', 'asks for the database, migration tool and test runner'],
    ['async-task init --dialect postgres --tool knex', 'a Knex migration for PostgreSQL'],
    ['async-task init -d sqlite --tool drizzle --runner node', 'Drizzle Kit on SQLite, tests with node:test'],
    ['async-task init --tool prisma --force', 'again, overwriting what it wrote before'],
    ['async-task --url postgres://localhost/app init -d postgres', 'with this URL in the config'],
  ]);
}
