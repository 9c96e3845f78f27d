import { describe, expect, it } from 'vitest';
import { inList } from '../../src/store/mysql/in-list.js';

describe('MySQL IN lists', () => {
  it('pad to a power of two by repeating the last item, so few statement texts exist', () => {
    expect(inList(['1'])).toEqual({ sql: '?', values: ['1'] });
    expect(inList(['1', '2', '3'])).toEqual({ sql: '?, ?, ?, ?', values: ['1', '2', '3', '3'] });
    expect(inList(['a', 1, 'b', 2, 'c', 3], 2)).toEqual({
      sql: '(?, ?), (?, ?), (?, ?), (?, ?)',
      values: ['a', 1, 'b', 2, 'c', 3, 'c', 3],
    });
    const texts = new Set(Array.from({ length: 100 }, (_, n) => inList(Array.from({ length: n + 1 }, String)).sql));
    expect(texts.size).toBe(8);
  });

  it('refuse an empty list (IN () is a syntax error; callers skip the statement)', () => {
    expect(() => inList([])).toThrow();
  });
});
