// Issue 9, items 1 and 2: what encryption guarantees against someone who can write the attempts table.
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  aesGcmEncryptor,
  DecryptionError,
  type Encryptor,
  InvalidOptionsError,
  nullEncryptor,
} from '../../src/index.js';
import { forEachDialect } from '../support/suite.js';

const k1 = randomBytes(32);
const encryptor = () => aesGcmEncryptor({ keys: { k1 }, currentKeyId: 'k1' });

/** A ciphertext in the format of 0.1 (`v1`, no associated data), as rows written before this change hold. */
function v1Ciphertext(key: Buffer, keyId: string, plaintext: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `v1.${keyId}.${Buffer.concat([nonce, cipher.getAuthTag(), body]).toString('base64')}`;
}

forEachDialect('security: encryption against a table writer', (env) => {
  it('a ciphertext copied into a row of another method is a DecryptionError; the target is never called', async () => {
    const { db, make, calls } = await env();
    const asyncTask = await make({ encryptor: encryptor(), retry: { maxAttempts: 1 } });
    // The attacker can UPDATE method_args only: they move an "audit note" into a "payout".
    const [audit, payout] = await db.inTransaction(async (tx) => [
      await asyncTask.enqueue(tx, 'OrderClient', 'echo', { note: 'pay 1,000,000 to mallory' }),
      await asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 1 }),
    ]);
    await db.tamperArgs(payout.id, audit.methodArgs);
    const result = await asyncTask.perform(payout.id);
    expect(result.outcome).toBe('failed');
    expect(result.error).toBeInstanceOf(DecryptionError);
    expect((result.error as Error).message).toMatch(/copied from another row/);
    expect(calls).toHaveLength(0);
    // The original still runs: binding refuses only the copy.
    expect((await asyncTask.perform(audit.id)).outcome).toBe('succeeded');
  });

  it('a ciphertext copied between rows of the same method with different idempotence tokens is refused', async () => {
    const { db, make, calls } = await env();
    const asyncTask = await make({ encryptor: encryptor(), retry: { maxAttempts: 1 } });
    const [first, second] = await db.inTransaction(async (tx) => [
      await asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 1 }, { idempotenceToken: 'order-1' }),
      await asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 2 }, { idempotenceToken: 'order-2' }),
    ]);
    await db.tamperArgs(second.id, first.methodArgs);
    expect((await asyncTask.perform(second.id)).error).toBeInstanceOf(DecryptionError);
    expect(calls).toHaveLength(0);
  });

  it('rows in the v1 format still decrypt (through 1.x); acceptV1: false refuses them', async () => {
    const { db, make, calls } = await env();
    const asyncTask = await make({ encryptor: encryptor() });
    const row = await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 0 }));
    await db.tamperArgs(row.id, v1Ciphertext(k1, 'k1', JSON.stringify({ orderId: 11 })));
    const strict = await make({
      encryptor: aesGcmEncryptor({ keys: { k1 }, currentKeyId: 'k1', acceptV1: false }),
      retry: { backoff: () => 0 },
    });
    const refused = await strict.perform(row.id);
    expect(refused.error).toBeInstanceOf(DecryptionError);
    expect((refused.error as Error).message).toMatch(/v1 format/);
    await asyncTask.retry(row.id).catch(() => {}); // failed at once, or still pending: either way due now
    expect((await asyncTask.perform(row.id)).outcome).toBe('succeeded');
    expect(calls.map((call) => call.args)).toEqual([{ orderId: 11 }]);
  });

  it('with an encryptor, a plaintext row is refused and recorded failed with a DecryptionError', async () => {
    const { db, make, calls } = await env();
    // Anyone who can INSERT writes a row with encryptor 'null' and arguments of their choosing.
    const writer = await make();
    const forged = await db.inTransaction((tx) => writer.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 666 }));
    expect(forged.encryptor).toBe('null');
    const asyncTask = await make({ encryptor: encryptor(), retry: { maxAttempts: 1 } });
    const result = await asyncTask.perform(forged.id);
    expect(result.outcome).toBe('failed');
    expect(result.error).toBeInstanceOf(DecryptionError);
    expect((result.error as Error).message).toMatch(/plaintext row.*acceptPlaintext/);
    expect(calls).toHaveLength(0);
    expect((await asyncTask.find(forged.id))?.lastError).toContain('DecryptionError');
    // The worker goes through the same pipeline.
    const second = await db.inTransaction((tx) => writer.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 667 }));
    expect(await asyncTask.drain()).toMatchObject({ failed: 1, succeeded: 0 });
    expect((await asyncTask.find(second.id))?.status).toBe('failed');
    expect(calls).toHaveLength(0);
  });

  it('acceptPlaintext lets in exactly the listed targets and methods', async () => {
    const { db, make, calls } = await env();
    const writer = await make();
    const [echo, fulfill] = await db.inTransaction(async (tx) => [
      await writer.enqueue(tx, 'OrderClient', 'echo', { from: 'sql' }),
      await writer.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 5 }),
    ]);
    const asyncTask = await make({
      encryptor: encryptor(),
      acceptPlaintext: ['OrderClient.echo'],
      retry: { maxAttempts: 1 },
    });
    expect((await asyncTask.perform(echo.id)).outcome).toBe('succeeded');
    expect((await asyncTask.perform(fulfill.id)).error).toBeInstanceOf(DecryptionError);
    expect(calls.map((call) => call.method)).toEqual(['echo']);
    const wholeTarget = await make({ encryptor: encryptor(), acceptPlaintext: ['OrderClient'] });
    const again = await db.inTransaction((tx) => writer.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 6 }));
    expect((await wholeTarget.perform(again.id)).outcome).toBe('succeeded');
  });
});

describe('security: encryption options', () => {
  it('plaintext is accepted through acceptPlaintext, not by listing the null encryptor as a decryptor', async () => {
    const { createAsyncTask } = await import('../../src/index.js');
    const db = { attemptInsert() {} } as never;
    const targets = { Mailer: { async send() {} } };
    expect(() => createAsyncTask({ db, targets, encryptor: encryptor(), decryptors: [nullEncryptor] })).toThrow(
      InvalidOptionsError,
    );
    expect(() => createAsyncTask({ db, targets, encryptor: encryptor(), acceptPlaintext: [''] })).toThrow(
      /acceptPlaintext/,
    );
  });

  it('the associated data covers the encryptor name: a row relabelled to a sibling encryptor fails', () => {
    const row = { target: 'OrderClient', methodName: 'fulfill', idempotenceToken: null };
    const a = aesGcmEncryptor({ keys: { k1 }, currentKeyId: 'k1', name: 'aes-a' });
    const b: Encryptor = aesGcmEncryptor({ keys: { k1 }, currentKeyId: 'k1', name: 'aes-b' });
    const sealed = a.encrypt('{"x":1}', row);
    expect(a.decrypt(sealed, row)).toBe('{"x":1}');
    expect(() => b.decrypt(sealed, row)).toThrow(DecryptionError);
    expect(() => a.decrypt(sealed, { ...row, methodName: 'refund' })).toThrow(DecryptionError);
    expect(() => a.decrypt(sealed, { ...row, idempotenceToken: 't' })).toThrow(DecryptionError);
  });
});
