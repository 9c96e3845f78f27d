import { describe, expect, it } from 'vitest';
import { toQuestionMarks } from '../../src/adapters/placeholders.js';

describe('toQuestionMarks (Knex placeholders)', () => {
  it('turns $n into ? in order of appearance, repeating a value where its number repeats', () => {
    expect(
      toQuestionMarks('UPDATE t SET a = $2, b = CASE WHEN $3 IS NULL THEN 1 ELSE $3 END WHERE id = $1', [
        10,
        'x',
        null,
      ]),
    ).toEqual({
      text: 'UPDATE t SET a = ?, b = CASE WHEN ? IS NULL THEN 1 ELSE ? END WHERE id = ?',
      values: ['x', null, null, 10],
    });
  });

  it('reads $10 as the tenth value, not $1 followed by 0', () => {
    const values = Array.from({ length: 10 }, (_, i) => i + 1);
    expect(toQuestionMarks('SELECT $10, $1', values)).toEqual({ text: 'SELECT ?, ?', values: [10, 1] });
  });

  it('escapes a literal ? so Knex does not bind it', () => {
    expect(toQuestionMarks("SELECT '?' || $1", ['a'])).toEqual({ text: "SELECT '\\?' || ?", values: ['a'] });
  });

  it('leaves text without values alone: dollar-quoted bodies keep their $', () => {
    const ddl = 'CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS $body$ SELECT $1 $body$';
    expect(toQuestionMarks(ddl, [])).toEqual({ text: ddl, values: [] });
  });

  it('refuses a placeholder without a value', () => {
    expect(() => toQuestionMarks('SELECT $2', ['only one'])).toThrow(RangeError);
  });
});
