import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_POSTGRES_SCHEMA, type InitChoices, inPublicSchema, isMysql, type PlannedFile } from './choices.js';

const exists = (choices: InitChoices, ...names: string[]) =>
  names.some((name) => fs.existsSync(path.join(choices.cwd, name)));

export function isModuleProject(cwd: string): boolean {
  try {
    return JSON.parse(fs.readFileSync(path.join(cwd, 'package.json'), 'utf8')).type === 'module';
  } catch {
    return false;
  }
}

const NOTE = 'Written by `async-task init` because the project had none; yours to change.';

function knexfile(choices: InitChoices): PlannedFile | undefined {
  if (exists(choices, 'knexfile.js', 'knexfile.mjs', 'knexfile.cjs', 'knexfile.ts', 'knexfile.mts')) return undefined;
  const dir = `./${choices.migrationsDir}`;
  const url = JSON.stringify(choices.url).replaceAll('"', "'");
  const config =
    choices.dialect !== 'sqlite'
      ? `{
  client: '${isMysql(choices) ? 'mysql2' : 'pg'}',
  connection: process.env.DATABASE_URL || ${url},
  migrations: { directory: '${dir}' },
}`
      : `{
  client: 'better-sqlite3',
  connection: { filename: process.env.DATABASE_URL || ${url} },
  useNullAsDefault: true,
  migrations: { directory: '${dir}' },
}`;
  const esm = isModuleProject(choices.cwd);
  return {
    path: 'knexfile.js',
    content: `// Knex's config. ${NOTE}\n${esm ? 'export default' : 'module.exports ='} ${config};\n`,
  };
}

function kyselyMigrator(choices: InitChoices): PlannedFile | undefined {
  const file = 'scripts/kysely-migrate.ts';
  if (exists(choices, file, 'kysely.config.ts', 'kysely.config.js', '.config/kysely.config.ts')) return undefined;
  const url = JSON.stringify(choices.url).replaceAll('"', "'");
  const dialect = isMysql(choices)
    ? {
        imports:
          "import { createPool } from 'mysql2';\nimport { FileMigrationProvider, Kysely, Migrator, MysqlDialect } from 'kysely';",
        create: `new MysqlDialect({ pool: createPool({ uri: process.env.DATABASE_URL || ${url} }) })`,
      }
    : choices.dialect === 'postgres'
      ? {
          imports:
            "import pg from 'pg';\nimport { FileMigrationProvider, Kysely, Migrator, PostgresDialect } from 'kysely';",
          create: `new PostgresDialect({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL || ${url} }) })`,
        }
      : {
          imports:
            "import Database from 'better-sqlite3';\nimport { FileMigrationProvider, Kysely, Migrator, SqliteDialect } from 'kysely';",
          create: `new SqliteDialect({ database: new Database(process.env.DATABASE_URL || ${url}) })`,
        };
  return {
    path: file,
    content: `// Runs the Kysely migrations in ${choices.migrationsDir}/: npx tsx ${file}. ${NOTE}
import { promises as fs } from 'node:fs';
import path from 'node:path';
${dialect.imports}

const db = new Kysely<unknown>({ dialect: ${dialect.create} });
const migrator = new Migrator({
  db,
  provider: new FileMigrationProvider({ fs, path, migrationFolder: path.resolve('${choices.migrationsDir}') }),
});
const { error, results } = await migrator.migrateToLatest();
for (const result of results ?? []) console.log(\`\${result.status}: \${result.migrationName}\`);
await db.destroy();
if (error) {
  console.error(error);
  process.exitCode = 1;
}
`,
  };
}

