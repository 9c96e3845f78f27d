/** How a dialect writes its nth parameter (from 1): `$n` on PostgreSQL, `?` on SQLite. */
export type Placeholder = (index: number) => string;

export const numberedPlaceholder: Placeholder = (index) => `$${index}`;
export const positionalPlaceholder: Placeholder = () => '?';

/**
 * Builds a WHERE clause: values go to `values` and only placeholders into the text. With positional placeholders
 * the values are in the order their conditions were added, which is their order in the text.
 */
export class SqlWhere {
  readonly parts: string[] = [];

  /** `values` may be shared by several clauses of one statement (numbered placeholders only). */
  constructor(
    private readonly placeholder: Placeholder,
    readonly values: unknown[] = [],
  ) {}

  /** Binds `value`; returns its placeholder. */
  param(value: unknown): string {
    this.values.push(value);
    return this.placeholder(this.values.length);
  }

  /** Adds one condition, written with `param` for each value it binds. */
  add(condition: (param: (value: unknown) => string) => string): this {
    this.parts.push(condition((value) => this.param(value)));
    return this;
  }

  /** `WHERE a AND b`, or nothing without conditions. */
  toString(): string {
    return this.parts.length > 0 ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}
