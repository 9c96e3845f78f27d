import { InvalidArgumentsError } from './errors.js';

// Dates are the one non-JSON type we carry, tagged so they come back as Dates.
const DATE_TAG = '$date';
/** Deeper arguments are refused at enqueue (and could not be decoded without exhausting the stack). */
export const MAX_ARGS_DEPTH = 256;

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (typeof value === 'object' && value !== null) {
    return value.constructor?.name ? `an instance of ${value.constructor.name}` : 'an object';
  }
  return typeof value === 'number' ? String(value) : `a ${typeof value}`;
}

/** Rejects anything that would not come back equal after encode/decode; returns the JSON-ready copy. */
function toJsonValue(value: unknown, path: string, seen: Set<object>, depth = 0): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidArgumentsError(`${value} cannot be stored faithfully`, path);
      if (Object.is(value, -0)) throw new InvalidArgumentsError('-0 cannot be stored faithfully', path);
      return value;
    case 'undefined':
      throw new InvalidArgumentsError('undefined cannot be stored faithfully; use null', path);
    case 'bigint':
      throw new InvalidArgumentsError('bigint cannot be stored faithfully; pass it as a string', path);
    case 'function':
    case 'symbol':
      throw new InvalidArgumentsError(`${describe(value)} cannot be stored`, path);
  }
  if (value === null) return null;
  const obj = value as object;
  if (seen.has(obj)) throw new InvalidArgumentsError('a cycle cannot be stored', path);
  if (depth >= MAX_ARGS_DEPTH) {
    throw new InvalidArgumentsError(`arguments nested deeper than ${MAX_ARGS_DEPTH} levels cannot be stored`, path);
  }
  if (obj instanceof Date) {
    if (Number.isNaN(obj.getTime())) throw new InvalidArgumentsError('an invalid Date cannot be stored', path);
    return { [DATE_TAG]: obj.toISOString() };
  }
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      const out: unknown[] = [];
      for (let i = 0; i < obj.length; i++) {
        if (!(i in obj)) throw new InvalidArgumentsError('a sparse array cannot be stored faithfully', `${path}[${i}]`);
        out.push(toJsonValue(obj[i], `${path}[${i}]`, seen, depth + 1));
      }
      return out;
    }
    if (!isPlainObject(obj)) {
      throw new InvalidArgumentsError(`${describe(obj)} would lose its type; pass plain data`, path);
    }
    if (Object.getOwnPropertySymbols(obj).length > 0) {
      throw new InvalidArgumentsError('symbol keys cannot be stored', path);
    }
    const keys = Object.keys(obj);
    if (keys.length === 1 && keys[0] === DATE_TAG) {
      throw new InvalidArgumentsError(`an object whose only key is "${DATE_TAG}" is reserved`, path);
    }
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const child = (obj as Record<string, unknown>)[key];
      // An undefined property reads back the same when omitted, as in JSON.
      if (child === undefined) continue;
      // defineProperty, not assignment: an own `__proto__` key (JSON.parse makes them) is data and stays data.
      Object.defineProperty(out, key, {
        value: toJsonValue(child, `${path}.${key}`, seen, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  } finally {
    seen.delete(obj);
  }
}

/** Serializes method arguments; throws {@link InvalidArgumentsError} for anything that would not round-trip. */
export function encodeArgs(args: unknown): string {
  return JSON.stringify(toJsonValue(args, '$', new Set()));
}

/**
 * The inverse of {@link encodeArgs}. Also the gate for rows written by other means (the SQL enqueue function):
 * numbers beyond a double's range, which would arrive as `Infinity`, are refused like at enqueue.
 */
export function decodeArgs(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new InvalidArgumentsError('a number beyond the range of a double cannot be read faithfully');
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const keys = Object.keys(value);
      if (keys.length === 1 && keys[0] === DATE_TAG)
        return new Date((value as Record<string, string>)[DATE_TAG] as string);
    }
    return value;
  });
}
