import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptionError, InvalidOptionsError } from './errors.js';

/** Encrypts serialized method arguments at rest. `name` is stored in each row it writes. */
export interface Encryptor {
  readonly name: string;
  encrypt(plaintext: string): string | Promise<string>;
  decrypt(ciphertext: string): string | Promise<string>;
}

/** An encryptor that answers at once; `enqueueSync` needs one. */
export interface SyncEncryptor extends Encryptor {
  encrypt(plaintext: string): string;
  decrypt(ciphertext: string): string;
}

/** The default: stores arguments as they are (the gem's NullEncryptor). */
export const nullEncryptor: SyncEncryptor = Object.freeze({
  name: 'null',
  encrypt: (plaintext: string) => plaintext,
  decrypt: (ciphertext: string) => ciphertext,
});

export interface AesGcmEncryptorOptions {
  /** Key id → 32-byte key (a Buffer, or base64 text). Keep old keys here after rotation so old rows still decrypt. */
  keys: Readonly<Record<string, Uint8Array | string>>;
  /** The key new rows are encrypted with. */
  currentKeyId: string;
  /** Stored in each row. Default: `aes-256-gcm`. */
  name?: string;
}

const FORMAT_VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

function toKey(keyId: string, key: Uint8Array | string): Buffer {
  const buf = typeof key === 'string' ? Buffer.from(key, 'base64') : Buffer.from(key);
  if (buf.length !== 32) {
    throw new InvalidOptionsError(`aesGcmEncryptor: key ${JSON.stringify(keyId)} must be 32 bytes, got ${buf.length}`);
  }
  return buf;
}

/**
 * AES-256-GCM with a random 96-bit nonce per row. Output: `v1.<keyId>.<base64(nonce | tag | ciphertext)>`,
 * so a row names the key that wrote it and key rotation never strands old rows.
 */
export function aesGcmEncryptor(options: AesGcmEncryptorOptions): SyncEncryptor {
  const keys = new Map<string, Buffer>();
  for (const [keyId, key] of Object.entries(options.keys ?? {})) {
    if (!KEY_ID_PATTERN.test(keyId)) {
      throw new InvalidOptionsError(`aesGcmEncryptor: key id ${JSON.stringify(keyId)} must match ${KEY_ID_PATTERN}`);
    }
    keys.set(keyId, toKey(keyId, key));
  }
  const current = keys.get(options.currentKeyId);
  if (!current) {
    throw new InvalidOptionsError(
      `aesGcmEncryptor: currentKeyId ${JSON.stringify(options.currentKeyId)} is not in keys`,
    );
  }
  const currentKeyId = options.currentKeyId;

  return Object.freeze({
    name: options.name ?? 'aes-256-gcm',
    encrypt(plaintext: string): string {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current, nonce);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const sealed = Buffer.concat([nonce, cipher.getAuthTag(), body]).toString('base64');
      return `${FORMAT_VERSION}.${currentKeyId}.${sealed}`;
    },
    decrypt(ciphertext: string): string {
      const [version, keyId, sealed, ...rest] = ciphertext.split('.');
      if (version !== FORMAT_VERSION || keyId === undefined || sealed === undefined || rest.length > 0) {
        throw new DecryptionError('Stored arguments are not in the aes-256-gcm format');
      }
      const key = keys.get(keyId);
      if (!key)
        throw new DecryptionError(`Stored arguments were encrypted with unknown key id ${JSON.stringify(keyId)}`);
      const raw = Buffer.from(sealed, 'base64');
      if (raw.length < NONCE_BYTES + TAG_BYTES) throw new DecryptionError('Stored arguments are truncated');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE_BYTES));
        decipher.setAuthTag(raw.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES));
        return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES + TAG_BYTES)), decipher.final()]).toString(
          'utf8',
        );
      } catch (cause) {
        throw new DecryptionError(`Stored arguments failed authentication under key ${JSON.stringify(keyId)}`, {
          cause,
        });
      }
    },
  });
}
