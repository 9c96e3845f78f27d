import type { AsyncTask } from '../async-task/async-task.js';
import { findInternals } from '../async-task/internals.js';
import { InvalidOptionsError } from '../core/errors.js';
import type { Logger } from '../core/types.js';
import type { DashboardStore } from '../store/dashboard-store.js';

/** What a request may do: everything, only read, or nothing. */
export type Access = 'full' | 'read-only' | 'none';

export interface BasicAuthOptions {
  readonly username: string;
  readonly password: string;
  /** Shown by the browser's login prompt. Default: `AsyncTask`. */
  readonly realm?: string;
}

export interface DashboardOptions {
  /** The instance whose attempts the dashboard shows and acts on, through its own `retry`, `expire` and `fail`. */
  asyncTask: AsyncTask<any, any>;
  /** The path the dashboard is mounted at, such as `/admin/tasks`. Default: `''` (the root). */
  basePath?: string;
  /**
   * Decides per request: `true` (or `'full'`) may read and act, `'read-only'` may only read,
   * `false` (or `'none'`) gets 403. Runs after basic auth. Default: everyone who passed basic auth may act.
   */
  authorize?: (request: Request) => boolean | Access | Promise<boolean | Access>;
  /**
   * Who is asking (a user id, or your session's id): CSRF tokens are bound to it, so a token issued to one
   * person is refused on another's request. Use it with `authorize` whenever several people share the
   * dashboard. Tokens are always bound to the access level and the basic-auth user as well.
   * Default: none (access level and basic-auth user only).
   */
  identify?: (request: Request) => string | null | undefined | Promise<string | null | undefined>;
  /** Built-in HTTP basic auth, checked before `authorize`. Default: none. */
  basicAuth?: BasicAuthOptions;
  /** Show everything, act on nothing: no action buttons, and actions answer 403. Default: `false`. */
  readOnly?: boolean;
  /** Decrypt and show attempts' arguments on the detail page. Default: `false` (shown as stored: encrypted, or hidden). */
  showArgs?: boolean;
  /**
   * Signs the CSRF tokens. Give the same secret to every process behind one address; at least 32 characters.
   * Default: random per process (a restart makes open forms ask to be reloaded).
   */
  csrfSecret?: string;
  /** Attempts per page of the list. Default: 50. */
  pageSize?: number;
  /** At most this many attempts are changed by one "all matching" action. Default: 10,000. */
  bulkLimit?: number;
  /** Default: the `asyncTask`'s logger. Arguments are never logged. */
  logger?: Logger;
  /** The page title. Default: `AsyncTask`. */
  title?: string;
}

export interface ResolvedOptions {
  readonly asyncTask: AsyncTask<any, any>;
  /** The reads of `asyncTask`'s store. */
  readonly store: DashboardStore;
  readonly basePath: string;
  readonly authorize: DashboardOptions['authorize'];
  readonly identify: DashboardOptions['identify'];
  readonly basicAuth: BasicAuthOptions | undefined;
  readonly readOnly: boolean;
  readonly showArgs: boolean;
  readonly csrfSecret: string | undefined;
  readonly pageSize: number;
  readonly bulkLimit: number;
  readonly logger: Logger;
  readonly title: string;
}

const BASE_PATH = /^(\/[A-Za-z0-9._~-]+)*$/;

function positiveInteger(value: number | undefined, fallback: number, name: string, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidOptionsError(`createDashboard: ${name} must be an integer from 1 to ${max}`);
  }
  return value;
}

export function resolveOptions(options: DashboardOptions): ResolvedOptions {
  if (!options || typeof options !== 'object') throw new InvalidOptionsError('createDashboard needs an options object');
  const { asyncTask } = options;
  const internals = findInternals(asyncTask);
  if (!internals) {
    throw new InvalidOptionsError('createDashboard: asyncTask must be the value createAsyncTask returned');
  }
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');
  if (!BASE_PATH.test(basePath)) {
    throw new InvalidOptionsError(
      `createDashboard: basePath ${JSON.stringify(options.basePath)} must look like /admin/tasks`,
    );
  }
  if (options.authorize !== undefined && typeof options.authorize !== 'function') {
    throw new InvalidOptionsError('createDashboard: authorize must be a function');
  }
  if (options.identify !== undefined && typeof options.identify !== 'function') {
    throw new InvalidOptionsError('createDashboard: identify must be a function');
  }
  const { basicAuth } = options;
  if (
    basicAuth !== undefined &&
    (typeof basicAuth?.username !== 'string' ||
      typeof basicAuth.password !== 'string' ||
      basicAuth.username.length === 0 ||
      basicAuth.username.includes(':') ||
      basicAuth.password.length === 0)
  ) {
    throw new InvalidOptionsError('createDashboard: basicAuth needs a username (without ":") and a non-empty password');
  }
  if (options.csrfSecret !== undefined && (typeof options.csrfSecret !== 'string' || options.csrfSecret.length < 32)) {
    throw new InvalidOptionsError('createDashboard: csrfSecret must be a string of at least 32 characters');
  }
  return Object.freeze({
    asyncTask,
    store: internals.store.dashboardQueries(),
    basePath,
    authorize: options.authorize,
    identify: options.identify,
    basicAuth,
    readOnly: options.readOnly === true,
    showArgs: options.showArgs === true,
    csrfSecret: options.csrfSecret,
    pageSize: positiveInteger(options.pageSize, 50, 'pageSize', 1000),
    bulkLimit: positiveInteger(options.bulkLimit, 10_000, 'bulkLimit', 1_000_000),
    logger: options.logger ?? internals.logger,
    title: options.title ?? 'AsyncTask',
  });
}
