import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from './embedded-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

/** One PostgreSQL for the whole run: the URL in ASYNC_TASK_TEST_PG_URL, or a throwaway embedded server. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.ASYNC_TASK_TEST_PG_URL;
  if (external) {
    project.provide('pgAdminUrl', external);
    return async () => {};
  }
  const server = await startEmbeddedPostgres();
  project.provide('pgAdminUrl', server.url);
  return () => server.stop();
}
