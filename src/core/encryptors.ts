import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptionError, InvalidOptionsError } from './errors.js';

/**
 * The row a ciphertext belongs to: its target, method and idempotence token never change after creation,
 * so an encryptor can bind the ciphertext to them (aes-256-gcm does, as additional authenticated data) and
 * refuse it when someone copies it into another row.
 */
export interface EncryptionContext {
  readonly target: string;
  readonly methodName: string;
  readonly idempotenceToken: string | null;
}

/**
 * Encrypts serialized method arguments at rest. `name` is stored in each row it writes. `context` names the
 * row; an encryptor that wants integrity per row binds the ciphertext to it (one that ignores it still fits).
 */
export interface Encryptor {
  readonly name: string;
  encrypt(plaintext: string, context: EncryptionContext): string | Promise<string>;
  decrypt(ciphertext: string, context: EncryptionContext): string | Promise<string>;
}

/** An encryptor that answers at once; `enqueueSync` needs one. */
export interface SyncEncryptor extends Encryptor {
  encrypt(plaintext: string, context: EncryptionContext): string;
  decrypt(ciphertext: string, context: EncryptionContext): string;
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
  /** Stored in each row, and bound into each ciphertext. Default: `aes-256-gcm`. */
  name?: string;
  /**
   * Also decrypt rows in the `v1` format (written before 0.2), which are not bound to their row: a table writer
   * can copy one v1 ciphertext into another row. Set `false` once no v1 row is left (`async-task attempts list`
   * shows them; they complete or expire like any other). Supported through every 0.x and 1.x release; 2.0
   * drops the v1 format. Default: `true`.
   */
  acceptV1?: boolean;
}

const FORMAT_V1 = 'v1';
const FORMAT_V2 = 'v2';
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

/** The additional authenticated data of a v2 ciphertext: format, encryptor name and the row's fixed columns. */
function associatedData(encryptorName: string, context: EncryptionContext): Buffer {
  if (!context || typeof context.target !== 'string' || typeof context.methodName !== 'string') {
    throw new TypeError('aesGcmEncryptor: encrypt and decrypt need the row context (target, methodName)');
  }
  // A JSON array: unambiguous whatever the names contain.
  return Buffer.from(
    JSON.stringify([
      'async-task',
      FORMAT_V2,
      encryptorName,
      context.target,
      context.methodName,
      context.idempotenceToken ?? null,
    ]),
    'utf8',
  );
}

/**
 * AES-256-GCM with a random 96-bit nonce per row. Output: `v2.<keyId>.<base64(nonce | tag | ciphertext)>`,
 * so a row names the key that wrote it and key rotation never strands old rows. The encryptor's name and the
 * row's target, method and idempotence token are authenticated with it: a ciphertext copied into another row
 * fails with a {@link DecryptionError}.
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
  if (options.acceptV1 !== undefined && typeof options.acceptV1 !== 'boolean') {
    throw new InvalidOptionsError('aesGcmEncryptor: acceptV1 must be a boolean');
  }
  const currentKeyId = options.currentKeyId;
  const name = options.name ?? 'aes-256-gcm';
  const acceptV1 = options.acceptV1 ?? true;

  return Object.freeze({
    name,
    encrypt(plaintext: string, context: EncryptionContext): string {
      const aad = associatedData(name, context);
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current, nonce);
      cipher.setAAD(aad);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const sealed = Buffer.concat([nonce, cipher.getAuthTag(), body]).toString('base64');
      return `${FORMAT_V2}.${currentKeyId}.${sealed}`;
    },
    decrypt(ciphertext: string, context: EncryptionContext): string {
      const [version, keyId, sealed, ...rest] = String(ciphertext).split('.');
      const known = version === FORMAT_V2 || (version === FORMAT_V1 && acceptV1);
      if (!known || keyId === undefined || sealed === undefined || rest.length > 0) {
        throw new DecryptionError(
          version === FORMAT_V1
            ? 'Stored arguments are in the v1 format, which this encryptor no longer accepts (acceptV1: false)'
            : 'Stored arguments are not in the aes-256-gcm format',
        );
      }
      const key = keys.get(keyId);
      if (!key)
        throw new DecryptionError(`Stored arguments were encrypted with unknown key id ${JSON.stringify(keyId)}`);
      const raw = Buffer.from(sealed, 'base64');
      if (raw.length < NONCE_BYTES + TAG_BYTES) throw new DecryptionError('Stored arguments are truncated');
      const aad = version === FORMAT_V2 ? associatedData(name, context) : undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE_BYTES));
        if (aad) decipher.setAAD(aad);
        decipher.setAuthTag(raw.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES));
        return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES + TAG_BYTES)), decipher.final()]).toString(
          'utf8',
        );
      } catch (cause) {
        throw new DecryptionError(
          `Stored arguments failed authentication under key ${JSON.stringify(keyId)}: tampered, or copied from another row`,
          { cause },
        );
      }
    },
  });
}
