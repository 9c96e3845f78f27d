// Bad flags, a missing or broken config, and an unreachable database: one clear line and a documented exit code.
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
      ["export default { dialect: 'mysql', targets: {} };\n", `dialect must be 'postgres' or 'sqlite' (got "mysql")`],
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

  test('DATABASE_URL and --url override the config; an unreachable database exits 1 in one line', async () => {
    write(
      dir,
      'async-task.config.ts',
      "export default { dialect: 'postgres', url: 'postgres://config@127.0.0.1:1/x', targets: { Ops: { run() {} } } };\n",
    );
    const fromConfig = await runCli(dir, ['stats']);
    expect(fromConfig.code).toBe(1);
    expect(fromConfig.stderr).toContain('async-task: connect ECONNREFUSED 127.0.0.1:1');
    expect(fromConfig.stderr).toContain('(run with --verbose for the stack)');
    // The flag wins over the environment, which wins over the config: each names its own port.
    const fromEnv = await runCli(dir, ['stats'], { env: { DATABASE_URL: 'postgres://env@127.0.0.1:2/x' } });
    expect(fromEnv.stderr).toContain('ECONNREFUSED 127.0.0.1:2');
    const fromFlag = await runCli(dir, ['--url', 'postgres://flag@127.0.0.1:3/x', 'stats'], {
      env: { DATABASE_URL: 'postgres://env@127.0.0.1:2/x' },
    });
    expect(fromFlag.stderr).toContain('ECONNREFUSED 127.0.0.1:3');
  });
});
