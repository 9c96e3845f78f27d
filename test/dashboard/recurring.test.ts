import { expect, it } from 'vitest';
import { internalsOf } from '../../src/async-task/internals.js';
import { createDashboard } from '../../src/dashboard/index.js';
import { RecurringScheduler } from '../../src/recurring/scheduler.js';
import { forEachDialect } from '../support/suite.js';
import { DashboardClient } from './client.js';

forEachDialect('dashboard schedules view', (env) => {
  it('lists each schedule with its next tick, last tick and the outcome linked to its attempt', async () => {
    const e = await env();
    const asyncTask = await e
      .make({
        recurring: {
          'nightly<report>': {
            cron: '0 3 * * *',
            timezone: 'Europe/Berlin',
            target: 'OrderClient',
            method: 'fulfill',
            args: { orderId: 1 },
          },
        },
      } as never)
      .catch((error: Error) => error);
    // Names are restricted to letters, digits, _, - and .: nothing to escape in a token or a page.
    expect(asyncTask).toBeInstanceOf(Error);

    const named = await e.make({
      recurring: {
        nightlyReport: {
          cron: '0 3 * * *',
          timezone: 'Europe/Berlin',
          target: 'OrderClient',
          method: 'fulfill',
          args: { orderId: 1 },
        },
      },
    } as never);
    const client = DashboardClient.over(createDashboard({ asyncTask: named }));
    let page = await client.get('/recurring');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<td>nightlyReport</td>');
    expect(page.text).toContain('<code>0 3 * * *</code> <span class="muted">Europe/Berlin</span>');
    expect(page.text).toContain('<span class="muted">never</span>');
    expect(page.text).toContain('aria-current="page">Schedules<');

    let clock = new Date('2026-05-01T00:00:00Z');
    const scheduler = new RecurringScheduler(internalsOf(named), internalsOf(named).schedules!, {
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      onError: (error) => {
        throw error;
      },
      now: () => clock,
    });
    await scheduler.poll();
    clock = new Date('2026-05-01T01:00:05Z'); // 03:00 in Berlin (CEST)
    await scheduler.poll();
    await named.drain();
    page = await client.get('/recurring');
    expect(page.text).toContain('<time datetime="2026-05-01T01:00:00.000Z"');
    const attempt = (await named.list({ target: 'OrderClient' })).attempts[0]!;
    expect(page.text).toContain(
      `href="/attempts/${attempt.id}"><span class="status status-succeeded">succeeded</span>`,
    );
  });

  it('with no schedules, says how to declare them', async () => {
    const e = await env();
    const client = DashboardClient.over(createDashboard({ asyncTask: await e.make() }));
    expect((await client.get('/recurring')).text).toContain('No recurring schedules');
  });
});
