import { randomBytes } from 'node:crypto';
import { expect, it, vi } from 'vitest';
import { aesGcmEncryptor, DecryptionError } from '../../src/index.js';
import { forEachDialect } from '../support/suite.js';

const k1 = randomBytes(32);
const k2 = randomBytes(32);

forEachDialect('encryption at rest', (env) => {
  it('round trip: the row holds ciphertext and names its encryptor; the target gets the args', async () => {
    const { db, make, calls } = await env();
    const asyncTask = await make({ encryptor: aesGcmEncryptor({ keys: { k1 }, currentKeyId: 'k1' }) });
    const attempt = await db.inTransaction((tx) =>
      asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 42, note: 'card 4242' }),
    );
    expect(attempt.encryptor).toBe('aes-256-gcm');
    expect(attempt.methodArgs).toMatch(/^v2\.k1\./);
    expect(attempt.methodArgs).not.toContain('4242');
    await asyncTask.perform(attempt.id);
    expect(calls[0]?.args).toEqual({ orderId: 42, note: 'card 4242' });
  });

  it('rotation: rows written under the old key still decrypt; new rows use the new key', async () => {
    const { db, make, calls } = await env();
    const before = await make({ encryptor: aesGcmEncryptor({ keys: { k1 }, currentKeyId: 'k1' }) });
    await db.inTransaction((tx) => before.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 1 }));
    const after = await make({ encryptor: aesGcmEncryptor({ keys: { k1, k2 }, currentKeyId: 'k2' }) });
    const fresh = await db.inTransaction((tx) => after.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 2 }));
    expect(fresh.methodArgs).toMatch(/^v2\.k2\./);
    expect(await after.drain()).toMatchObject({ succeeded: 2 });
    expect(calls.map((c) => c.args)).toEqual([{ orderId: 1 }, { orderId: 2 }]);
  });

  it('rows written without encryption still run after encryption is turned on, with acceptPlaintext', async () => {
    const { db, make, calls } = await env();
    const plain = await make();
    const attempt = await db.inTransaction((tx) => plain.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 5 }));
    const encrypted = await make({
      encryptor: aesGcmEncryptor({ keys: { k1 }, currentKeyId: 'k1' }),
      acceptPlaintext: ['OrderClient.fulfill'],
    });
    expect((await encrypted.perform(attempt.id)).outcome).toBe('succeeded');
    expect(calls[0]?.args).toEqual({ orderId: 5 });
  });

  it('a tampered row is a DecryptionError: failed at once (no retry can cure it), never calls the target, loses nothing', async () => {
    const { db, make, calls } = await env();
    const onPerformError = vi.fn();
    const asyncTask = await make({ encryptor: aesGcmEncryptor({ keys: { k1 }, currentKeyId: 'k1' }), onPerformError });
    const attempt = await db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 9 }));
    const original = attempt.methodArgs;
    const raw = Buffer.from(original.split('.')[2]!, 'base64');
    raw[raw.length - 1]! ^= 0xff;
    const tampered = `v2.k1.${raw.toString('base64')}`;
    await db.tamperArgs(attempt.id, tampered);

    const result = await asyncTask.perform(attempt.id);
    expect(result.outcome).toBe('failed');
    expect(result.error).toBeInstanceOf(DecryptionError);
    expect(onPerformError.mock.calls[0]?.[0]).toMatchObject({ code: 'DECRYPTION_FAILED' });
    expect(calls).toHaveLength(0);
    const after = await asyncTask.find(attempt.id);
    expect(after).toMatchObject({ status: 'failed', numAttempts: 1, methodArgs: tampered });
    expect(after?.lastError).toContain('DecryptionError');
  });

  it('a row from a key or encryptor that is not configured is a DecryptionError (failed), and runs after retry() once the key is back', async () => {
    const { db, make, calls } = await env();
    const writer = await make({ encryptor: aesGcmEncryptor({ keys: { k2 }, currentKeyId: 'k2' }) });
    const attempt = await db.inTransaction((tx) => writer.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 3 }));
    const missingKey = await make({
      encryptor: aesGcmEncryptor({ keys: { k1 }, currentKeyId: 'k1' }),
      retry: { backoff: () => 0 },
    });
    const missing = await missingKey.perform(attempt.id);
    expect(missing).toMatchObject({ outcome: 'failed', error: expect.any(DecryptionError) });
    await missingKey.retry(attempt.id);
    const noEncryptor = await make({ retry: { backoff: () => 0 } });
    const result = await noEncryptor.perform(attempt.id);
    expect(result.outcome).toBe('failed');
    expect((result.error as Error).message).toMatch(/encryptor "aes-256-gcm".*not configured/);
    await writer.retry(attempt.id);
    expect((await writer.perform(attempt.id)).outcome).toBe('succeeded');
    expect(calls).toHaveLength(1);
  });
});
