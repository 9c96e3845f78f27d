import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeArgs, encodeArgs } from '../../src/core/codec.js';
import { InvalidArgumentsError } from '../../src/core/errors.js';

// The codec's promise: what it accepts comes back deep-equal; what it refuses throws InvalidArgumentsError,
// never anything else.

/** Plain data the codec must accept: JSON values (no -0, no `{ $date }` look-alikes) and valid Dates. */
const plainData = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.string({ unit: 'binary' }),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
    fc.integer(),
    fc.date({ noInvalidDate: true }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(
      fc.string({ unit: 'binary' }).filter((key) => key !== '$date' && key !== '__proto__'),
      tie('value'),
      { maxKeys: 5 },
    ),
  ),
})).value;

/** Anything at all, including what the codec must refuse. */
const anyValue = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  withUnicodeString: true,
});

function roundTrips(value: unknown): void {
  const text = encodeArgs(value);
  const back = decodeArgs(text);
  expect(back).toEqual(value);
  // Stable: what came back encodes to the same text.
  expect(encodeArgs(back)).toBe(text);
}

describe('codec (property-based)', () => {
  it('plain data is always accepted and comes back deep-equal', () => {
    fc.assert(
      fc.property(plainData, (value) => {
        roundTrips(value);
      }),
      { numRuns: 500 },
    );
  });

  it('any value either round-trips or is refused with InvalidArgumentsError, never another error', () => {
    fc.assert(
      fc.property(anyValue, (value) => {
        let text: string;
        try {
          text = encodeArgs(value);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidArgumentsError);
          return;
        }
        const back = decodeArgs(text);
        expect(back).toEqual(value);
        expect(encodeArgs(back)).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });

  it('values with functions, symbols, bigints, cycles, class instances, -0 or invalid Dates are refused', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const refused = fc.oneof(
      fc.constant(() => 1),
      fc.constant(Symbol('s')),
      fc.bigInt(),
      fc.constant(-0),
      fc.constant(Number.NaN),
      fc.constant(new Date(Number.NaN)),
      fc.constant(cyclic),
      fc.constant(new Map()),
      fc.constant(new (class Point {})()),
      fc.constant({ $date: '2026-01-01T00:00:00.000Z' }),
    );
    fc.assert(
      fc.property(plainData, refused, fc.boolean(), (around, bad, inArray) => {
        const value = inArray ? [around, bad] : { around, bad };
        expect(() => encodeArgs(value)).toThrow(InvalidArgumentsError);
      }),
      { numRuns: 300 },
    );
  });
});
