import { afterAll, expect, test } from 'vitest';
import { makeProject, removeProject, runCli } from './support/project.js';

const dir = makeProject('demo');
afterAll(() => removeProject(dir));

test('async-task demo tells the rollback story without a config or a server', async () => {
  const { code, stdout, stderr } = await runCli(dir, ['demo', '--fast']);
  expect(code, stderr).toBe(0);
  expect(stdout).toContain('transaction rolled back: payment declined');
  expect(stdout).toContain('(no orders and no attempts: nothing was left behind)');
  expect(stdout).toContain('✓ performed, and the worker stopped gracefully');
  expect(stdout).toMatch(/│ 1 +│ OrderClient.fulfill │ succeeded │ 1 /);
  expect(stdout).toContain('InvalidStateError (INVALID_STATE)');
  expect(stdout).toContain('Result: the fulfillment service was called 1 time, for the order that exists.');
});
