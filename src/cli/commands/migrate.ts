import { Command } from 'commander';
import { DatabaseUnreachableError } from '../../core/errors.js';
import { mysqlMigrationScript } from '../../store/mysql/migration-script.js';
import { postgresMigrationScript } from '../../store/postgres/migration-script.js';
import { sqliteMigrationScript } from '../../store/sqlite/migration-script.js';
import { loadConfig } from '../config/load-config.js';
import { explainDatabaseError } from '../config/open-async-task.js';
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
    .option('--mariadb', "with --print on MySQL: the script for MariaDB (its collation's name differs from MySQL 8's)")
    .option('--json', 'print the result as JSON')
    .action(async (options: { print?: boolean; after?: number; mariadb?: boolean; json?: boolean }, self: Command) => {
      const context = contextOf(self);
      if (options.after !== undefined && !options.print) throw usageError('--after goes with --print.');
      if (options.mariadb && !options.print) throw usageError('--mariadb goes with --print.');
      if (options.print) {
        const { config } = await loadConfig(context.cwd, context.globals.config);
        const statements =
          config.dialect === 'postgres'
            ? postgresMigrationScript({ schema: config.schema, table: config.table, afterVersion: options.after })
            : config.dialect === 'mysql'
              ? mysqlMigrationScript({
                  table: config.table,
                  database: config.database,
                  collation: options.mariadb ? 'utf8mb4_nopad_bin' : 'utf8mb4_0900_bin',
                  afterVersion: options.after,
                })
              : sqliteMigrationScript({ table: config.table, afterVersion: options.after });
        context.out.line(`${statements.join(';\n\n')};`);
        return;
      }
      await withAsyncTask(
        context,
        async ({ asyncTask, store, where }) => {
          const started = Date.now();
          const version = async () => {
            try {
              return (await store.schemaVersion?.())?.applied;
            } catch (error) {
              throw explainDatabaseError(new DatabaseUnreachableError(error), where);
            }
          };
          const before = await version();
          try {
            await asyncTask.migrate();
          } catch (error) {
            throw explainDatabaseError(error, where);
          }
          const after = await version();
          const ran = before !== undefined && after !== undefined ? after - before : undefined;
          const result = {
            // Whether this run applied any migration (false: it was up to date already).
            migrated: ran === undefined ? true : ran > 0,
            fromVersion: before ?? null,
            toVersion: after ?? null,
            table: store.tableName,
            database: where,
            ms: Date.now() - started,
          };
          if (options.json) return context.out.json(result);
          const { colors } = context.out;
          context.out.line(
            ran
              ? `${colors.green('✔')} ${store.tableName}: applied migrations ${before! + 1}–${after} on ${where}`
              : `${colors.green('✔')} ${store.tableName} was up to date${after ? ` (migration ${after})` : ''} on ${where}`,
          );
        },
        { skipReadyCheck: true },
      );
    });
  return withExamples(command, [
    ['async-task migrate', 'apply the missing migrations to the configured database'],
    ['DATABASE_URL=postgres://localhost/app async-task migrate', 'the same on another database'],
    ['async-task migrate --print > async-task.sql', 'write the SQL for your DBA instead'],
    ['async-task migrate --print --after 1', "only what is newer than migration 1, for your tool's next migration"],
  ]);
}