/** What keeps drizzle-kit push and pull off the library's objects, as lines of drizzle.config.ts. */
function drizzleFilter(choices: InitChoices): string {
  if (choices.dialect !== 'postgres' || inPublicSchema(choices)) {
    return `  // The library's tables are not in your schema: keep drizzle-kit push away from them.${
      inPublicSchema(choices)
        ? `\n  // (In public, push still sees their id sequence: the default schema, ${DEFAULT_POSTGRES_SCHEMA}, avoids that.)`
        : ''
    }
  tablesFilter: ['!${choices.table ?? 'async_task_attempts'}*'],
`;
  }
  const schema = choices.schema ?? DEFAULT_POSTGRES_SCHEMA;
  return `  // Only your schemas: the library's objects live in '${schema}', which drizzle-kit push must not touch.
  schemaFilter: ['public'],
`;
}

function drizzleSetup(choices: InitChoices): PlannedFile[] {
  if (exists(choices, 'drizzle.config.ts', 'drizzle.config.js', 'drizzle.config.mjs', 'drizzle.config.json')) return [];
  const url = JSON.stringify(choices.url).replaceAll('"', "'");
  const files: PlannedFile[] = [
    {
      path: 'drizzle.config.ts',
      content: `// Drizzle Kit's config. ${NOTE}
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: '${{ postgres: 'postgresql', sqlite: 'sqlite', mysql: 'mysql', mariadb: 'mysql' }[choices.dialect]}',
  schema: './src/db/schema.ts',
  out: './${choices.migrationsDir}',
  dbCredentials: { url: process.env.DATABASE_URL || ${url} },
${drizzleFilter(choices)}});
`,
    },
  ];
  if (!exists(choices, 'src/db/schema.ts')) {
    files.push({ path: 'src/db/schema.ts', content: '// Your Drizzle tables go here.\nexport {};\n' });
  }
  return files;
}

/**
 * Prisma reads only the datasource's schemas (`public` unless `schemas` says more), so the library's own
 * schema needs nothing; tables it shares with the app are declared external, so `prisma migrate dev` keeps them.
 */
function prismaExternalTables(choices: InitChoices): string {
  const table = choices.table ?? 'async_task_attempts';
  if (choices.dialect === 'postgres' && !inPublicSchema(choices)) {
    return `  // The library's objects live in the '${choices.schema ?? DEFAULT_POSTGRES_SCHEMA}' schema, outside the datasource's (public):
  // migrate dev, its drift check and db pull never see them.
`;
  }
  const qualified = choices.dialect === 'postgres' ? `public.${table}` : table;
  return `  // The library's tables have no Prisma model: \`prisma migrate dev\` must not drop them.
  experimental: { externalTables: true },
  tables: { external: [${libraryTables(qualified, choices.dialect)
    .map((name) => `'${name}'`)
    .join(', ')}] },
`;
}

function prismaSetup(choices: InitChoices): PlannedFile[] {
  const files: PlannedFile[] = [];
  if (!exists(choices, 'prisma.config.ts', 'prisma.config.mts', 'prisma.config.js', '.config/prisma.ts')) {
    files.push({
      path: 'prisma.config.ts',
      content: `// Prisma's config. ${NOTE}
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: '${choices.migrationsDir}' },
  datasource: { url: process.env.DATABASE_URL || ${JSON.stringify(choices.dialect === 'sqlite' ? `file:${choices.url}` : choices.url).replaceAll('"', "'")} },
${prismaExternalTables(choices)}});
`,
    });
  }
  if (!exists(choices, 'prisma/schema.prisma')) {
    files.push({
      path: 'prisma/schema.prisma',
      content: `// ${NOTE}
${
  choices.dialect === 'postgres'
    ? `// \`npx prisma generate\` writes the client src/db/client.ts imports.
generator client {
  provider            = "prisma-client"
  output              = "../src/generated/prisma"
  importFileExtension = "js"
}

`
    : ''
}datasource db {
  provider = "${choices.dialect === 'postgres' ? 'postgresql' : 'sqlite'}"
}
`,
    });
  }
  return files;
}

/** The tool's own setup (knexfile, drizzle.config.ts…) when the project has none, so an empty folder works. */
export function toolSetupFiles(choices: InitChoices): PlannedFile[] {
  switch (choices.tool) {
    case 'sql':
      return [];
    case 'knex':
      return [knexfile(choices)].filter((file): file is PlannedFile => file !== undefined);
    case 'kysely':
      return [kyselyMigrator(choices)].filter((file): file is PlannedFile => file !== undefined);
    case 'drizzle':
      return drizzleSetup(choices);
    case 'prisma':
      return prismaSetup(choices);
  }
}

/**
 * The library's tables for a tool's "do not touch" list: the attempts, each run's errors and the bookkeeping; on
 * PostgreSQL the attempts view's hot, history and keys too.
 */
export function libraryTables(qualified: string, dialect: InitChoices['dialect']): string[] {
  const parts =
    dialect === 'sqlite' ? ['', '_errors', '_migrations'] : ['', '_hot', '_history', '_keys', '_errors', '_migrations'];
  return parts.map((suffix) => `${qualified}${suffix}`);
}
