import { expect } from 'vitest';
import { type Cases, sleep } from '../support/target.js';

export const adminCases: Cases = (setup, test) => {
  test('schemaVersion and missing-table errors before migrate; migrate is idempotent and safe to run at once', async () => {
    const env = await setup();
    const fresh = await env.unmigrated();
    const before = await fresh.store.schemaVersion!();
    expect(before.applied).toBe(0);
    expect(before.latest).toBeGreaterThanOrEqual(1);
    const error = await fresh.store.attemptFind('1').then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).not.toBeNull();
    expect(fresh.store.isMissingTableError!(error)).toBe(true);
    expect(fresh.store.isMissingTableError!(new Error('something else'))).toBe(false);

    const b = await env.another();
    await Promise.all([env.a.store.migrate(), b.store.migrate(), env.a.store.migrate()]);
    expect(await b.store.schemaVersion!()).toEqual({ applied: before.latest, latest: before.latest });
    await fresh.store.migrate();
    expect(await fresh.store.schemaVersion!()).toEqual({ applied: before.latest, latest: before.latest });
    expect(await fresh.store.attemptFind('1')).toBeNull();
  });

  test('runExclusive runs one holder of a name at a time, across processes', async () => {
    const env = await setup();
    const b = await env.another();
    const result = await env.a.worker.runExclusive('maintenance', async () => {
      expect(await b.worker.runExclusive('maintenance', async () => 'second')).toBeUndefined();
      expect(await b.worker.runExclusive('other', async () => 'other')).toBe('other');
      return 'first';
    });
    expect(result).toBe('first');
    expect(await b.worker.runExclusive('maintenance', async () => 'after')).toBe('after');
  });

  test('subscribeWake: an insert wakes this process’s subscriber; close stops it', async () => {
    const { a } = await setup();
    let wakes = 0;
    const subscription = await a.worker.subscribeWake(
      () => {
        wakes++;
      },
      (error) => {
        throw error;
      },
    );
    await a.insert();
    for (let waited = 0; wakes === 0 && waited < 2000; waited += 20) await sleep(20);
    expect(wakes).toBeGreaterThan(0);
    await subscription.close();
    const seen = wakes;
    await a.insert();
    await sleep(50);
    expect(wakes).toBe(seen);
  });
};
