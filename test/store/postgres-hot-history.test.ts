import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { postgres } from '../../src/drivers/postgres.js';
import { createAsyncTask, InvalidStateError } from '../../src/index.js';
import { postgresMigrations } from '../../src/store/postgres/migrations.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { NewAttempt } from '../../src/store/store.js';
import { pgTestDatabase } from '../adapters/support/pg-database.js';
import { withPgTransaction } from '../support/pg-transaction.js';

// Migration 6 splits the attempts into a hot table (pending) and a history (completed) behind a view. The
// invariants these tests hold it to:
// 1. an attempt is in exactly one of hot and history, and its id never changes, nor is reused;
// 2. an idempotence token is unique across both, even under concurrent enqueues while the first one completes;
// 3. no claim returns a row another worker holds; an outcome write is guarded by owner and run count;
// 4. a retry of a completed attempt moves it back with its id, also while workers claim.

const database = pgTestDatabase();
const pools: pg.Pool[] = [];
afterEach(async () => {
  while (pools.length > 0) await pools.pop()?.end();
});
afterAll(() => database.drop());

const methods = [{ target: 'T', method: 'm' }];
const newAttempt = (token: string | null = null): NewAttempt => ({
  target: 'T',
  methodName: 'm',
  methodArgs: '{}',
  encryptor: 'null',
  idempotenceToken: token,
  scheduledAt: null,
});

async function setup() {
  const schema = await database.schema();
  const pool = new pg.Pool({ connectionString: schema.url, max: 12 });
  pools.push(pool);
  const store = new PostgresStore(pool, { schema: schema.name });
  await store.migrate();
  const s = schema.name;
  const rows = async (sql: string, values: unknown[] = []) => (await pool.query(sql, values)).rows;
  /** Where each id lives: every id must be in exactly one table. */
  const placement = async () =>
    rows(
      `SELECT id::text, count(*)::int AS n, max(place) AS place FROM (
         SELECT id, 'hot' AS place FROM ${s}.async_task_attempts_hot
         UNION ALL SELECT id, 'history' FROM ${s}.async_task_attempts_history) AS a
       GROUP BY id ORDER BY id`,
    );
  const inTx = <T>(fn: (client: pg.PoolClient) => Promise<T>) => withPgTransaction(pool, fn);
  return { schema: s, url: schema.url, pool, store, rows, placement, inTx };
}

