import { expect, it } from 'vitest';
import { internalsOf } from '../../src/async-task/internals.js';
import { type PerformContext, recurringTickOf } from '../../src/index.js';
import { RecurringScheduler } from '../../src/recurring/scheduler.js';
import { type Env, forEachDialect, sleep } from '../support/suite.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** A scheduler over `asyncTask`'s schedules whose clock the test moves; it fails the test on any error. */
function controlled(asyncTask: Awaited<ReturnType<Env<unknown>['make']>>, start: string) {
  let clock = new Date(start);
  const errors: unknown[] = [];
  const scheduler = new RecurringScheduler(internalsOf(asyncTask), internalsOf(asyncTask).schedules ?? [], {
    logger: silent,
    onError: (error) => errors.push(error),
    now: () => clock,
  });
  return {
    scheduler,
    errors,
    /** Moves the clock to `iso` and runs one pass there. */
    async at(iso: string) {
      clock = new Date(iso);
      await scheduler.poll();
    },
  };
}

async function ticks(asyncTask: Awaited<ReturnType<Env<unknown>['make']>>, method = 'echo') {
  const { attempts } = await asyncTask.list({ target: 'OrderClient', method, limit: 1000 });
  return attempts
    .map((attempt) => ({ token: attempt.idempotenceToken, scheduledAt: attempt.scheduledAt?.toISOString() }))
    .sort((a, b) => String(a.token).localeCompare(String(b.token)));
}

const everySecond = (extra: Record<string, unknown> = {}) => ({
  recurring: { tick: { cron: '* * * * * *', target: 'OrderClient', method: 'echo', args: null, ...extra } } as never,
});

