// Bad flags, a missing or broken config, and an unreachable database: one clear line and a documented exit code.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { makeProject, removeProject, runCli, write } from './support/project.js';

const dir = makeProject('errors');
afterAll(() => removeProject(dir));

const COMMANDS = [
  ['init'],
  ['migrate'],
  ['worker'],
  ['attempts'],
  ['attempts', 'list'],
  ['attempts', 'show'],
  ['attempts', 'retry'],
  ['attempts', 'expire'],
  ['attempts', 'fail'],
  ['stats'],
  ['demo'],
  ['relay'],
  ['consume'],
];

describe('async-task errors and help', () => {
  test('--help on every command shows examples and exits 0', async () => {
    for (const command of [[], ...COMMANDS]) {
      const { code, stdout } = await runCli(dir, [...command, '--help']);
      expect(code, command.join(' ')).toBe(0);
      expect(stdout, command.join(' ')).toContain('Examples:\n  $ async-task');
    }
    expect((await runCli(dir, ['--help'])).stdout).toContain('Exit codes: 0 ok, 1 failure, 2 usage, 3 config');
  });

  test('bad flags, values and commands exit 2 with one line and a hint', async () => {
    const cases: [string[], string][] = [
      [['attempts', 'list', '--bogus'], "error: unknown option '--bogus'"],
      [
        ['stats', '--window', '0'],
        "error: option '-w, --window <minutes>' argument '0' is invalid. Expected a positive integer.",
      ],
      [['attempts', 'list', '--status', 'done'], 'Allowed choices are pending, succeeded, failed, expired.'],
      [['init', '--tool', 'sequelize'], 'Allowed choices are sql, knex, kysely, drizzle, prisma.'],
      [['frobnicate'], "error: unknown command 'frobnicate'"],
      [['attempts', 'show'], "error: missing required argument 'id'"],
      [['relay', '--to', 'kafka'], 'Allowed choices are bullmq, rabbitmq, nats.'],
      [['consume'], "error: required option '--from <queue>' not specified"],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await runCli(dir, args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr.split('\n')[0], args.join(' ')).toContain(message);
      expect(stderr, args.join(' ')).toContain('(add --help for usage)');
    }
  });

  test('bulk operations without ids or filters, or with both, are usage errors', async () => {
    write(dir, 'async-task.config.ts', "export default { dialect: 'sqlite', url: 'app.db', targets: {} };\n");
    const none = await runCli(dir, ['attempts', 'retry']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(
      'Give attempt ids, or filters (--status, --target, --method, --token) to retry in bulk.',
    );
    const both = await runCli(dir, ['attempts', 'expire', '4', '--target', 'X']);
    expect(both.code).toBe(2);
    const wrongStatus = await runCli(dir, ['attempts', 'retry', '--status', 'pending']);
    expect(wrongStatus.code).toBe(2);
    expect(wrongStatus.stderr).toContain('retry applies to failed or expired attempts, not pending.');
  });

  test('no config file exits 3 and says how to make one', async () => {
    const empty = makeProject('no-config');
    try {
      const { code, stderr } = await runCli(empty, ['stats']);
      expect(code).toBe(3);
      expect(stderr.trim()).toBe(
        `async-task: No async-task.config.(ts|mts|js|mjs) in ${empty}: run \`async-task init\`, or pass --config <file>`,
      );
      const explicit = await runCli(empty, ['--config', 'nope.ts', 'stats']);
      expect(explicit.code).toBe(3);
      expect(explicit.stderr).toContain('Config file not found');
    } finally {
      removeProject(empty);
    }
  });

  test('a config that does not compile exits 3 with one line; --verbose adds the stack', async () => {
    write(dir, 'async-task.config.ts', "export default { dialect: 'sqlite', targets: {\n");
    const { code, stderr } = await runCli(dir, ['attempts', 'list']);
    expect(code).toBe(3);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^async-task: Could not load async-task\.config\.ts: .+/);
    const verbose = await runCli(dir, ['attempts', 'list', '--verbose']);
    expect(verbose.code).toBe(3);
    expect(verbose.stderr).toMatch(/\n\s+at /);
  });

  test('a config that throws or has the wrong shape exits 3 naming the problem', async () => {
    const cases: [string, string][] = [
      ["throw new Error('no secrets in this environment');\n", 'no secrets in this environment'],
      [
        "export default { dialect: 'oracle', targets: {} };\n",
        `dialect must be 'postgres', 'mysql' or 'sqlite' (got "oracle")`,
      ],
      ["export default { dialect: 'sqlite' };\n", 'targets must be an object of name → target'],
      ["export default { dialect: 'sqlite', targets: {} };\n", 'No database: set url in the config'],
    ];
    for (const [source, message] of cases) {
      write(dir, 'async-task.config.ts', source);
      const { code, stderr } = await runCli(dir, ['stats']);
      expect(code, source).toBe(3);
      expect(stderr, source).toContain(message);
      expect(stderr.trim().split('\n'), source).toHaveLength(1);
    }
  });

  test('DATABASE_URL and --url override the config; an unreachable database exits 8 in one line naming the URL and its source', async () => {
    write(
      dir,
      'async-task.config.ts',
      "export default { dialect: 'postgres', url: 'postgres://config:secret@127.0.0.1:1/x', targets: { Ops: { run() {} } } };\n",
    );
    const fromConfig = await runCli(dir, ['stats']);
    expect(fromConfig.code).toBe(8);
    expect(fromConfig.stderr.trim()).toBe(
      'async-task: Cannot reach the database postgres://config:***@127.0.0.1:1/x (from async-task.config.ts): connect ECONNREFUSED 127.0.0.1:1. Check that it is running and that the URL is right.',
    );
    // The flag wins over the environment, which wins over the config: each names its own port and source.
    const fromEnv = await runCli(dir, ['worker'], { env: { DATABASE_URL: 'postgres://env@127.0.0.1:2/x' } });
    expect(fromEnv.code).toBe(8);
    expect(fromEnv.stderr).toContain(
      'postgres://env@127.0.0.1:2/x (from DATABASE_URL): connect ECONNREFUSED 127.0.0.1:2',
    );
    const fromFlag = await runCli(dir, ['--url', 'postgres://flag@127.0.0.1:3/x', 'attempts', 'list'], {
      env: { DATABASE_URL: 'postgres://env@127.0.0.1:2/x' },
    });
    expect(fromFlag.stderr).toContain('(from --url): connect ECONNREFUSED 127.0.0.1:3');
    // --url must be of the config's dialect.
    const wrongFlag = await runCli(dir, ['--url', './app.db', 'stats']);
    expect(wrongFlag.code).toBe(2);
    expect(wrongFlag.stderr).toContain("is not a postgres:// URL, but the config's dialect is postgres");
  });

  test('a PostgreSQL DATABASE_URL never replaces a SQLite config: the CLI warns and keeps the file', async () => {
    write(
      dir,
      'async-task.config.ts',
      "export default { dialect: 'sqlite', url: 'app.db', targets: { Ops: { run() {} } } };\n",
    );
    const env = { DATABASE_URL: 'postgres://app:secret@127.0.0.1:5432/app' };
    const migrated = await runCli(dir, ['migrate'], { env });
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stderr).toContain(
      "warn DATABASE_URL (postgres://app:***@127.0.0.1:5432/app) is not a sqlite database; using the config's sqlite url",
    );
    expect(migrated.stdout).toContain(`${path.join(dir, 'app.db')} (from async-task.config.ts)`);
    expect(fs.existsSync(path.join(dir, 'app.db'))).toBe(true);
    // A SQLite DATABASE_URL (Prisma's file: spelling too) does override it.
    const other = await runCli(dir, ['stats'], { env: { DATABASE_URL: 'file:./other.db' } });
    expect(other.code).toBe(8);
    expect(other.stderr.trim()).toBe(
      `async-task: The attempts table async_task_attempts does not exist yet in ${path.join(dir, 'other.db')} (from DATABASE_URL): run \`async-task migrate\``,
    );
  });
});
