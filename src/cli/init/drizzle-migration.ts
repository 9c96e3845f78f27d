import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CliError, EXIT } from '../errors.js';
import { type InitChoices, MIGRATION_NAME as NAME, type PlannedFile, readJson } from './choices.js';

const EMPTY_DRIZZLE_SNAPSHOT = {
  postgres: {
    version: '7',
    dialect: 'postgresql',
    tables: {},
    enums: {},
    schemas: {},
    views: {},
    sequences: {},
    roles: {},
    policies: {},
    _meta: { columns: {}, schemas: {}, tables: {} },
  },
  mysql: {
    version: '5',
    dialect: 'mysql',
    tables: {},
    views: {},
    _meta: { schemas: {}, tables: {}, columns: {} },
  },
  sqlite: {
    version: '6',
    dialect: 'sqlite',
    tables: {},
    views: {},
    enums: {},
    _meta: { columns: {}, schemas: {}, tables: {} },
  },
} as const;

/**
 * A Drizzle Kit custom migration, as `drizzle-kit generate --custom` lays it out: the SQL file with
 * statement breakpoints, a journal entry, and a snapshot copied from the previous one (the schema is unchanged).
 */
export function drizzleMigration(choices: InitChoices, up: string[], header: string): PlannedFile[] {
  const out = choices.migrationsDir;
  const journalPath = path.join(out, 'meta', '_journal.json');
  const fullJournal = path.join(choices.cwd, journalPath);
  const kind = choices.dialect === 'mariadb' ? 'mysql' : choices.dialect;
  const dialect = kind === 'postgres' ? 'postgresql' : kind;
  const journal = fs.existsSync(fullJournal) ? readJson(fullJournal) : { version: '7', dialect, entries: [] };
  if (journal.dialect !== dialect) {
    throw new CliError(`${journalPath} is for ${journal.dialect}, not ${dialect}`, EXIT.usage);
  }
  const entries = journal.entries as { idx: number; tag: string; version: string }[];
  const existing = entries.find((entry) => entry.tag.endsWith(`_${NAME}`));
  if (existing) throw new CliError(`${out} already has the migration ${existing.tag}`, EXIT.exists);
  const idx = entries.length === 0 ? 0 : Math.max(...entries.map((entry) => entry.idx)) + 1;
  const prefix = String(idx).padStart(4, '0');
  const tag = `${prefix}_${NAME}`;
  const previous = entries.length === 0 ? undefined : entries.find((entry) => entry.idx === idx - 1);
  const previousSnapshotPath =
    previous && path.join(choices.cwd, out, 'meta', `${previous.tag.slice(0, 4)}_snapshot.json`);
  const base =
    previousSnapshotPath && fs.existsSync(previousSnapshotPath)
      ? readJson(previousSnapshotPath)
      : { ...EMPTY_DRIZZLE_SNAPSHOT[kind], id: '00000000-0000-0000-0000-000000000000' };
  const snapshot = { ...base, id: randomUUID(), prevId: base.id };
  const entryVersion = previous?.version ?? EMPTY_DRIZZLE_SNAPSHOT[kind].version;
  journal.entries = [...entries, { idx, version: entryVersion, when: choices.now.getTime(), tag, breakpoints: true }];
  return [
    {
      path: path.join(out, `${tag}.sql`),
      content: `-- ${header}.\n${up.join(';\n--> statement-breakpoint\n')};\n`,
    },
    { path: path.join(out, 'meta', `${prefix}_snapshot.json`), content: `${JSON.stringify(snapshot, null, 2)}\n` },
    { path: journalPath, content: `${JSON.stringify(journal, null, 2)}\n`, updates: fs.existsSync(fullJournal) },
  ];
}
