import { type Command, Option } from 'commander';
import { ATTEMPT_STATUSES, type AttemptStatus, type ListOptions } from '../../core/types.js';

export interface FilterOptions {
  status?: AttemptStatus;
  target?: string;
  method?: string;
  token?: string;
}

/** The filters `attempts list` and the bulk operations share. */
export function addFilterOptions(command: Command): Command {
  return command
    .addOption(new Option('-s, --status <status>', 'only this status').choices(ATTEMPT_STATUSES))
    .option('-t, --target <name>', 'only this target')
    .option('-m, --method <name>', 'only this method')
    .option('--token <token>', 'only this idempotence token');
}

export function hasFilter(options: FilterOptions): boolean {
  return [options.status, options.target, options.method, options.token].some((value) => value !== undefined);
}

export function toListOptions(options: FilterOptions): ListOptions {
  return {
    status: options.status,
    target: options.target,
    method: options.method,
    idempotenceToken: options.token,
  };
}
