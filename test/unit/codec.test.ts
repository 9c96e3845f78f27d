import { describe, expect, it } from 'vitest';
import { decodeArgs, encodeArgs, InvalidArgumentsError } from '../../src/index.js';

describe('argument codec', () => {
  it('round-trips JSON values and Dates', () => {
    const value = { a: [1, 2.5, 'x', null, true], d: new Date('2020-02-02T00:00:00.000Z'), o: Object.create(null) };
    expect(decodeArgs(encodeArgs(value))).toEqual({ ...value, o: {} });
  });

  it('omits undefined properties, as JSON does, since they read back the same', () => {
    expect(decodeArgs(encodeArgs({ a: 1, b: undefined }))).toEqual({ a: 1 });
  });

  it('rejects an object that would be mistaken for a tagged Date', () => {
    expect(() => encodeArgs({ $date: 'x' })).toThrow(InvalidArgumentsError);
  });

  it('names the path of the bad value', () => {
    expect(() => encodeArgs({ list: [{ ok: 1 }, { bad: () => 0 }] })).toThrow(/\$\.list\[1\]\.bad/);
  });

  it('allows the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(decodeArgs(encodeArgs({ a: shared, b: shared }))).toEqual({ a: { x: 1 }, b: { x: 1 } });
  });
});
