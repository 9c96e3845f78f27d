import { expect, it } from 'vitest';
import { InvalidOptionsError, performRelayMessage, type RelayMessage, type RelayPublisher } from '../../src/index.js';
import { forEachDialect, sleep } from '../support/suite.js';

/** A publisher that keeps what it was given, and can be told to fail or to lose messages. */
function memoryPublisher() {
  const published: RelayMessage[] = [];
  let failNext = 0;
  let loseNext = 0;
  const publisher: RelayPublisher = {
    name: 'memory',
    async publish(messages) {
      if (failNext > 0) {
        failNext--;
        throw new Error('broker unreachable');
      }
      for (const message of messages) {
        if (loseNext > 0) loseNext--;
        else published.push(message);
      }
    },
  };
  return {
    publisher,
    published,
    failOnce: () => {
      failNext = 1;
    },
    lose: (count: number) => {
      loseNext = count;
    },
  };
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(10);
  }
}

forEachDialect('relay', (env) => {
  it('hands off each committed, due attempt once, with dedupe id <id>:<run>; rolled back and not-due ones never', async () => {
    const { db, make } = await env();
    const asyncTask = await make();
    const committed = await db.inTransaction(async (tx) => [
      await asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 1 }),
      await asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 2 }),
    ]);
    await db
      .inTransaction(async (tx) => {
        await asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 3 });
        throw new Error('roll back');
      })
      .catch(() => {});
    const later = await db.inTransaction((tx) =>
      asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 4 }, { scheduledAt: new Date(Date.now() + 60_000) }),
    );
    const memory = memoryPublisher();
    const relay = asyncTask.relay({ to: memory.publisher, pollIntervalMs: 50, leaseMs: 60_000 });
    await relay.start();
    await until('two published', () => memory.published.length >= 2);
    await sleep(300);
    await relay.stop();
    expect(relay.state).toBe('stopped');
    expect(memory.published.map((message) => message.attemptId).sort()).toEqual(committed.map((a) => a.id).sort());
    for (const message of memory.published) {
      expect(message).toMatchObject({ run: 1, dedupeId: `${message.attemptId}:1`, target: 'OrderClient' });
    }
    // The hand-off is recorded: leased to the relay, run not counted; the not-due attempt untouched.
    for (const attempt of committed) {
      const row = await asyncTask.find(attempt.id);
      expect(row).toMatchObject({ status: 'pending', numAttempts: 0, leaseOwner: relay.id });
      expect(row?.leaseExpiresAt?.getTime()).toBeGreaterThan(Date.now() + 50_000);
    }
    expect(await asyncTask.find(later.id)).toMatchObject({ leaseOwner: null, numAttempts: 0 });
  });

  it('while the relay holds the lease, neither a second relay nor a worker takes the attempt; perform(id) does', async () => {
    const { db, make, calls } = await env();
    const asyncTask = await make();
    const attempt = await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 9 }));
    const first = memoryPublisher();
    const relay = asyncTask.relay({ to: first.publisher, pollIntervalMs: 20 });
    await relay.start();
    await until('handed off', () => first.published.length === 1);
    await relay.stop();
    const second = memoryPublisher();
    const other = (await make()).relay({ to: second.publisher, pollIntervalMs: 20 });
    const worker = (await make()).worker({ pollIntervalMs: 20, retention: false });
    await other.start();
    await worker.start();
    await sleep(400);
    await worker.stop();
    await other.stop();
    expect(second.published).toEqual([]);
    expect(calls).toHaveLength(0);
    // The consumer's side: perform the message under the contract; a duplicate is "not-pending".
    const [message] = first.published;
    expect(await performRelayMessage(asyncTask, JSON.stringify(message))).toMatchObject({ outcome: 'succeeded' });
    expect(await performRelayMessage(asyncTask, JSON.stringify(message))).toMatchObject({ outcome: 'not-pending' });
    expect(await performRelayMessage(asyncTask, '{"nonsense":1}')).toEqual({ outcome: 'invalid' });
    expect(await asyncTask.find(attempt.id)).toMatchObject({
      status: 'succeeded',
      numAttempts: 1,
      leaseOwner: null,
      leaseExpiresAt: null,
    });
    expect(await db.countEffects('order-9')).toBe(1);
  });

  it('a failed publish is given back and handed off again; a lost message again after the lease, same dedupe id', async () => {
    const { db, make } = await env();
    const asyncTask = await make();
    const memory = memoryPublisher();
    memory.failOnce();
    const errors: string[] = [];
    const relay = asyncTask.relay({ to: memory.publisher, pollIntervalMs: 20, leaseMs: 500 });
    relay.on('error', ({ during }) => errors.push(during));
    await relay.start();
    const failed = await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 1 }));
    await until('published after the failure', () => memory.published.length === 1);
    expect(errors).toEqual(['handing off attempts']);
    expect(memory.published[0]?.dedupeId).toBe(`${failed.id}:1`);

    memory.lose(1);
    const lost = await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 2 }));
    await until('handed off again after the lease', () => memory.published.length === 3, 5000);
    // The first attempt was never performed either, so its lease lapsed too: both come again, same ids.
    expect(memory.published.map((m) => m.dedupeId).sort()).toEqual(
      [`${failed.id}:1`, `${failed.id}:1`, `${lost.id}:1`].sort(),
    );
    await relay.stop();
  });

  it('a publish that never resolves times out: given back, handed off again; stop() does not hang on it', async () => {
    const { db, make } = await env();
    const asyncTask = await make();
    const delivered: RelayMessage[] = [];
    let calls = 0;
    const flaky: RelayPublisher = {
      name: 'flaky',
      publish: async (messages) => {
        // The first call hangs forever, like a client waiting for a broker that is down.
        if (calls++ === 0) return new Promise(() => {});
        delivered.push(...messages);
      },
    };
    const errors: unknown[] = [];
    const relay = asyncTask.relay({ to: flaky, pollIntervalMs: 20, publishTimeoutMs: 200 });
    relay.on('error', ({ error }) => errors.push(error));
    const attempt = await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 5 }));
    await relay.start();
    await until('handed off after the timeout', () => delivered.length === 1);
    expect(String(errors[0])).toMatch(/publish to flaky timed out after 200 ms/);
    expect(delivered[0]?.dedupeId).toBe(`${attempt.id}:1`);
    await relay.stop();

    const stuck = asyncTask.relay({
      to: { name: 'stuck', publish: () => new Promise(() => {}) },
      publishTimeoutMs: 200,
    });
    await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 6 }));
    await stuck.start();
    await sleep(50);
    await stuck.stop();
    expect(stuck.state).toBe('stopped');
  });

  it('a failed run comes back when due, with the next run number', async () => {
    const { db, make } = await env();
    const asyncTask = await make({ retry: { maxAttempts: 3, backoff: () => 0 } });
    const attempt = await db.inTransaction((tx) =>
      asyncTask.enqueue(tx, 'OrderClient', 'explode', { message: 'boom' }),
    );
    const memory = memoryPublisher();
    const relay = asyncTask.relay({ to: memory.publisher, pollIntervalMs: 20 });
    await relay.start();
    for (let run = 1; run <= 3; run++) {
      await until(`run ${run} handed off`, () => memory.published.length === run);
      const outcome = await performRelayMessage(asyncTask, memory.published[run - 1]);
      expect(outcome.outcome).toBe(run < 3 ? 'retrying' : 'failed');
    }
    await sleep(200);
    await relay.stop();
    expect(memory.published.map((m) => m.dedupeId)).toEqual([1, 2, 3].map((run) => `${attempt.id}:${run}`));
    expect(await asyncTask.find(attempt.id)).toMatchObject({ status: 'failed', numAttempts: 3 });
  });

  it('hands off only attempts of targets this application registered; a consumer without the target leaves it pending', async () => {
    const { db, make, calls } = await env();
    const asyncTask = await make();
    const Other = { async ping(_args: { n: number }) {} };
    const wider = await make({ targets: { OrderClient: {} as never, Other } as never });
    const foreign: { id: string } = await db.inTransaction((tx) =>
      (wider as any).enqueue(tx, 'Other', 'ping', { n: 1 }),
    );
    const own = await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 3 }));
    const memory = memoryPublisher();
    const relay = asyncTask.relay({ to: memory.publisher, pollIntervalMs: 20 });
    await relay.start();
    await until('own handed off', () => memory.published.length === 1);
    await sleep(200);
    await relay.stop();
    expect(memory.published.map((message) => message.attemptId)).toEqual([own.id]);
    expect(await asyncTask.find(foreign.id)).toMatchObject({ leaseOwner: null, numAttempts: 0 });
    const message = { attemptId: foreign.id, run: 1, target: 'Other', method: 'ping' };
    expect(await performRelayMessage(asyncTask, message)).toMatchObject({ outcome: 'unknown-target' });
    expect(await asyncTask.find(foreign.id)).toMatchObject({ status: 'pending', numAttempts: 0 });
    expect(calls).toHaveLength(0);
  });

  it('rejects bad options', async () => {
    const { make } = await env();
    const asyncTask = await make();
    expect(() => asyncTask.relay({} as never)).toThrow(InvalidOptionsError);
    expect(() => asyncTask.relay({ to: memoryPublisher().publisher, leaseMs: 10 })).toThrow(/leaseMs/);
    expect(() => asyncTask.relay({ to: memoryPublisher().publisher, batchSize: 0 })).toThrow(/batchSize/);
  });
});
