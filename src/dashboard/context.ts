import type { DashboardStore } from '../store/dashboard-store.js';
import type { Access, ResolvedOptions } from './options.js';

/** Everything a view needs to render one request. */
export interface PageContext {
  readonly options: ResolvedOptions;
  readonly store: DashboardStore;
  readonly url: URL;
  readonly access: Exclude<Access, 'none'>;
  /** The token every action form carries. */
  readonly csrfToken: string;
  /** `basePath` + a path inside the dashboard. */
  href(path: string): string;
}

export const canAct = (context: PageContext) => context.access === 'full';
