import fs from 'node:fs';
import type { ConfigDialect } from '../config/define-config.js';

/**
 * The databases `init` writes a project for. MySQL and MariaDB are one dialect of the config, but the migration
 * names the server's binary collation, which differs (docs/mysql.md).
 */
export type InitDialect = Exclude<ConfigDialect, 'mysql'> | 'mysql' | 'mariadb';
export const INIT_DIALECTS: readonly InitDialect[] = ['postgres', 'sqlite', 'mysql', 'mariadb'];

/** The config's dialect for an `init` dialect. */
export const configDialect = (dialect: InitDialect): ConfigDialect => (dialect === 'mariadb' ? 'mysql' : dialect);

/** MySQL or MariaDB. */
export const isMysql = (choices: Pick<InitChoices, 'dialect'>): boolean =>
  choices.dialect === 'mysql' || choices.dialect === 'mariadb';

import { CliError, EXIT } from '../errors.js';

/** The name every migration `init` writes ends with. */
export const MIGRATION_NAME = 'async_task';

export const MIGRATION_TOOLS = ['sql', 'knex', 'kysely', 'drizzle', 'prisma'] as const;
export type MigrationTool = (typeof MIGRATION_TOOLS)[number];

export const TEST_RUNNERS = ['vitest', 'node'] as const;
export type TestRunner = (typeof TEST_RUNNERS)[number];

/** Everything `init` decides before it writes. */
export interface InitChoices {
  readonly cwd: string;
  readonly dialect: InitDialect;
  readonly tool: MigrationTool;
  readonly runner: TestRunner;
  /** Written into the config; `DATABASE_URL` still overrides it. */
  readonly url: string;
  readonly table: string | undefined;
  readonly schema: string | undefined;
  /** Where the migration goes; each tool has its own default. */
  readonly migrationsDir: string;
  /** The migration's timestamp: names sort by it in every tool. */
  readonly now: Date;
}

/** A file `init` will write, relative to `cwd`. */
export interface PlannedFile {
  readonly path: string;
  readonly content: string;
  /** Appending to an existing file of the tool (Drizzle's journal) rather than creating one. */
  readonly updates?: boolean;
}

/**
 * The PostgreSQL schema the library uses when none is given (the stores' default): its own, so ORM
 * tools that read only `public` (drizzle-kit push, Prisma's migrate and db pull) never see its objects.
 */
export const DEFAULT_POSTGRES_SCHEMA = 'async_task';

/** Whether the library's objects go into `public`, where ORM tools see them and need telling to keep off. */
export const inPublicSchema = (choices: Pick<InitChoices, 'dialect' | 'schema'>): boolean =>
  choices.dialect === 'postgres' && choices.schema === 'public';

export const DEFAULT_URLS: Record<InitDialect, string> = {
  postgres: 'postgres://postgres@localhost:5432/postgres',
  sqlite: 'app.db',
  mysql: 'mysql://root@localhost:3306/app',
  mariadb: 'mysql://root@localhost:3306/app',
};

export const DEFAULT_MIGRATIONS_DIRS: Record<MigrationTool, string> = {
  sql: 'migrations',
  knex: 'migrations',
  kysely: 'migrations',
  drizzle: 'drizzle',
  prisma: 'prisma/migrations',
};

/** `20261128110722`: the prefix Knex and Prisma give their migrations. */
export function timestamp(date: Date): string {
  return date.toISOString().replace(/\D/g, '').slice(0, 14);
}

/** The inverse of `timestamp`. */
export function parseTimestamp(stamp: string): Date {
  const [y, mo, d, h, mi, s] = [0, 4, 6, 8, 10, 12].map((at, i) => Number(stamp.slice(at, at + (i === 0 ? 4 : 2))));
  return new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
}

export function readJson(file: string): any {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliError(`Could not read ${file}`, EXIT.failure, { cause: error });
  }
}
