import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
export const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const ROOT_MODULES = path.join(ROOT, 'node_modules');

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly env?: Record<string, string | undefined>;
  readonly input?: string;
  readonly timeoutMs?: number;
}

/** The environment of a child: ours without the test runner's variables or a stray DATABASE_URL. */
function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('VITEST') || key === 'DATABASE_URL' || key === 'NODE_OPTIONS' || key === 'TEST') continue;
    env[key] = value;
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Runs a program to completion (no terminal attached) and collects its output. */
export function runProgram(cwd: string, command: string, args: readonly string[], options: RunOptions = {}) {
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: childEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Runs the built `async-task` CLI as a user would (`npx async-task …`). */
export function runCli(cwd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return runProgram(cwd, process.execPath, [CLI, ...args], options);
}

/** Runs a package's own CLI from the project's node_modules (knex, drizzle-kit, vitest…). */
export function runNode(cwd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return runProgram(cwd, process.execPath, args, options);
}

/** Parses the CLI's --json output, failing with its stderr when it is not JSON. */
export function json<T = any>(result: RunResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${result.code}): ${result.stdout}\n${result.stderr}`);
  }
}

/**
 * An empty project folder of an ESM TypeScript app: `node_modules` links every package installed
 * here, plus `async-task` itself (this repository, with its built `dist`), as `npm install` would.
 */
export function makeProject(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `async-task-cli-${name}-`));
  const modules = path.join(dir, 'node_modules');
  fs.mkdirSync(modules);
  for (const entry of fs.readdirSync(ROOT_MODULES)) {
    if (entry === '.vite' || entry === '.vitest') continue;
    fs.symlinkSync(path.join(ROOT_MODULES, entry), path.join(modules, entry));
  }
  fs.symlinkSync(ROOT, path.join(modules, 'async-task-ts'));
  write(dir, 'package.json', JSON.stringify({ name, private: true, type: 'module' }, null, 2));
  return dir;
}

export function write(dir: string, file: string, content: string): void {
  fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  fs.writeFileSync(path.join(dir, file), content);
}

export function read(dir: string, file: string): string {
  return fs.readFileSync(path.join(dir, file), 'utf8');
}

export function removeProject(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A new, empty database on the test server; returns its URL and a function that drops it. */
export async function createDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `async_task_cli_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** Fails with the child's output when it did not exit 0. */
export function expectOk(result: RunResult, what: string): RunResult {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result;
}

export interface TerminalStep {
  /** Wait until the screen shows this text… */
  readonly waitFor: string;
  /** …then type these keys, one at a time. */
  readonly keys: readonly string[];
}

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`, 100×40) so prompts, colours and progress bars
 * behave as for a person, answering with keystrokes; returns the exit code and everything shown.
 */
export async function runCliOnTerminal(
  cwd: string,
  args: readonly string[],
  steps: readonly TerminalStep[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; screen: string }> {
  const quoted = [process.execPath, CLI, ...args].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qfec', `stty cols 100 rows 40; exec ${quoted}`, '/dev/null'], {
    cwd,
    env: childEnv({ TERM: 'xterm', ...env }),
  });
  let screen = '';
  child.stdout.on('data', (chunk) => {
    screen += chunk;
  });
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  for (const step of steps) {
    for (let i = 0; i < 400 && !screen.includes(step.waitFor); i++) await sleep(25);
    for (const key of step.keys) {
      child.stdin.write(key);
      await sleep(100);
    }
  }
  const code = await closed;
  clearTimeout(timer);
  return { code, screen };
}

export const KEYS = { up: '\u001b[A', down: '\u001b[B', enter: '\r' } as const;

export const hasScript = fs.existsSync('/usr/bin/script');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
