import fc from 'fast-check';
import { expect, it } from 'vitest';
import { ATTEMPT_STATUSES, type AttemptStatus, type ListOptions } from '../../src/core/types.js';
import { addFilterConditions, addListConditions } from '../../src/store/attempt-conditions.js';
import { type AttemptRowOf, attemptFromRow } from '../../src/store/attempt-row.js';
import type { AttemptFilter } from '../../src/store/dashboard-store.js';
import { numberedPlaceholder, positionalPlaceholder, SqlWhere } from '../../src/store/sql-where.js';
import type { TestDb } from '../support/dialects.js';
import { forEachDialect } from '../support/suite.js';

/** A row of the probe table, as the test wrote it. */
interface Probe {
  id: number;
  status: AttemptStatus;
  target: string;
  method: string;
  token: string | null;
  createdAt: number;
  scheduledAt: number | null;
}

const TARGETS = ['Orders', 'Mailer'];
const METHODS = ['fulfill', 'send'];
const TOKENS = [null, 'a', 'b'];
const BASE = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

/** 40 rows spread over every status, target, method, token and a day of creation and due times. */
function probes(): Probe[] {
  return Array.from({ length: 40 }, (_, i) => ({
    id: i + 1,
    status: ATTEMPT_STATUSES[i % 4]!,
    target: TARGETS[i % 2]!,
    method: METHODS[Math.floor(i / 2) % 2]!,
    token: TOKENS[i % 3] === null ? null : `${TOKENS[i % 3]}${i % 5}`,
    createdAt: BASE + i * HOUR,
    scheduledAt: i % 3 === 0 ? null : BASE + ((i * 7) % 40) * HOUR,
  }));
}

/** The same table on both dialects, its times as each stores them (timestamptz; epoch ms). */
async function probeTable(db: TestDb<any>, postgres: boolean): Promise<string> {
  const table = db.qualify('shared_sql_probe');
  const time = postgres ? 'timestamptz' : 'integer';
  await db.query(
    `CREATE TABLE ${table} (id ${postgres ? 'bigint' : 'integer'} PRIMARY KEY, idempotence_token text,
      status text NOT NULL, target text NOT NULL, method_name text NOT NULL, method_args text NOT NULL,
      encryptor text NOT NULL, num_attempts integer NOT NULL, scheduled_at ${time}, completed_at ${time},
      created_at ${time} NOT NULL, updated_at ${time} NOT NULL, last_error text, lease_owner text,
      lease_expires_at ${time})`,
  );
  const at = (ms: number | null) => (ms === null ? null : postgres ? new Date(ms) : ms);
  for (const probe of probes()) {
    const values = [
      probe.id,
      probe.token,
      probe.status,
      probe.target,
      probe.method,
      at(probe.scheduledAt),
      at(probe.createdAt),
    ];
    const marks = postgres ? values.map((_, i) => `$${i + 1}`) : values.map(() => '?');
    await db.query(
      `INSERT INTO ${table} (id, idempotence_token, status, target, method_name, scheduled_at, created_at,
         method_args, encryptor, num_attempts, updated_at)
       VALUES (${marks.join(', ')}, '{}', 'null', 0, ${marks[6]})`,
      postgres ? values : [...values, values[6]],
    );
  }
  return table;
}

const filterArbitrary: fc.Arbitrary<AttemptFilter> = fc.record(
  {
    status: fc.constantFrom(...ATTEMPT_STATUSES),
    target: fc.constantFrom(...TARGETS, 'Nobody'),
    method: fc.constantFrom(...METHODS),
    idempotenceToken: fc.constantFrom('a0', 'b1', 'a3', 'none'),
    from: fc.integer({ min: -2, max: 42 }).map((h) => new Date(BASE + h * HOUR)),
    to: fc.integer({ min: -2, max: 42 }).map((h) => new Date(BASE + h * HOUR)),
    timeField: fc.constantFrom('created' as const, 'due' as const),
  },
  { requiredKeys: ['timeField'] },
);

function matchesFilter(probe: Probe, filter: AttemptFilter): boolean {
  const time = filter.timeField === 'created' ? probe.createdAt : (probe.scheduledAt ?? probe.createdAt);
  return (
    (filter.status === undefined || probe.status === filter.status) &&
    (filter.target === undefined || probe.target === filter.target) &&
    (filter.method === undefined || probe.method === filter.method) &&
    (filter.idempotenceToken === undefined || probe.token === filter.idempotenceToken) &&
    (filter.from === undefined || time >= filter.from.getTime()) &&
    (filter.to === undefined || time < filter.to.getTime())
  );
}

