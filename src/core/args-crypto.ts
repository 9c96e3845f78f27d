import { decodeArgs, encodeArgs } from './codec.js';
import { type EncryptionContext, type Encryptor, nullEncryptor } from './encryptors.js';
import { DecryptionError, InvalidOptionsError } from './errors.js';
import type { Attempt } from './types.js';

/**
 * Which plaintext rows (encryptor `null`) an app with an encryptor still performs: `true` for all of them, or a
 * list of `'Target'` (every method) and `'Target.method'` entries. Default: none.
 */
export type AcceptPlaintext = boolean | readonly string[];

function plaintextRule(accept: AcceptPlaintext | undefined): (target: string, method: string) => boolean {
  if (accept === undefined || accept === false) return () => false;
  if (accept === true) return () => true;
  if (!Array.isArray(accept) || accept.some((entry) => typeof entry !== 'string' || entry.trim() === '')) {
    throw new InvalidOptionsError("acceptPlaintext must be true, false or a list of 'Target' and 'Target.method'");
  }
  const allowed = new Set<string>(accept);
  return (target, method) => allowed.has(target) || allowed.has(`${target}.${method}`);
}

/** The row columns a sealed argument text is bound to and opened with. */
export type SealedRow = Pick<Attempt, 'encryptor' | 'methodArgs' | 'target' | 'methodName' | 'idempotenceToken'>;

const contextOf = (row: EncryptionContext): EncryptionContext => ({
  target: row.target,
  methodName: row.methodName,
  idempotenceToken: row.idempotenceToken ?? null,
});

/**
 * Turns arguments into stored text with the current encryptor, and back with the one named in the row.
 * With an encryptor configured, plaintext rows are refused unless `acceptPlaintext` lets their target in:
 * otherwise anyone who can insert into the table could have any registered method called with any arguments.
 */
export class ArgsSealer {
  private readonly byName = new Map<string, Encryptor>();
  private readonly plaintextAllowed: (target: string, method: string) => boolean;

  constructor(
    private readonly current: Encryptor,
    decryptors: readonly Encryptor[],
    acceptPlaintext?: AcceptPlaintext,
  ) {
    const encrypting = current.name !== nullEncryptor.name;
    for (const encryptor of [...decryptors, current]) {
      if (encrypting && encryptor.name === nullEncryptor.name) {
        throw new InvalidOptionsError(
          "decryptors: plaintext rows are accepted through acceptPlaintext (true, or a list of 'Target.method'), not an encryptor named null",
        );
      }
      this.byName.set(encryptor.name, encryptor);
    }
    const rule = plaintextRule(acceptPlaintext);
    this.plaintextAllowed = encrypting ? rule : () => true;
    if (!this.byName.has(nullEncryptor.name)) this.byName.set(nullEncryptor.name, nullEncryptor);
  }

  get encryptorName(): string {
    return this.current.name;
  }

  async seal(args: unknown, row: EncryptionContext): Promise<string> {
    return this.current.encrypt(encodeArgs(args), contextOf(row));
  }

  /** Seals at once when the encryptor is synchronous (no tick passes), else returns its promise. */
  sealNow(args: unknown, row: EncryptionContext): string | Promise<string> {
    return this.current.encrypt(encodeArgs(args), contextOf(row));
  }

  sealSync(args: unknown, row: EncryptionContext): string {
    const sealed = this.current.encrypt(encodeArgs(args), contextOf(row));
    if (typeof sealed !== 'string') {
      throw new TypeError(`encryptor ${this.current.name} is asynchronous; use enqueue() instead of enqueueSync()`);
    }
    return sealed;
  }

  /** Decrypts and decodes a row's arguments; {@link DecryptionError} for anything it cannot or may not read. */
  async open(attempt: SealedRow): Promise<unknown> {
    if (attempt.encryptor === nullEncryptor.name && !this.plaintextAllowed(attempt.target, attempt.methodName)) {
      throw new DecryptionError(
        `Refused a plaintext row for ${attempt.target}.${attempt.methodName}: an encryptor is configured, and ` +
          'acceptPlaintext does not list this target',
      );
    }
    const encryptor = this.byName.get(attempt.encryptor);
    if (!encryptor) {
      throw new DecryptionError(
        `Stored arguments were written by encryptor ${JSON.stringify(attempt.encryptor)}, which is not configured`,
      );
    }
    let text: string;
    try {
      text = await encryptor.decrypt(attempt.methodArgs, contextOf(attempt));
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
