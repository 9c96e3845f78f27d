import fs from 'node:fs';
import path from 'node:path';
import {
  DEFAULT_POSTGRES_SCHEMA,
  type InitChoices,
  inPublicSchema,
  isMysql,
  type MigrationTool,
  type PlannedFile,
} from './choices.js';
import { dataLayer } from './data-layer.js';
import { TEST_PATH } from './project-files.js';
import { libraryTables } from './tool-setup.js';

/** What each tool needs installed, beside what `src/db/client.ts` imports and the test runner. */
const TOOL_PACKAGES: Record<MigrationTool, { runtime: string[]; dev: string[] }> = {
  sql: { runtime: [], dev: [] },
  knex: { runtime: ['knex'], dev: [] },
  kysely: { runtime: ['kysely'], dev: ['tsx'] },
  drizzle: { runtime: ['drizzle-orm'], dev: ['drizzle-kit'] },
  prisma: { runtime: [], dev: ['prisma'] },
};

/** What to run after `init`, in order, for the chosen dialect, tool and runner. */
export function nextSteps(choices: InitChoices, files: readonly PlannedFile[]): string[] {
  const migration = files[0]?.path ?? '';
  const has = (name: string) => files.some((file) => file.path === name) || fs.existsSync(path.join(choices.cwd, name));
  const runtime = [
    ...new Set([
      'async-task-ts',
      { postgres: 'pg', sqlite: 'better-sqlite3', mysql: 'mysql2', mariadb: 'mysql2' }[choices.dialect],
      ...TOOL_PACKAGES[choices.tool].runtime,
      ...dataLayer(choices).packages,
    ]),
  ];
  const dev = new Set([choices.runner === 'vitest' ? 'vitest' : 'tsx', ...TOOL_PACKAGES[choices.tool].dev]);
  const steps = [`npm install ${runtime.join(' ')} && npm install -D ${[...dev].join(' ')}`];
  const db = choices.dialect === 'sqlite' ? choices.url : '"$DATABASE_URL"';
  switch (choices.tool) {
    case 'sql':
      steps.push(
        choices.dialect === 'postgres'
          ? `psql ${db} -1 -v ON_ERROR_STOP=1 -f ${migration}   # or your SQL migration runner`
          : isMysql(choices)
            ? `mysql <database> < ${migration}   # the mysql or mariadb client, or your SQL migration runner`
            : `sqlite3 ${db} < ${migration}   # or your SQL migration runner`,
      );
      break;
    case 'knex':
      steps.push(
        migration.endsWith('.ts')
          ? 'node --import tsx ./node_modules/knex/bin/cli.js migrate:latest   # knex with a TypeScript knexfile'
          : 'npx knex migrate:latest',
      );
      break;
    case 'kysely':
      steps.push(
        has('scripts/kysely-migrate.ts')
          ? 'npx tsx scripts/kysely-migrate.ts   # or your own Migrator, or kysely-ctl'
          : `run your Kysely Migrator (migrateToLatest) over ${choices.migrationsDir}, or: npx kysely migrate:latest`,
      );
      break;
    case 'drizzle':
      steps.push('npx drizzle-kit migrate');
      if (!files.some((file) => file.path === 'drizzle.config.ts')) {
        steps.push(
          choices.dialect !== 'postgres' || inPublicSchema(choices)
            ? `with drizzle-kit push, keep the library's tables out: tablesFilter: ['!${choices.table ?? 'async_task_attempts'}*'] in drizzle.config.ts`
            : `with drizzle-kit push, keep schemaFilter (default ['public']) free of '${choices.schema ?? DEFAULT_POSTGRES_SCHEMA}', the library's schema`,
        );
      }
      break;
    case 'prisma': {
      if (choices.dialect === 'postgres') steps.push('npx prisma generate   # the client src/db/client.ts imports');
      const name = choices.table ?? 'async_task_attempts';
      const table = choices.dialect === 'postgres' ? `public.${name}` : name;
      steps.push(
        choices.dialect === 'sqlite'
          ? 'npx prisma migrate deploy   # Prisma wants DATABASE_URL=file:./app.db; the CLI accepts that spelling too'
          : 'npx prisma migrate deploy',
      );
      // In a schema of its own (the default), outside the datasource's, Prisma never sees the library's tables.
      if (
        !files.some((file) => file.path === 'prisma.config.ts') &&
        (choices.dialect === 'sqlite' || inPublicSchema(choices))
      ) {
        steps.push(
          "so `prisma migrate dev` never drops the library's tables, list them in prisma.config.ts: " +
            `experimental: { externalTables: true }, tables: { external: [${libraryTables(table, 'postgres')
              .map((name) => `'${name}'`)
              .join(', ')}] }`,
        );
      }
      break;
    }
  }
  steps.push(
    choices.runner === 'vitest' ? `npx vitest run ${TEST_PATH}` : `node --import tsx --test ${TEST_PATH}`,
    'npx async-task worker   # performs attempts as they come; Ctrl-C stops it gracefully',
  );
  return steps;
}
