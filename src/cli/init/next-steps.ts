import type { InitChoices, PlannedFile } from './choices.js';
import { TEST_PATH } from './project-files.js';

/** What to run after `init`, in order, for the chosen dialect, tool and runner. */
export function nextSteps(choices: InitChoices, files: readonly PlannedFile[]): string[] {
  const migration = files[0]?.path ?? '';
  const driver = choices.dialect === 'postgres' ? 'pg' : 'better-sqlite3';
  const runnerPackages = choices.runner === 'vitest' ? 'vitest' : 'tsx';
  const steps = [`npm install async-task ${driver} && npm install -D ${runnerPackages}`];
  const db = choices.dialect === 'postgres' ? '"$DATABASE_URL"' : choices.url;
  switch (choices.tool) {
    case 'sql':
      steps.push(
        choices.dialect === 'postgres'
          ? `psql ${db} -1 -v ON_ERROR_STOP=1 -f ${migration}   # or your SQL migration runner`
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
        `run your Kysely Migrator (migrateToLatest) over ${choices.migrationsDir}, or: npx kysely migrate:latest`,
      );
      break;
    case 'drizzle':
      steps.push(
        'npx drizzle-kit migrate',
        "with drizzle-kit push, keep the library's tables out: tablesFilter: ['!async_task_*'] in drizzle.config.ts",
      );
      break;
    case 'prisma': {
      const table = `${choices.schema ?? 'public'}.${choices.table ?? 'async_task_attempts'}`;
      steps.push(
        'npx prisma migrate deploy',
        "so `prisma migrate dev` never drops the library's tables, list them in prisma.config.ts: " +
          `experimental: { externalTables: true }, tables: { external: ['${table}', '${table}_migrations'] }`,
      );
      break;
    }
  }
  steps.push(
    choices.runner === 'vitest' ? `npx vitest run ${TEST_PATH}` : `node --import tsx --test ${TEST_PATH}`,
    'npx async-task worker   # performs attempts as they come; Ctrl-C stops it gracefully',
  );
  return steps;
}
