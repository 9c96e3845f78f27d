import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/index.js';
import { ON_TIME_MS, planTicks } from '../../src/recurring/plan.js';
import { compileSchedule, compileSchedules } from '../../src/recurring/schedule.js';
import { recurringTickOf, tickToken } from '../../src/recurring/token.js';

const Reports = { async run(_args: unknown) {} };
const targets = { Reports };
const schedule = (cron: string, extra: Record<string, unknown> = {}) =>
  compileSchedule(targets, 'report', { cron, target: 'Reports', method: 'run', args: {}, ...extra });
const at = (iso: string) => new Date(iso);
const iso = (dates: readonly Date[]) => dates.map((date) => date.toISOString());

describe('planTicks: which ticks to enqueue at a controlled time', () => {
  const everyMinute = schedule('* * * * *');

  it('on time: the newest due tick only', () => {
    const plan = planTicks(everyMinute, at('2026-05-01T10:00:00Z'), at('2026-05-01T10:01:00.020Z'));
    expect(iso(plan.enqueue)).toEqual(['2026-05-01T10:01:00.000Z']);
    expect(plan.skipped).toBe(false);
  });

  it('nothing due yet: nothing, and nothing settled', () => {
    const plan = planTicks(everyMinute, at('2026-05-01T10:01:00Z'), at('2026-05-01T10:01:59.999Z'));
    expect(plan).toEqual({ enqueue: [], skipped: false, newest: null });
  });

  it('after downtime, default policy: the on-time tick plus one late tick; the rest skipped', () => {
    const plan = planTicks(everyMinute, at('2026-05-01T10:00:00Z'), at('2026-05-01T10:10:00.500Z'));
    expect(iso(plan.enqueue)).toEqual(['2026-05-01T10:09:00.000Z', '2026-05-01T10:10:00.000Z']);
    expect(plan.skipped).toBe(true);
    expect(plan.newest?.toISOString()).toBe('2026-05-01T10:10:00.000Z');
  });

  it('a late newest tick is itself a missed tick: catchUp 1 runs it late, catchUp 0 skips it', () => {
    const nightly = (catchUp: number) => schedule('0 3 * * *', { catchUp });
    const since = at('2026-05-01T03:00:00Z');
    const now = at('2026-05-05T15:00:00Z');
    expect(iso(planTicks(nightly(1), since, now).enqueue)).toEqual(['2026-05-05T03:00:00.000Z']);
    expect(planTicks(nightly(0), since, now).enqueue).toEqual([]);
    expect(planTicks(nightly(0), since, now).skipped).toBe(true);
    // Up to N: the newest N, oldest first; never before `since`.
    expect(iso(planTicks(nightly(10), since, now).enqueue)).toEqual([
      '2026-05-02T03:00:00.000Z',
      '2026-05-03T03:00:00.000Z',
      '2026-05-04T03:00:00.000Z',
      '2026-05-05T03:00:00.000Z',
    ]);
    expect(planTicks(nightly(10), since, now).skipped).toBe(false);
  });

  it(`a restart within ${ON_TIME_MS / 1000} s of a tick does not lose it, even with catchUp 0`, () => {
    const nightly = schedule('0 3 * * *', { catchUp: 0 });
    const plan = planTicks(nightly, at('2026-05-04T03:00:00Z'), at('2026-05-05T03:00:30Z'));
    expect(iso(plan.enqueue)).toEqual(['2026-05-05T03:00:00.000Z']);
  });

  it('seconds: a six-field expression ticks every second', () => {
    const everySecond = schedule('* * * * * *', { catchUp: 3 });
    const plan = planTicks(everySecond, at('2026-05-01T10:00:00Z'), at('2026-05-01T10:00:10.200Z'));
    expect(iso(plan.enqueue)).toEqual([
      '2026-05-01T10:00:07.000Z',
      '2026-05-01T10:00:08.000Z',
      '2026-05-01T10:00:09.000Z',
      '2026-05-01T10:00:10.000Z',
    ]);
  });
});