const listArbitrary: fc.Arbitrary<ListOptions> = fc.record(
  {
    status: fc.constantFrom(...ATTEMPT_STATUSES),
    target: fc.constantFrom(...TARGETS),
    method: fc.constantFrom(...METHODS, 'refund'),
    idempotenceToken: fc.constantFrom('a0', 'b2', 'a4'),
    cursor: fc.integer({ min: 1, max: 41 }).map(String),
  },
  { requiredKeys: [] },
);

function matchesList(probe: Probe, options: ListOptions): boolean {
  return (
    (options.status === undefined || probe.status === options.status) &&
    (options.target === undefined || probe.target === options.target) &&
    (options.method === undefined || probe.method === options.method) &&
    (options.idempotenceToken === undefined || probe.token === options.idempotenceToken) &&
    (options.cursor === undefined || probe.id < Number(options.cursor))
  );
}

forEachDialect('shared SQL helpers', (env, dialect) => {
  if (dialect.name === 'mysql') {
    it.skip('serve the PostgreSQL and SQLite stores; the MySQL store writes its own conditions', () => {});
    return;
  }
  const postgres = dialect.name === 'postgres';
  const placeholder = postgres ? numberedPlaceholder : positionalPlaceholder;
  const ids = async (db: TestDb<any>, table: string, where: SqlWhere) =>
    (await db.query(`SELECT id FROM ${table} ${where} ORDER BY id`, where.values)).map((row) => Number(row.id));

  it('a filter’s conditions select exactly the rows the filter describes (any combination)', async () => {
    const { db } = await env();
    const table = await probeTable(db, postgres);
    const rows = probes();
    const time = (date: Date) => (postgres ? date : date.getTime());
    await fc.assert(
      fc.asyncProperty(filterArbitrary, async (filter) => {
        const where = addFilterConditions(new SqlWhere(placeholder), filter, { time });
        const expected = rows.filter((probe) => matchesFilter(probe, filter)).map((probe) => probe.id);
        expect(await ids(db, table, where)).toEqual(expected);
        // Values travel as parameters: none of them is in the text.
        if (filter.target !== undefined) expect(String(where)).not.toContain(filter.target);
      }),
      { numRuns: 200 },
    );
    // One branch of a search: the status given overrides the filter's.
    const branch = addFilterConditions(
      new SqlWhere(placeholder),
      { status: 'failed', timeField: 'created' },
      { time },
      'pending',
    );
    expect(await ids(db, table, branch)).toEqual(rows.filter((p) => p.status === 'pending').map((p) => p.id));
  });

  it('list()’s conditions select exactly the rows the options describe, below the cursor', async () => {
    const { db } = await env();
    const table = await probeTable(db, postgres);
    const rows = probes();
    const id = (value: string) => (postgres ? value : BigInt(value));
    await fc.assert(
      fc.asyncProperty(listArbitrary, async (options) => {
        const where = addListConditions(new SqlWhere(placeholder), options, { id });
        const expected = rows.filter((probe) => matchesList(probe, options)).map((probe) => probe.id);
        expect(await ids(db, table, where)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
    expect(String(addListConditions(new SqlWhere(placeholder), {}, { id }))).toBe('');
  });

  it('attemptFromRow reads a row as each client returns it', async () => {
    const { db } = await env();
    const table = await probeTable(db, postgres);
    const [row] = (await db.query(`SELECT * FROM ${table} WHERE id = 2`)) as unknown as AttemptRowOf<
      unknown,
      unknown
    >[];
    const toDate = (time: unknown) => (time instanceof Date ? time : new Date(Number(time)));
    const attempt = attemptFromRow(row!, toDate);
    const probe = probes()[1]!;
    expect(attempt).toEqual({
      id: '2',
      idempotenceToken: probe.token,
      status: probe.status,
      target: probe.target,
      methodName: probe.method,
      methodArgs: '{}',
      encryptor: 'null',
      numAttempts: 0,
      scheduledAt: new Date(probe.scheduledAt!),
      completedAt: null,
      createdAt: new Date(probe.createdAt),
      updatedAt: new Date(probe.createdAt),
      lastError: null,
      leaseOwner: null,
      leaseExpiresAt: null,
    });
  });
});
