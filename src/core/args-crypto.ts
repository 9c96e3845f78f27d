import { decodeArgs, encodeArgs } from './codec.js';
import { type Encryptor, nullEncryptor } from './encryptors.js';
import { DecryptionError } from './errors.js';
import type { Attempt } from './types.js';

/** Turns arguments into stored text with the current encryptor, and back with the one named in the row. */
export class ArgsSealer {
  private readonly byName = new Map<string, Encryptor>();

  constructor(
    private readonly current: Encryptor,
    decryptors: readonly Encryptor[],
  ) {
    for (const encryptor of [nullEncryptor, ...decryptors, current]) this.byName.set(encryptor.name, encryptor);
  }

  get encryptorName(): string {
    return this.current.name;
  }

  async seal(args: unknown): Promise<string> {
    return this.current.encrypt(encodeArgs(args));
  }

  /** Seals at once when the encryptor is synchronous (no tick passes), else returns its promise. */
  sealNow(args: unknown): string | Promise<string> {
    return this.current.encrypt(encodeArgs(args));
  }

  sealSync(args: unknown): string {
    const sealed = this.current.encrypt(encodeArgs(args));
    if (typeof sealed !== 'string') {
      throw new TypeError(`encryptor ${this.current.name} is asynchronous; use enqueue() instead of enqueueSync()`);
    }
    return sealed;
  }

  async open(attempt: Pick<Attempt, 'encryptor' | 'methodArgs'>): Promise<unknown> {
    const encryptor = this.byName.get(attempt.encryptor);
    if (!encryptor) {
      throw new DecryptionError(
        `Stored arguments were written by encryptor ${JSON.stringify(attempt.encryptor)}, which is not configured`,
      );
    }
    let text: string;
    try {
      text = await encryptor.decrypt(attempt.methodArgs);
    } catch (cause) {
      if (cause instanceof DecryptionError) throw cause;
      throw new DecryptionError(`Encryptor ${JSON.stringify(encryptor.name)} could not decrypt the arguments`, {
        cause,
      });
    }
    try {
      return decodeArgs(text);
    } catch (cause) {
      throw new DecryptionError('Stored arguments are not valid after decryption', { cause });
    }
  }
}
