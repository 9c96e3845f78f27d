import { Command } from 'commander';
import { postgresMigrationScript } from '../../store/postgres/migration-script.js';
import { sqliteMigrationScript } from '../../store/sqlite/migration-script.js';
import { loadConfig } from '../config/load-config.js';
import { contextOf, withAsyncTask } from '../context.js';
import { usageError } from '../errors.js';
import { nonNegativeInt, withExamples } from '../help.js';

export function migrateCommand(): Command {
  const command = new Command('migrate')
    .description('create or upgrade the attempts table (idempotent; the same as asyncTask.migrate())')
    .option('--print', 'print the migration SQL instead of running it (for your own tool or a DBA)')
    .option(
      '--after <version>',
      'with --print: only the migrations after this version (for an upgrade)',
      nonNegativeInt,
    )
    .option('--json', 'print the result as JSON')
    .action(async (options: { print?: boolean; after?: number; json?: boolean }, self: Command) => {
      const context = contextOf(self);
      if (options.after !== undefined && !options.print) throw usageError('--after goes with --print.');
      if (options.print) {
        const { config } = await loadConfig(context.cwd, context.globals.config);
        const statements =
          config.dialect === 'postgres'
            ? postgresMigrationScript({ schema: config.schema, table: config.table, afterVersion: options.after })
            : sqliteMigrationScript({ table: config.table, afterVersion: options.after });
        context.out.line(`${statements.join(';\n\n')};`);
        return;
      }
      await withAsyncTask(context, async ({ asyncTask, store, where }) => {
        const started = Date.now();
        await asyncTask.migrate();
        const result = { migrated: true, table: store.tableName, database: where, ms: Date.now() - started };
        if (options.json) context.out.json(result);
        else context.out.line(`${context.out.colors.green('✔')} ${store.tableName} is up to date (${where})`);
      });
    });
  return withExamples(command, [
    ['async-task migrate', 'apply the missing migrations to the configured database'],
    ['DATABASE_URL=postgres://localhost/app async-task migrate', 'the same on another database'],
    ['async-task migrate --print > async-task.sql', 'write the SQL for your DBA instead'],
    ['async-task migrate --print --after 1', "only what is newer than migration 1, for your tool's next migration"],
  ]);
}
