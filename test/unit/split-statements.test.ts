import { describe, expect, it } from 'vitest';
import { dedentStatement, splitStatements } from '../../src/store/split-statements.js';

describe('splitStatements', () => {
  it('splits at semicolons and drops chunks that are only comments or blank', () => {
    expect(splitStatements('CREATE TABLE a (x int);\n-- a note\n;\n  SELECT 1 ;  ')).toEqual([
      'CREATE TABLE a (x int)',
      'SELECT 1',
    ]);
  });

  it('keeps the comment that precedes a statement with it', () => {
    expect(splitStatements('-- first\nSELECT 1;\n/* second */ SELECT 2')).toEqual([
      '-- first\nSELECT 1',
      '/* second */ SELECT 2',
    ]);
  });

  it('ignores semicolons inside quotes, comments and PostgreSQL dollar-quoted bodies', () => {
    const script = [
      "INSERT INTO t VALUES ('a;b', 'it''s; fine')",
      'SELECT "odd;name" FROM t -- trailing; comment\nWHERE 1 = 1',
      '/* block; comment */ SELECT 2',
      'CREATE FUNCTION f() RETURNS void AS $$ BEGIN PERFORM 1; PERFORM 2; END $$ LANGUAGE plpgsql',
      'CREATE FUNCTION g() RETURNS void AS $body$ BEGIN RAISE NOTICE $$x;y$$; END $body$ LANGUAGE plpgsql',
    ];
    expect(splitStatements(`${script.join(';\n')};`)).toEqual(script);
  });
});

describe('dedentStatement', () => {
  it('removes the continuation lines’ common indentation', () => {
    expect(dedentStatement('CREATE TABLE t (\n      a int,\n        b int\n    )')).toBe(
      'CREATE TABLE t (\n  a int,\n    b int\n)',
    );
  });
});