describe('time zones and daylight saving (America/New_York, controlled clock)', () => {
  it('spring forward: a 02:30 tick, a time that does not exist that day, runs once at 03:00 EDT', () => {
    const daily = schedule('30 2 * * *', { timezone: 'America/New_York' });
    // 2026-03-08: clocks jump from 02:00 EST to 03:00 EDT.
    expect(iso([daily.nextTick(at('2026-03-07T12:00:00Z'))!, daily.nextTick(at('2026-03-08T07:00:00Z'))!])).toEqual([
      '2026-03-08T07:00:00.000Z', // 03:00 EDT: the first valid time after the gap
      '2026-03-09T06:30:00.000Z', // 02:30 EDT the next day, as usual
    ]);
    const plan = planTicks(daily, at('2026-03-07T07:30:00Z'), at('2026-03-08T07:00:01Z'));
    expect(iso(plan.enqueue)).toEqual(['2026-03-08T07:00:00.000Z']);
  });

  it('fall back: a 01:30 tick, a time that occurs twice that day, runs once (the first, EDT)', () => {
    const daily = schedule('30 1 * * *', { timezone: 'America/New_York' });
    // 2026-11-01: clocks fall back from 02:00 EDT to 01:00 EST; 01:30 happens at 05:30Z and at 06:30Z.
    expect(iso([daily.nextTick(at('2026-10-31T12:00:00Z'))!, daily.nextTick(at('2026-11-01T05:30:00Z'))!])).toEqual([
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
    // At the second 01:30 (EST) nothing more is due.
    const settled = at('2026-11-01T05:30:00Z');
    expect(planTicks(daily, settled, at('2026-11-01T06:30:01Z')).enqueue).toEqual([]);
  });

  it('an interval schedule (every 30 min) skips the missing half hour and runs both repeated ones', () => {
    const halfHourly = schedule('*/30 * * * *', { timezone: 'America/New_York', catchUp: 10 });
    const fallBack = planTicks(halfHourly, at('2026-11-01T04:45:00Z'), at('2026-11-01T06:45:00Z'));
    // 01:00 EDT, 01:30 EDT, 01:00 EST, 01:30 EST.
    expect(iso(fallBack.enqueue)).toEqual([
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T06:00:00.000Z',
      '2026-11-01T06:30:00.000Z',
    ]);
    const springForward = planTicks(halfHourly, at('2026-03-08T06:15:00Z'), at('2026-03-08T07:45:00Z'));
    // 01:30 EST, then 03:00 and 03:30 EDT: 02:00 and 02:30 do not exist.
    expect(iso(springForward.enqueue)).toEqual([
      '2026-03-08T06:30:00.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-08T07:30:00.000Z',
    ]);
  });

  it('Europe/Berlin: 03:00 local is 01:00Z in summer and 02:00Z in winter', () => {
    const nightly = schedule('0 3 * * *', { timezone: 'Europe/Berlin' });
    expect(nightly.nextTick(at('2026-07-01T12:00:00Z'))?.toISOString()).toBe('2026-07-02T01:00:00.000Z');
    expect(nightly.nextTick(at('2026-12-01T12:00:00Z'))?.toISOString()).toBe('2026-12-02T02:00:00.000Z');
  });
});

describe('tokens and declarations', () => {
  it('the token names the schedule and the tick; recurringTickOf reads it back', () => {
    const token = tickToken('nightly-report', at('2026-05-01T03:00:00Z'));
    expect(token).toBe('recurring:nightly-report:2026-05-01T03:00:00.000Z');
    expect(recurringTickOf({ idempotenceToken: token })).toEqual({
      schedule: 'nightly-report',
      at: at('2026-05-01T03:00:00Z'),
    });
    for (const other of [null, 'order-42', 'recurring:x', 'recurring::2026-05-01T03:00:00.000Z', 'recurring:x:soon']) {
      expect(recurringTickOf({ idempotenceToken: other })).toBeNull();
    }
  });

  it('rejects bad declarations with a clear InvalidOptionsError', () => {
    const bad: [string, unknown, RegExp][] = [
      ['a:b', { cron: '* * * * *', target: 'Reports', method: 'run' }, /schedule name/],
      ['x', { cron: '61 * * * *', target: 'Reports', method: 'run' }, /invalid cron expression/],
      ['x', { cron: '0 0 1 1 * 2030', target: 'Reports', method: 'run' }, /invalid cron expression/],
      ['x', { cron: '* * * * * * 2030', target: 'Reports', method: 'run' }, /invalid cron expression/],
      ['x', { cron: '* * * * *', timezone: 'Mars/Olympus', target: 'Reports', method: 'run' }, /unknown time zone/],
      ['x', { cron: '* * * * *', target: 'Nope', method: 'run' }, /Nope/],
      ['x', { cron: '* * * * *', target: 'Reports', method: 'constructor' }, /constructor/],
      ['x', { cron: '* * * * *', target: 'Reports', method: 'run', args: {}, catchUp: -1 }, /catchUp/],
      ['x', { cron: '* * * * *', target: 'Reports', method: 'run', args: {}, catchUp: 1.5 }, /catchUp/],
      ['x', { cron: '* * * * *', target: 'Reports', method: 'run' }, /args undefined cannot be stored/],
      ['x', { cron: '* * * * *', target: 'Reports', method: 'run', args: { at: new Map() } }, /args/],
    ];
    for (const [name, declared, message] of bad) {
      expect(() => compileSchedule(targets, name, declared)).toThrow(InvalidOptionsError);
      expect(() => compileSchedule(targets, name, declared)).toThrow(message);
    }
    expect(() => compileSchedules(targets, [])).toThrow(InvalidOptionsError);
    expect(compileSchedules(targets, undefined)).toEqual([]);
  });
});
