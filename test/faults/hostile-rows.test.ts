import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { aesGcmEncryptor, createAsyncTask, InvalidOptionsError } from '../../src/index.js';
import type { TestDb } from '../support/dialects.js';
import { forEachDialect } from '../support/suite.js';
import { catalogueCase } from './support/case.js';
import { expectInvariants, RUN_MODES } from './support/run.js';

// Rows the library did not write the way it writes them: a client of the SQL enqueue function, a migration
// gone wrong, an attacker with database access. None of them may stall a batch (issue 8, faults 1 and 6).

const key = randomBytes(32);
const encryptor = aesGcmEncryptor({ keys: { k1: key }, currentKeyId: 'k1' });

/** Sets columns of one row by raw SQL (`set` holds SQL expressions, e.g. `'-infinity'`). */
async function setColumns(db: TestDb<any>, dialect: string, id: string, set: Record<string, string>): Promise<void> {
  const assignments = Object.entries(set)
    .map(([column, expression]) => `${column} = ${expression}`)
    .join(', ');
  const placeholder = dialect === 'postgres' ? '$1' : '?';
  // MySQL's attempts view is read-only: these rows are pending, in the hot table.
  const table = dialect === 'mysql' ? 'async_task_attempts_hot' : db.qualify('async_task_attempts');
  await db.query(`UPDATE ${table} SET ${assignments} WHERE id = ${placeholder}`, [id]);
}

/** SQL for an endless time in the past (due since ever) or future (never due), as the dialect stores times. */
const endless = (dialect: string, sign: '-' | '+') =>
  dialect === 'postgres'
    ? `'${sign === '-' ? '-' : ''}infinity'::timestamptz`
    : dialect === 'mysql'
      ? `'${sign === '-' ? '1000-01-01 00:00:00' : '9999-12-31 23:59:59.999999'}'`
      : `${sign}9e999`;

/** The stored args with one byte of the ciphertext flipped. */
function tamper(methodArgs: string): string {
  const [version, keyId, body] = methodArgs.split('.');
  const raw = Buffer.from(body as string, 'base64');
  raw[raw.length - 1] = (raw[raw.length - 1] as number) ^ 0xff;
  return `${version}.${keyId}.${raw.toString('base64')}`;
}