describe('PostgreSQL hot table and history (migration 6)', () => {
  it('moves the rows of an existing table: ids, tokens and statuses kept; new ids continue past them', async () => {
    const schema = await database.schema();
    const pool = new pg.Pool({ connectionString: schema.url, max: 4 });
    pools.push(pool);
    const store = new PostgresStore(pool, { schema: schema.name });
    const s = schema.name;
    // The schema of version 5, with rows in it, as an older release left it.
    await pool.query(`CREATE TABLE ${s}.async_task_attempts_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    for (const migration of postgresMigrations.filter((m) => m.version <= 5)) {
      await pool.query(migration.sql(store.names));
      await pool.query(`INSERT INTO ${s}.async_task_attempts_migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
    }
    await pool.query(`INSERT INTO ${s}.async_task_attempts (target, method_name, method_args, encryptor, idempotence_token,
        status, completed_at) VALUES
      ('T', 'm', '{}', 'null', 'a', 'pending', NULL),
      ('T', 'm', '{}', 'null', 'b', 'succeeded', now()),
      ('T', 'm', '{}', 'null', NULL, 'failed', now()),
      ('T', 'm', '{}', 'null', NULL, 'pending', NULL)`);
    // An id drawn and rolled back still counts: the new sequence continues past the identity's last value.
    await pool.query(`INSERT INTO ${s}.async_task_attempts (target, method_name, method_args, encryptor)
      VALUES ('T', 'm', '{}', 'null') RETURNING id`);
    await pool.query(`DELETE FROM ${s}.async_task_attempts WHERE id = 5`);
    const before = (await pool.query(`SELECT * FROM ${s}.async_task_attempts ORDER BY id`)).rows;

    await store.migrate();

    expect((await pool.query(`SELECT * FROM ${s}.async_task_attempts ORDER BY id`)).rows).toEqual(before);
    const hot = (await pool.query(`SELECT id::int FROM ${s}.async_task_attempts_hot ORDER BY id`)).rows;
    const history = (await pool.query(`SELECT id::int FROM ${s}.async_task_attempts_history ORDER BY id`)).rows;
    expect(hot.map((row) => row.id)).toEqual([1, 4]);
    expect(history.map((row) => row.id)).toEqual([2, 3]);
    const keys = (await pool.query(`SELECT idempotence_token, id::int FROM ${s}.async_task_attempts_keys ORDER BY 1`))
      .rows;
    expect(keys).toEqual([
      { idempotence_token: 'a', id: 1 },
      { idempotence_token: 'b', id: 2 },
    ]);
    const fresh = await withPgTransaction(pool, (tx) => store.attemptInsert(tx, newAttempt()));
    expect(Number(fresh.attempt.id)).toBe(6);
    // A token of a completed attempt is still taken.
    const again = await withPgTransaction(pool, (tx) => store.attemptInsert(tx, newAttempt('b')));
    expect(again).toMatchObject({ created: false, attempt: { id: '2', status: 'succeeded' } });
  });

  it('a claim is a HOT update, touches no held row, and an outcome moves the row once, guarded', async () => {
    const { store, pool, schema, placement, inTx } = await setup();
    await inTx((tx) =>
      store.attemptInsertMany(
        tx,
        Array.from({ length: 20 }, () => newAttempt()),
      ),
    );
    const worker = store.workerStore();
    const first = await worker.attemptClaimDue({ limit: 10, owner: 'a', leaseMs: 60_000, methods });
    const second = await worker.attemptClaimDue({ limit: 100, owner: 'b', leaseMs: 60_000, methods });
    expect(first).toHaveLength(10);
    expect(second).toHaveLength(10);
    expect(new Set([...first, ...second].map((a) => a.id)).size).toBe(20);
    expect(await worker.attemptClaimDue({ limit: 100, owner: 'c', leaseMs: 60_000, methods })).toEqual([]);
    const stats = await pool.query(
      `SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'async_task_attempts_hot'`,
      [schema],
    );
    // Statistics arrive asynchronously: when they have, the claims' updates were HOT.
    if (Number(stats.rows[0]?.n_tup_upd) > 0) expect(Number(stats.rows[0].n_tup_hot_upd)).toBeGreaterThan(0);

    const refs = first.map((a) => ({ id: a.id, numAttempts: a.numAttempts }));
    // Another owner, or a stale run count: nothing moves.
    expect(await worker.attemptMarkSucceededClaims(null, 'b', refs)).toEqual([]);
    const stale = refs.map((ref) => ({ ...ref, numAttempts: ref.numAttempts + 1 }));
    expect(await worker.attemptMarkSucceededClaims(null, 'a', stale)).toEqual([]);
    const done = await worker.attemptMarkSucceededClaims(null, 'a', refs);
    expect(done.sort()).toEqual(refs.map((ref) => ref.id).sort());
    expect(await worker.attemptMarkSucceededClaims(null, 'a', refs)).toEqual([]);
    const places = await placement();
    expect(places.every((row) => row.n === 1)).toBe(true);
    expect(
      places
        .filter((row) => row.place === 'history')
        .map((row) => row.id)
        .sort((x, y) => Number(x) - Number(y)),
    ).toEqual(refs.map((ref) => ref.id).sort((x, y) => Number(x) - Number(y)));
    const found = await store.attemptFind(refs[0]!.id);
    expect(found).toMatchObject({ status: 'succeeded', numAttempts: 1, leaseOwner: null });
    // A lapsed lease makes the row claimable again; a live one does not.
    await pool.query(
      `UPDATE ${schema}.async_task_attempts_hot SET lease_expires_at = now() - interval '1 second'
      WHERE lease_owner = 'b' AND id = $1`,
      [second[0]!.id],
    );
    const reclaimed = await worker.attemptClaimDue({ limit: 100, owner: 'c', leaseMs: 60_000, methods });
    expect(reclaimed.map((a) => a.id)).toEqual([second[0]!.id]);
    expect(reclaimed[0]!.numAttempts).toBe(2);
  });

  it('concurrent claims never return one row twice, nor a row another claim holds', async () => {
    const { store, inTx } = await setup();
    await inTx((tx) =>
      store.attemptInsertMany(
        tx,
        Array.from({ length: 400 }, () => newAttempt()),
      ),
    );
    const worker = store.workerStore();
    const claimed: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, lane) => {
        for (;;) {
          const batch = await worker.attemptClaimDue({ limit: 17, owner: `w${lane}`, leaseMs: 60_000, methods });
          if (batch.length === 0) return;
          for (const attempt of batch) {
            expect(attempt.leaseOwner).toBe(`w${lane}`);
            claimed.push(attempt.id);
          }
        }
      }),
    );
    expect(claimed).toHaveLength(400);
    expect(new Set(claimed).size).toBe(400);
  });

  it('a failed run with a retry stays hot; a final failure moves to the history with its error', async () => {
    const { store, inTx, placement } = await setup();
    const { attempt } = await inTx((tx) => store.attemptInsert(tx, newAttempt()));
    const worker = store.workerStore();
    const [claim] = await worker.attemptClaimDue({ limit: 1, owner: 'w', leaseMs: 60_000, methods });
    const retried = await worker.attemptRecordClaimFailure(null, 'w', claim!, { lastError: 'boom', retryInMs: 0 });
    expect(retried).toMatchObject({ status: 'pending', lastError: 'boom', leaseOwner: null });
    expect((await placement()).map((row) => row.place)).toEqual(['hot']);
    const [again] = await worker.attemptClaimDue({ limit: 1, owner: 'w', leaseMs: 60_000, methods });
    const failed = await worker.attemptRecordClaimFailure(null, 'w', again!, { lastError: 'final', retryInMs: null });
    expect(failed).toMatchObject({ id: attempt.id, status: 'failed', lastError: 'final', numAttempts: 2 });
    expect(failed!.completedAt).toBeInstanceOf(Date);
    expect((await placement()).map((row) => row.place)).toEqual(['history']);
  });

  it("a DELETE through the view takes the attempt's runs' errors with it; an UPDATE through it keeps them", async () => {
    const { store, inTx, rows, schema } = await setup();
    const worker = store.workerStore();
    const ids: string[] = [];
    for (let index = 0; index < 2; index++) {
      const { attempt } = await inTx((tx) => store.attemptInsert(tx, newAttempt()));
      const [claim] = await worker.attemptClaimDue({ limit: 1, owner: 'w', leaseMs: 60_000, methods });
      await worker.attemptRecordClaimFailure(null, 'w', claim!, { lastError: `e${index}`, retryInMs: null });
      ids.push(attempt.id);
    }
    const errorsOf = async (id: string) =>
      (await rows(`SELECT run, error FROM ${schema}.async_task_attempts_errors WHERE attempt_id = $1`, [id])).map(
        (row) => [row.run, row.error],
      );
    expect(await errorsOf(ids[0]!)).toEqual([[1, 'e0']]);
    await rows(`UPDATE ${schema}.async_task_attempts SET target = 'T' WHERE id = $1`, [ids[0]]);
    expect(await errorsOf(ids[0]!)).toEqual([[1, 'e0']]);
    await rows(`DELETE FROM ${schema}.async_task_attempts WHERE id = $1`, [ids[0]]);
    expect(await errorsOf(ids[0]!)).toEqual([]);
    expect(await errorsOf(ids[1]!)).toEqual([[1, 'e1']]);
  });

  it('concurrent enqueues with one token while its attempt completes: one attempt, one id, in one table', async () => {
    const { store, inTx, placement, rows, schema } = await setup();
    const worker = store.workerStore();
    for (let round = 0; round < 10; round++) {
      const token = `tok-${round}`;
      const first = await inTx((tx) => store.attemptInsert(tx, newAttempt(token)));
      const [claim] = await worker.attemptClaimDue({ limit: 1, owner: 'w', leaseMs: 60_000, methods });
      // The completion and six enqueues of the same token race, each from its own connection.
      const racers = Array.from({ length: 6 }, () => inTx((tx) => store.attemptInsert(tx, newAttempt(token))));
      const completion = worker.attemptMarkSucceededClaims(null, 'w', [claim!]);
      const results = await Promise.all(racers);
      expect(await completion).toEqual([first.attempt.id]);
      for (const result of results) {
        expect(result.created).toBe(false);
        expect(result.attempt.id).toBe(first.attempt.id);
        expect(['pending', 'succeeded']).toContain(result.attempt.status);
      }
    }
    const places = await placement();
    expect(places).toHaveLength(10);
    expect(places.every((row) => row.n === 1 && row.place === 'history')).toBe(true);
    const keys = await rows(`SELECT count(*)::int AS n FROM ${schema}.async_task_attempts_keys`);
    expect(keys[0]!.n).toBe(10);
  });

  it('concurrent first enqueues of one token (single and bulk) create exactly one attempt', async () => {
    const { store, inTx, placement } = await setup();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        inTx(async (tx) =>
          i % 2 === 0
            ? [await store.attemptInsert(tx, newAttempt('same'))]
            : store.attemptInsertMany(tx, [newAttempt(null), newAttempt('same'), newAttempt('same')]),
        ),
      ),
    );
    const tokened = results.flat().filter((result) => result.attempt.idempotenceToken === 'same');
    expect(tokened.filter((result) => result.created)).toHaveLength(1);
    expect(new Set(tokened.map((result) => result.attempt.id)).size).toBe(1);
    const places = await placement();
    // One tokened attempt and the four untokened ones of the bulk enqueues.
    expect(places).toHaveLength(5);
    expect(places.every((row) => row.n === 1)).toBe(true);
  });

  it('retry of a completed attempt moves it back with its id, while workers claim; a second retry is refused', async () => {
    const { url, schema, placement } = await setup();
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    pools.push(pool);
    let runs = 0;
    const asyncTask = createAsyncTask({
      db: postgres(pool, { schema }),
      targets: {
        T: {
          async m() {
            runs++;
          },
        },
      },
    });
    await asyncTask.migrate();
    const ids = await withPgTransaction(pool, async (tx) =>
      (
        await asyncTask.enqueueMany(
          tx,
          'T',
          'm',
          Array.from({ length: 30 }, (_, i) => ({ i })),
        )
      ).map((a) => a.id),
    );
    // An operator fails them while pending: each moves to the history, as failed.
    for (const id of ids) expect(await asyncTask.fail(id)).toMatchObject({ id, status: 'failed' });
    const worker = asyncTask.worker({ mode: 'leased', concurrency: 4, pollIntervalMs: 20, retention: false });
    await worker.start();
    try {
      // Two racing retries of each failed attempt: one moves it back; the other finds it pending or succeeded
      // (refused), never missing.
      const outcomes = await Promise.allSettled(ids.flatMap((id) => [asyncTask.retry(id), asyncTask.retry(id)]));
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(InvalidStateError);
      }
      for (let i = 0; i < ids.length; i++) {
        const retried = outcomes.slice(2 * i, 2 * i + 2).filter((outcome) => outcome.status === 'fulfilled');
        expect(retried).toHaveLength(1);
      }
      const expected = ids.length;
      const deadline = Date.now() + 20_000;
      while (runs < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(runs).toBe(expected);
    } finally {
      await worker.stop();
    }
    for (const id of ids) {
      expect(await asyncTask.find(id)).toMatchObject({ id, status: 'succeeded', numAttempts: 1 });
    }
    const places = await placement();
    expect(places.map((row) => row.id).sort()).toEqual([...ids].sort());
    expect(places.every((row) => row.n === 1 && row.place === 'history')).toBe(true);
  });

  it('pruning frees the token with the row; writes through the view land in the table their status names', async () => {
    const { store, inTx, pool, schema, placement } = await setup();
    const { attempt } = await inTx((tx) => store.attemptInsert(tx, newAttempt('once')));
    await inTx((tx) => store.attemptMarkSucceeded(tx, attempt.id));
    expect(
      await store.workerStore().attemptPruneCompleted({ statuses: ['succeeded'], olderThanMs: -1000, limit: 10 }),
    ).toBe(1);
    const again = await inTx((tx) => store.attemptInsert(tx, newAttempt('once')));
    expect(again.created).toBe(true);
    expect(again.attempt.id).not.toBe(attempt.id);

    await pool.query(
      `UPDATE ${schema}.async_task_attempts SET status = 'expired', completed_at = now() WHERE id = $1`,
      [again.attempt.id],
    );
    expect(await placement()).toEqual([{ id: again.attempt.id, n: 1, place: 'history' }]);
    await pool.query(`UPDATE ${schema}.async_task_attempts SET status = 'pending' WHERE id = $1`, [again.attempt.id]);
    expect(await placement()).toEqual([{ id: again.attempt.id, n: 1, place: 'hot' }]);
    // The token stays taken through both moves.
    expect((await inTx((tx) => store.attemptInsert(tx, newAttempt('once')))).created).toBe(false);
    await pool.query(`DELETE FROM ${schema}.async_task_attempts WHERE id = $1`, [again.attempt.id]);
    expect(await placement()).toEqual([]);
    expect((await inTx((tx) => store.attemptInsert(tx, newAttempt('once')))).created).toBe(true);
  });
});
