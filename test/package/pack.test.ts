// What `npm pack` ships: the docs and screenshots every link points to, and source maps that carry their
// sources, so a stack trace (and a stored last_error) names text the user has.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

function packedFiles(): string[] {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const output = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return (JSON.parse(output) as { files: { path: string }[] }[])[0]!.files.map((file) => file.path);
}

/** Relative link targets in a Markdown file, resolved from its folder (anchors and URLs left out). */
function relativeLinks(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '');
  const links: string[] = [];
  for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = match[1]!.split('#')[0]!;
    if (!target || /^[a-z]+:/i.test(target)) continue;
    links.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), target)));
  }
  return links;
}

describe('the packed tarball', { timeout: 60_000 }, () => {
  const files = packedFiles();

  test('ships the docs, their screenshots and the quick starts, beside dist', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'README.md',
        'CHANGELOG.md',
        'docs/cli.md',
        'docs/integrations.md',
        'docs/worker.md',
        'docs/dashboard.md',
        'examples/quick-start-postgres.ts',
        'examples/quick-start-sqlite.ts',
        'dist/index.js',
        'dist/cli/main.js',
      ]),
    );
    expect(files.filter((file) => file.startsWith('docs/screenshots/')).length).toBeGreaterThan(0);
    expect(files.some((file) => file.startsWith('test/'))).toBe(false);
  });

  test('every relative link in README.md and docs/*.md points to a packed file', () => {
    const markdown = files.filter((file) => file.endsWith('.md'));
    const dead: string[] = [];
    for (const file of markdown) {
      for (const link of relativeLinks(file)) if (!files.includes(link)) dead.push(`${file} → ${link}`);
    }
    expect(dead).toEqual([]);
  });

  test('every source map carries its sources, and names a packed file', () => {
    const maps = files.filter((file) => file.startsWith('dist/') && file.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(10);
    for (const file of maps) {
      const map = JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8'));
      expect(map.sourcesContent?.length, file).toBe(map.sources.length);
      for (const source of map.sources as string[]) {
        expect(files, `${file} names ${source}`).toContain(path.posix.join(path.posix.dirname(file), source));
      }
    }
  });
});