forEachDialect('fault catalogue: hostile rows', (env, dialect) => {
  for (const mode of RUN_MODES) {
    it(`${mode}: scheduled_at -infinity is due and performed; infinity is never due, and list()/find() still answer`, async () => {
      const c = await catalogueCase(env, dialect, mode);
      const [minus, plus] = await c.batch(async (tx) => {
        const first = await c.asyncTask().enqueue(tx, 'Healthy', 'ok', { tag: 'minus-infinity' });
        const second = await c.asyncTask().enqueue(tx, 'Healthy', 'ok', { tag: 'plus-infinity' });
        await c.neighbours(tx);
        return [first, second] as const;
      });
      await setColumns(c.db, dialect.name, minus.id, { scheduled_at: endless(dialect.name, '-') });
      await setColumns(c.db, dialect.name, plus.id, { scheduled_at: endless(dialect.name, '+') });
      // PostgreSQL has a real -infinity (the SQL enqueue function accepts it): due, performed. SQLite stores epoch
      // ms; a REAL -Inf there is no time the library writes: performed or failed as unreadable, never left pending.
      c.plan({ tag: 'minus-infinity', role: 'hostile', expect: dialect.name === 'postgres' ? 'succeeded' : 'any' });
      c.plan({ tag: 'plus-infinity', role: 'hostile', expect: 'untouched' });
      await c.rolledBackEnqueue();
      await expectInvariants(c.spec());
      expect((await c.asyncTask().find(plus.id))?.status).toBe('pending');
      expect((await c.asyncTask().list({ status: 'pending' })).attempts.map((a) => a.id)).toEqual([plus.id]);
      await c.asyncTask().close();
    });

    const unreadable = {
      'bad JSON in method_args': { set: { method_args: `'{"tag": "bad-json"'` }, encrypted: false },
      'an unknown encryptor name': { set: { encryptor: `'rot13'` }, encrypted: false },
      'tampered ciphertext': { set: null, encrypted: true },
    } as const;
    for (const [what, row] of Object.entries(unreadable)) {
      it(`${mode}: a row with ${what} is failed at its first run with a clear lastError, alone; the rest runs`, async () => {
        const c = await catalogueCase(env, dialect, mode, row.encrypted ? { encryptor } : {});
        const bad = await c.batch(async (tx) => {
          const attempt = await c.asyncTask().enqueue(tx, 'Healthy', 'ok', { tag: 'unreadable' });
          await c.neighbours(tx);
          return attempt;
        });
        if (row.set) await setColumns(c.db, dialect.name, bad.id, row.set);
        else await c.db.tamperArgs(bad.id, tamper(bad.methodArgs));
        c.plan({ tag: 'unreadable', id: bad.id, role: 'hostile', expect: 'failed' });
        await expectInvariants(c.spec());
        const after = await c.asyncTask().find(bad.id);
        expect(after?.status).toBe('failed');
        expect(after?.numAttempts).toBeLessThanOrEqual(1);
        expect(after?.lastError).toBeTruthy();
        expect(c.probe.count('unreadable')).toBe(0);
        await c.asyncTask().close();
      });
    }
  }

  for (const mode of ['transactional', 'leased'] as const) {
    for (const [what, set] of [
      ['an unknown target', { target: `'NoSuchTarget'` }],
      ['an unknown method', { method_name: `'noSuchMethod'` }],
    ] as const) {
      it(`${mode}: an attempt for ${what} is never claimed: pending, 0 runs, listed; the rest of the queue runs`, async () => {
        const c = await catalogueCase(env, dialect, mode);
        const stranger = await c.batch(async (tx) => {
          const attempt = await c.asyncTask().enqueue(tx, 'Healthy', 'ok', { tag: 'stranger' });
          await c.neighbours(tx);
          return attempt;
        });
        await setColumns(c.db, dialect.name, stranger.id, set);
        c.plan({ tag: 'stranger', role: 'hostile', expect: 'untouched' });
        await expectInvariants(c.spec());
        const after = await c.asyncTask().find(stranger.id);
        expect(after).toMatchObject({ status: 'pending', numAttempts: 0, lastError: null });
        expect((await c.asyncTask().list({ status: 'pending' })).attempts.map((a) => a.id)).toEqual([stranger.id]);
        await c.asyncTask().close();
      });
    }
  }

  for (const [what, set, code] of [
    ['an unknown target', { target: `'NoSuchTarget'` }, 'UNKNOWN_TARGET'],
    ['an unknown method', { method_name: `'noSuchMethod'` }, 'UNKNOWN_METHOD'],
  ] as const) {
    it(`perform: an attempt for ${what} is refused before it is counted; drain() skips it and runs the rest`, async () => {
      const c = await catalogueCase(env, dialect, 'perform');
      const stranger = await c.batch(async (tx) => {
        const attempt = await c.asyncTask().enqueue(tx, 'Healthy', 'ok', { tag: 'stranger' });
        await c.neighbours(tx);
        return attempt;
      });
      await setColumns(c.db, dialect.name, stranger.id, set);
      await expect(c.asyncTask().perform(stranger.id)).rejects.toMatchObject({ code });
      expect(await c.asyncTask().drain()).toMatchObject({ performed: 3, succeeded: 3 });
      expect(await c.asyncTask().find(stranger.id)).toMatchObject({ status: 'pending', numAttempts: 0 });
      c.plan({ tag: 'stranger', role: 'hostile', expect: 'untouched' });
      await expectInvariants(c.spec());
      await c.asyncTask().close();
    });
  }

  it('createAsyncTask with an empty targets registry throws InvalidOptionsError', async () => {
    const { db } = await env();
    expect(() => createAsyncTask({ db: db.driver(), targets: {} })).toThrow(InvalidOptionsError);
  });

  if (dialect.name === 'postgres') {
    for (const mode of RUN_MODES) {
      it(`${mode}: attempts written by the SQL enqueue function with ±infinity times: -infinity runs, infinity waits`, async () => {
        const c = await catalogueCase(env, dialect, mode);
        const fn = `${c.db.qualify('async_task_attempts_enqueue')}`;
        await c.batch(async (tx) => {
          await tx.query(`SELECT ${fn}('Healthy', 'ok', $1::jsonb, NULL, '-infinity')`, ['{"tag": "sql-minus"}']);
          await tx.query(`SELECT ${fn}('Healthy', 'ok', $1::jsonb, NULL, 'infinity')`, ['{"tag": "sql-plus"}']);
          await c.neighbours(tx);
        });
        c.plan({ tag: 'sql-minus', role: 'hostile', expect: 'succeeded' });
        c.plan({ tag: 'sql-plus', role: 'hostile', expect: 'untouched' });
        await expectInvariants(c.spec());
        await c.asyncTask().close();
      });
    }
  }
});
