/** The longest `last_error` kept; longer texts are cut (the cut is marked). */
export const MAX_ERROR_TEXT = 8000;

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what must go
const NUL = /\u0000/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const UNPRINTABLE = '[a thrown value that could not be turned into text]';

/** Reads what the value says about itself, trying the cheapest honest form first; any of these may throw. */
function rawText(error: unknown): string {
  if (error instanceof Error) {
    const stack = error.stack;
    if (typeof stack === 'string' && stack.length > 0) return stack;
    return `${String(error.name)}: ${String(error.message)}`;
  }
  if (typeof error === 'string') return error;
  if (error === undefined) return 'undefined (the target threw no value)';
  return String(error);
}

function attempt(read: () => string): string | null {
  try {
    const text = read();
    return typeof text === 'string' ? text : null;
  } catch {
    return null;
  }
}

/**
 * Any thrown value as bounded text every database accepts: never throws (throwing getters, `toString` or
 * `Symbol.toPrimitive`, null-prototype objects, revoked proxies), no NUL (PostgreSQL's text refuses it), no
 * lone surrogates, at most {@link MAX_ERROR_TEXT} characters.
 */
export function errorText(error: unknown): string {
  const text = attempt(() => rawText(error)) ?? attempt(() => Object.prototype.toString.call(error)) ?? UNPRINTABLE;
  const cut = text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}… (${text.length} characters)` : text;
  return cut.replace(NUL, '\\0').replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * `value instanceof type`, false where the check itself throws (a Proxy whose `getPrototypeOf` trap throws):
 * a thrown value is anyone's, and classifying it must never throw.
 */
export function isInstance<T>(value: unknown, type: abstract new (...args: never[]) => T): value is T {
  try {
    return value instanceof type;
  } catch {
    return false;
  }
}
