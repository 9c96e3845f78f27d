import { describe, expect, it } from 'vitest';
import { abortable, RunAbort } from '../../src/core/abortable.js';
import { decodeArgs } from '../../src/core/codec.js';

describe('RunAbort: the AbortController behind ctx.signal is made on first read', () => {
  it('a signal read before the abort is aborted with the first reason; later aborts change nothing', () => {
    const abort = new RunAbort();
    const signal = abort.signal;
    const seen: unknown[] = [];
    signal.addEventListener('abort', () => seen.push(signal.reason));
    const first = new Error('first');
    abort.abort(first);
    abort.abort(new Error('second'));
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(first);
    expect(seen).toEqual([first]);
    expect(abort.signal).toBe(signal);
  });

  it('a signal first read after the abort is already aborted, with the same reason', () => {
    const abort = new RunAbort();
    const reason = new Error('timeout');
    abort.abort(reason);
    expect(abort.signal.aborted).toBe(true);
    expect(abort.signal.reason).toBe(reason);
  });

  it('abortable rejects with the reason while the work hangs, and at once when already aborted', async () => {
    const abort = new RunAbort();
    const hanging = abortable(new Promise(() => {}), abort);
    const reason = new Error('stopped');
    abort.abort(reason);
    await expect(hanging).rejects.toBe(reason);
    await expect(abortable(Promise.resolve(1), abort)).rejects.toBe(reason);
    const fresh = new RunAbort();
    await expect(abortable(Promise.resolve(7), fresh)).resolves.toBe(7);
    fresh.abort(new Error('after'));
  });
});

describe('decodeArgs: the fast path and the reviver agree', () => {
  const cases = [
    '{"i":1}',
    '[1e5,2E-3,-0.5]',
    '{"$date":"2020-01-01T00:00:00.000Z"}',
    '{"\\u0024date":"2020-01-01T00:00:00.000Z"}',
    '{"a":{"b":[{"$date":"2021-01-01T00:00:00.000Z"}]},"s":"é"}',
    `{"a":${'9'.repeat(308)}}`,
    '{"__proto__":{"x":1}}',
  ];
  // Trailing whitespace past 1024 characters sends the same value through the reviver.
  it.each(cases)('%s', (text) => {
    const fast = decodeArgs(text);
    const revived = decodeArgs(text + ' '.repeat(1100));
    expect(fast).toEqual(revived);
    expect(Object.getPrototypeOf(fast)).toBe(Object.getPrototypeOf(revived));
  });

  it('numbers that overflow a double are refused on either path', () => {
    expect(() => decodeArgs('{"a":1e400}')).toThrow(/beyond the range/);
    expect(() => decodeArgs(`{"a":${'9'.repeat(309)}}`)).toThrow(/beyond the range/);
    expect(() => decodeArgs(`[${'9'.repeat(300)}e9]`)).toThrow(/beyond the range/);
  });
});