forEachDialect('recurring scheduler', (env) => {
  it('five schedulers on five connections racing for one tick create exactly one attempt', async () => {
    const { make } = await env();
    const racers = await Promise.all(Array.from({ length: 5 }, () => make(everySecond())));
    const clocks = racers.map((asyncTask) => controlled(asyncTask, '2026-05-01T10:00:00.500Z'));
    // First pass: no tick in the table yet, so the schedule starts now and nothing is due.
    await Promise.all(clocks.map((clock) => clock.at('2026-05-01T10:00:00.500Z')));
    expect(await ticks(racers[0]!)).toEqual([]);
    for (const second of ['01', '02', '03']) {
      await Promise.all(clocks.map((clock) => clock.at(`2026-05-01T10:00:${second}.050Z`)));
    }
    expect(await ticks(racers[0]!)).toEqual(
      ['01', '02', '03'].map((second) => ({
        token: `recurring:tick:2026-05-01T10:00:${second}.000Z`,
        scheduledAt: `2026-05-01T10:00:${second}.000Z`,
      })),
    );
    expect(clocks.flatMap((clock) => clock.errors)).toEqual([]);
  });

  it('after a restart the last tick is read from the table: default catch-up enqueues one late tick', async () => {
    const { make } = await env();
    const before = controlled(await make(everySecond()), '2026-05-01T10:00:00.500Z');
    for (const time of ['00.500', '01.010', '02.010']) await before.at(`2026-05-01T10:00:${time}Z`);
    // Down for 28 seconds; a new process starts.
    const after = await make(everySecond());
    const restarted = controlled(after, '2026-05-01T10:00:30.200Z');
    await restarted.at('2026-05-01T10:00:30.200Z');
    expect((await ticks(after)).map((tick) => tick.token?.slice(-13))).toEqual([
      '10:00:01.000Z',
      '10:00:02.000Z',
      '10:00:29.000Z', // the one late tick
      '10:00:30.000Z', // on time
    ]);
    expect([...before.errors, ...restarted.errors]).toEqual([]);
  });

  it('catchUp N enqueues up to N missed ticks, and catchUp 0 none', async () => {
    const { make } = await env();
    const fill = await make(everySecond({ catchUp: 100 }));
    const first = controlled(fill, '2026-05-01T10:00:00.500Z');
    for (const time of ['00.500', '01.010']) await first.at(`2026-05-01T10:00:${time}Z`);
    await controlled(await make(everySecond({ catchUp: 100 })), '').at('2026-05-01T10:00:10.100Z');
    expect((await ticks(fill)).map((tick) => tick.token?.slice(-6, -5))).toEqual(
      ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'].map(String),
    );
    // A nightly schedule that skips everything missed: after four days down, not even a late tick.
    const strict = {
      recurring: {
        strict: { cron: '0 3 * * *', target: 'OrderClient', method: 'fulfill', args: { orderId: 1 }, catchUp: 0 },
      },
    } as never;
    const skipping = await make(strict);
    const running = controlled(skipping, '2026-05-01T12:00:00Z');
    await running.at('2026-05-01T12:00:00Z');
    await running.at('2026-05-02T03:00:00.100Z');
    await controlled(await make(strict), '').at('2026-05-06T15:00:00Z');
    expect((await ticks(skipping, 'fulfill')).map((tick) => tick.token)).toEqual([
      'recurring:strict:2026-05-02T03:00:00.000Z',
    ]);
  });

  it('a schedule that fails (here: its encryptor) is reported and retried; the others still tick', async () => {
    const { make } = await env();
    let broken = true;
    const encryptor = {
      name: 'picky',
      encrypt: (text: string) => {
        if (broken && text.includes('boom')) throw new Error('key service down');
        return text;
      },
      decrypt: (text: string) => text,
    };
    const asyncTask = await make({
      encryptor,
      recurring: {
        fragile: { cron: '* * * * * *', target: 'OrderClient', method: 'echo', args: 'boom' },
        sturdy: { cron: '* * * * * *', target: 'OrderClient', method: 'fulfill', args: { orderId: 3 } },
      },
    } as never);
    const clock = controlled(asyncTask, '');
    await clock.at('2026-05-01T10:00:00.500Z');
    await clock.at('2026-05-01T10:00:01.010Z');
    expect(clock.errors.map((error) => (error as Error).message)).toEqual(['key service down']);
    expect((await ticks(asyncTask, 'fulfill')).map((tick) => tick.token)).toEqual([
      'recurring:sturdy:2026-05-01T10:00:01.000Z',
    ]);
    // Mended within the on-time window: the failed tick is enqueued on the next pass.
    broken = false;
    await clock.at('2026-05-01T10:00:01.900Z');
    expect((await ticks(asyncTask, 'echo')).map((tick) => tick.token)).toEqual([
      'recurring:fragile:2026-05-01T10:00:01.000Z',
    ]);
  });

  it('DST in America/New_York with a controlled clock: one 02:30 tick on spring-forward day, one 01:30 on fall-back day', async () => {
    const { make } = await env();
    const asyncTask = await make({
      recurring: {
        spring: { cron: '30 2 * * *', timezone: 'America/New_York', target: 'OrderClient', method: 'echo', args: null },
        fall: {
          cron: '30 1 * * *',
          timezone: 'America/New_York',
          target: 'OrderClient',
          method: 'fulfill',
          args: { orderId: 7 },
        },
      },
    } as never);
    const clock = controlled(asyncTask, '');
    // A worker awake through both nights, looking every 10 minutes (and a few seconds late).
    for (const [from, to] of [
      ['2026-03-07T12:00:00Z', '2026-03-09T12:00:00Z'],
      ['2026-10-31T12:00:00Z', '2026-11-02T12:00:00Z'],
    ] as const) {
      for (let time = Date.parse(from); time <= Date.parse(to); time += 10 * 60_000) {
        await clock.at(new Date(time + 3000).toISOString());
      }
    }
    expect((await ticks(asyncTask, 'echo')).map((tick) => tick.token)).toEqual([
      'recurring:spring:2026-03-08T07:00:00.000Z', // 02:30 does not exist: 03:00 EDT
      'recurring:spring:2026-03-09T06:30:00.000Z', // 02:30 EDT
      'recurring:spring:2026-10-31T06:30:00.000Z',
      'recurring:spring:2026-11-01T07:30:00.000Z', // 02:30 EST, the day clocks fell back
      'recurring:spring:2026-11-02T07:30:00.000Z',
    ]);
    expect((await ticks(asyncTask, 'fulfill')).map((tick) => tick.token)).toEqual([
      'recurring:fall:2026-03-08T06:30:00.000Z', // 01:30 EST, before the jump
      'recurring:fall:2026-03-09T05:30:00.000Z',
      'recurring:fall:2026-10-31T05:30:00.000Z',
      'recurring:fall:2026-11-01T05:30:00.000Z', // 01:30 happens twice: once, the first (EDT)
      'recurring:fall:2026-11-02T06:30:00.000Z',
    ]);
    expect(clock.errors).toEqual([]);
  });

  it('a worker enqueues and performs ticks; the target knows its tick; a removed schedule stops', async () => {
    const { make, db } = await env();
    const seen: { tick: string | undefined; scheduledAt: string | undefined }[] = [];
    const asyncTask = await make(everySecond());
    // The sample target records calls; read the tick the way an application would.
    const original = internalsOf(asyncTask).targets.OrderClient as {
      echo: (args: unknown, ctx: PerformContext) => unknown;
    };
    const echo = original.echo;
    original.echo = async (args, ctx) => {
      seen.push({
        tick: recurringTickOf(ctx.attempt)?.at.toISOString(),
        scheduledAt: ctx.attempt.scheduledAt?.toISOString(),
      });
      return echo.call(original, args, ctx);
    };
    try {
      const worker = asyncTask.worker({ pollIntervalMs: 50, retention: false });
      const errors: unknown[] = [];
      worker.on('error', ({ error }) => errors.push(error));
      await worker.start();
      const deadline = Date.now() + 15_000;
      while (seen.length < 2 && Date.now() < deadline) await sleep(50);
      await worker.stop();
      expect(errors).toEqual([]);
      expect(seen.length).toBeGreaterThanOrEqual(2);
      for (const run of seen) {
        expect(run.tick).toMatch(/\.000Z$/);
        expect(run.scheduledAt).toBe(run.tick);
      }
      const status = await asyncTask.recurring.list();
      expect(status).toHaveLength(1);
      expect(status[0]).toMatchObject({
        name: 'tick',
        cron: '* * * * * *',
        timezone: 'UTC',
        target: 'OrderClient',
        method: 'echo',
      });
      expect(status[0]?.lastTick?.at.getTime()).toBeGreaterThanOrEqual(Date.parse(seen.at(-1)!.tick!));
      expect(status[0]!.nextTick!.getTime()).toBeGreaterThan(status[0]!.lastTick!.at.getTime());

      // The code no longer declares it: a worker of the new code enqueues nothing for it.
      const count = await db.countAttempts();
      const without = await make();
      const next = without.worker({ pollIntervalMs: 50, retention: false });
      await next.start();
      await sleep(2_500);
      await next.stop();
      expect(await db.countAttempts()).toBe(count);
      expect(await without.recurring.list()).toEqual([]);
    } finally {
      original.echo = echo;
    }
  }, 30_000);
});
