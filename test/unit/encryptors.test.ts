import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { aesGcmEncryptor, DecryptionError, InvalidOptionsError } from '../../src/index.js';

const row = { target: 'OrderClient', methodName: 'fulfill', idempotenceToken: null };

describe('aesGcmEncryptor', () => {
  const key = randomBytes(32);

  it('uses a fresh nonce for every row', () => {
    const encryptor = aesGcmEncryptor({ keys: { a: key }, currentKeyId: 'a' });
    expect(encryptor.encrypt('same', row)).not.toBe(encryptor.encrypt('same', row));
    expect(encryptor.decrypt(encryptor.encrypt('same', row), row)).toBe('same');
  });

  it('accepts base64 keys', () => {
    const encryptor = aesGcmEncryptor({ keys: { a: key.toString('base64') }, currentKeyId: 'a' });
    expect(encryptor.decrypt(encryptor.encrypt('x', row), row)).toBe('x');
  });

  it('rejects bad configuration with InvalidOptionsError', () => {
    expect(() => aesGcmEncryptor({ keys: { a: randomBytes(16) }, currentKeyId: 'a' })).toThrow(InvalidOptionsError);
    expect(() => aesGcmEncryptor({ keys: { a: key }, currentKeyId: 'b' })).toThrow(/currentKeyId/);
    expect(() => aesGcmEncryptor({ keys: { 'a.b': key }, currentKeyId: 'a.b' })).toThrow(/key id/);
  });

  it('rejects malformed, truncated and foreign ciphertexts with DecryptionError', () => {
    const encryptor = aesGcmEncryptor({ keys: { a: key }, currentKeyId: 'a' });
    const other = aesGcmEncryptor({ keys: { a: randomBytes(32) }, currentKeyId: 'a' });
    for (const bad of [
      'plain',
      'v3.a.AAAA',
      'v2.a.AAAA',
      'v1.a.AAAA',
      'v1.zz.AAAA',
      other.encrypt('x', row),
      'v1.a.x.y',
    ]) {
      expect(() => encryptor.decrypt(bad, row)).toThrow(DecryptionError);
    }
  });
});
