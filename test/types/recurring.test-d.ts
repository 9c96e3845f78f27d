import type pg from 'pg';
import { describe, expectTypeOf, it } from 'vitest';
import { defineConfig } from '../../src/cli/config/define-config.js';
import { postgres } from '../../src/drivers/postgres.js';
import { createAsyncTask, type PerformContext, type RecurringTick, recurringTickOf } from '../../src/index.js';

const Reports = {
  async nightly(_args: { format: 'pdf' | 'csv' }) {},
  async hourly(_args?: { verbose?: boolean }) {},
  notAMethod: 42,
};
const Mailer = { async send(_args: { to: string }) {} };

declare const pool: pg.Pool;

describe('recurring schedules are typed like enqueue', () => {
  it('accepts registered targets, methods and argument shapes', () => {
    createAsyncTask({
      db: postgres(pool),
      targets: { Reports, Mailer },
      recurring: {
        nightlyReport: {
          cron: '0 3 * * *',
          timezone: 'Europe/Berlin',
          target: 'Reports',
          method: 'nightly',
          args: { format: 'pdf' },
        },
        hourlyReport: { cron: '0 * * * *', target: 'Reports', method: 'hourly', args: {}, catchUp: 0 },
        digest: { cron: '*/30 * * * * *', target: 'Mailer', method: 'send', args: { to: 'ops@example.com' } },
      },
    });
    defineConfig({
      dialect: 'postgres',
      targets: { Reports },
      recurring: { nightly: { cron: '@daily', target: 'Reports', method: 'nightly', args: { format: 'csv' } } },
    });
  });

  it('rejects a wrong target, method or argument shape at compile time', () => {
    createAsyncTask({
      db: postgres(pool),
      targets: { Reports, Mailer },
      recurring: {
        // @ts-expect-error unknown target
        a: { cron: '* * * * *', target: 'Nope', method: 'nightly', args: { format: 'pdf' } },
        // @ts-expect-error unknown method
        b: { cron: '* * * * *', target: 'Reports', method: 'weekly', args: { format: 'pdf' } },
        // @ts-expect-error not a method
        c: { cron: '* * * * *', target: 'Reports', method: 'notAMethod', args: {} },
        // @ts-expect-error method of another target
        d: { cron: '* * * * *', target: 'Mailer', method: 'nightly', args: { format: 'pdf' } },
        // @ts-expect-error literal union violated
        e: { cron: '* * * * *', target: 'Reports', method: 'nightly', args: { format: 'doc' } },
        // @ts-expect-error required args missing
        f: { cron: '* * * * *', target: 'Reports', method: 'nightly' },
        // @ts-expect-error cron must be a string
        g: { cron: 5, target: 'Mailer', method: 'send', args: { to: 'x' } },
      },
    });
    defineConfig({
      dialect: 'postgres',
      targets: { Reports },
      // @ts-expect-error the config's schedules are typed by its targets too
      recurring: { x: { cron: '@daily', target: 'Mailer', method: 'send', args: { to: 'x' } } },
    });
  });

  it('recurringTickOf reads the tick back from an attempt', () => {
    expectTypeOf(recurringTickOf({ idempotenceToken: null })).toEqualTypeOf<RecurringTick | null>();
  });
});

describe('the example of docs/recurring.md', () => {
  it('compiles as written', () => {
    const buildReport = async (_tx: pg.PoolClient, _day: Date, _format: string) => {};
    const Reports = {
      async nightly(args: { format: 'pdf' | 'csv' }, ctx: PerformContext<pg.PoolClient>) {
        const day = recurringTickOf(ctx.attempt)!.at; // the tick this run is for
        await buildReport(ctx.tx, day, args.format);
      },
    };
    const asyncTask = createAsyncTask({
      db: postgres(pool),
      targets: { Reports },
      recurring: {
        nightlyReport: {
          cron: '0 3 * * *',
          timezone: 'Europe/Berlin',
          target: 'Reports',
          method: 'nightly',
          args: { format: 'pdf' },
          catchUp: 1,
        },
      },
    });
    expectTypeOf(asyncTask.recurring.list()).resolves.items.toHaveProperty('nextTick').toEqualTypeOf<Date | null>();
  });
});
