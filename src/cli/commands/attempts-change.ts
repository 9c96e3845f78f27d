import { Command } from 'commander';
import type { AsyncTask } from '../../async-task/async-task.js';
import { AsyncTaskError } from '../../core/errors.js';
import { ATTEMPT_TRANSITIONS } from '../../core/transitions.js';
import type { AttemptStatus } from '../../core/types.js';
import { contextOf, withAsyncTask } from '../context.js';
import { CliError, EXIT, usageError } from '../errors.js';
import { positiveInt, withExamples } from '../help.js';
import { confirmOrCancel, startProgress } from '../interaction.js';
import { addFilterOptions, type FilterOptions, hasFilter, toListOptions } from './attempt-filters.js';

type Operation = 'retry' | 'expire' | 'fail';

const OPERATIONS: Record<
  Operation,
  { from: readonly AttemptStatus[]; description: string; verb: string; done: string }
> = {
  retry: {
    from: ATTEMPT_TRANSITIONS.retry.from,
    description: 'put failed or expired attempts back to pending, due now',
    verb: 'Retry',
    done: 'Retried',
  },
  expire: {
    from: ATTEMPT_TRANSITIONS.expire.from,
    description: 'mark pending attempts expired (they will not run)',
    verb: 'Expire',
    done: 'Expired',
  },
  fail: {
    from: ATTEMPT_TRANSITIONS.fail.from,
    description: 'mark pending attempts failed (they will not run)',
    verb: 'Fail',
    done: 'Failed',
  },
};

interface ChangeFlags extends FilterOptions {
  limit?: number;
  yes?: boolean;
  json?: boolean;
}

/** Every id matching the filters in the statuses the operation starts from, read before anything changes. */
async function selectIds(
  asyncTask: AsyncTask<any, any>,
  filters: FilterOptions,
  from: readonly AttemptStatus[],
  limit: number | undefined,
) {
  const statuses = filters.status ? from.filter((status) => status === filters.status) : from;
  const ids: string[] = [];
  for (const status of statuses) {
    let cursor: string | undefined;
    do {
      const page = await asyncTask.list({ ...toListOptions(filters), status, limit: 1000, cursor });
      ids.push(...page.attempts.map((attempt) => attempt.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
  // Newest first, as `attempts list` shows them, then at most `limit` of them.
  const newest = ids.sort((a, b) => (BigInt(a) > BigInt(b) ? -1 : 1)).slice(0, limit);
  return newest.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
}

export function attemptsChangeCommand(operation: Operation): Command {
  const { from, description, verb, done } = OPERATIONS[operation];
  const command = addFilterOptions(
    new Command(operation)
      .description(`${description}; by id, or every attempt matching the filters`)
      .argument('[ids...]', 'attempt ids'),
  )
    .option(
      '-n, --limit <n>',
      'with filters: at most this many, the newest first (as attempts list shows them)',
      positiveInt,
    )
    .option('-y, --yes', 'skip the confirmation of a bulk change')
    .option('--json', 'print {changed, skipped} as JSON')
    .action(async (rawIds: string[], options: ChangeFlags, self: Command) => {
      const context = contextOf(self);
      if (rawIds.length > 0 && hasFilter(options)) throw usageError('Give attempt ids or filters, not both.');
      if (rawIds.length === 0 && !hasFilter(options)) {
        throw usageError(
          `Give attempt ids, or filters (--status, --target, --method, --token) to ${operation} in bulk.`,
        );
      }
      if (options.limit !== undefined && rawIds.length > 0) throw usageError('--limit goes with filters, not ids.');
      if (options.status && !from.includes(options.status)) {
        throw usageError(`${operation} applies to ${from.join(' or ')} attempts, not ${options.status}.`);
      }
      await withAsyncTask(context, async ({ asyncTask }) => {
        const bulk = rawIds.length === 0;
        const ids = bulk ? await selectIds(asyncTask, options, from, options.limit) : rawIds;
        if (ids.length === 0) {
          if (options.json) context.out.json({ changed: [], skipped: [] });
          else context.out.note(`No ${from.join(' or ')} attempts match; nothing to ${operation}.`);
          return;
        }
        if (bulk) await confirmOrCancel(`${verb} ${ids.length} attempt${ids.length === 1 ? '' : 's'}?`, options.yes);
        const changed: string[] = [];
        const skipped: { id: string; code: string; reason: string }[] = [];
        const progress = await startProgress(ids.length, verb, !options.json);
        for (const id of ids) {
          try {
            await asyncTask[operation](id);
            changed.push(id);
          } catch (error) {
            // Another worker or person changed it meanwhile, or the id does not exist.
            if (!(error instanceof AsyncTaskError)) throw error;
            skipped.push({ id, code: error.code, reason: error.message });
          } finally {
            progress.tick();
          }
        }
        progress.stop();
        if (options.json) context.out.json({ changed, skipped });
        else {
          // A tick only when something changed; the skipped ones (and why) follow either way.
          if (changed.length > 0) {
            context.out.line(`${context.out.colors.green('✔')} ${done} ${changed.length} of ${ids.length}`);
          }
          for (const skip of skipped)
            context.out.note(`${context.out.colors.yellow('skipped')} ${skip.id}: ${skip.reason}`);
        }
        if (skipped.length > 0) {
          const notFound = skipped.every((skip) => skip.code === 'ATTEMPT_NOT_FOUND');
          const only = skipped.length === 1 && ids.length === 1 ? skipped[0] : undefined;
          throw new CliError(
            only
              ? `Nothing to ${operation}: ${only.reason}`
              : `${skipped.length} of ${ids.length} not changed (${operation} applies to ${from.join(' or ')} attempts)`,
            notFound ? EXIT.notFound : EXIT.invalidState,
          );
        }
      });
    });
  return withExamples(command, [
    [`async-task attempts ${operation} 42`, `${operation} attempt 42`],
    [`async-task attempts ${operation} 42 43 44`, 'several by id'],
    [
      `async-task attempts ${operation} --target OrderClient --method fulfill`,
      `every ${from.join('/')} OrderClient.fulfill (asks first)`,
    ],
    [`async-task attempts ${operation} --status ${from[0]} --yes --json`, 'in a script'],
    [`async-task attempts ${operation} --target OrderClient -n 100 --yes`, 'the 100 newest that match'],
  ]);
}
