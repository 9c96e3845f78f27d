import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { adaptStore } from '../../src/adapters/adapted-store.js';
import { postgres } from '../../src/drivers/postgres.js';
import { sqlite } from '../../src/drivers/sqlite.js';
import { type SqliteDatabaseLike, SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { NewAttempt, Store } from '../../src/store/store.js';
import type { WorkerStore } from '../../src/store/worker-store.js';

/** A client's handle that is not the store's client: the SQLite store fails on it unless the adapter unwraps it. */
class Handle {
  constructor(readonly connection: SqliteDatabaseLike) {}
}

/** The operations of `S` whose first parameter takes the handle `Tx` (alone or `| null`; not `unknown`). */
type TxOperation<S, Tx> = {
  [K in keyof S]-?: NonNullable<S[K]> extends (...args: infer A) => any
    ? A extends [infer First, ...any[]]
      ? unknown extends First
        ? never
        : [Tx] extends [First]
          ? K
          : never
      : never
    : never;
}[keyof S];

const METHODS = [{ target: 'Orders', method: 'fulfill' }];
const OWNER = 'unit-test-worker';
const row = (token: string | null = null): NewAttempt => ({
  target: 'Orders',
  methodName: 'fulfill',
  methodArgs: '{"orderId":1}',
  encryptor: 'null',
  idempotenceToken: token,
  scheduledAt: null,
});

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function open() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'adapted-store-'));
  const app = new Database(path.join(dir, 'app.db'));
  app.pragma('journal_mode = WAL');
  app.exec('CREATE TABLE effects (key TEXT)');
  const inner = new SqliteStore(app);
  const unwrapped: Handle[] = [];
  const store = adaptStore<Handle, SqliteDatabaseLike>(inner, {
    unwrap: (handle) => {
      unwrapped.push(handle);
      return handle.connection;
    },
    transaction: (fn, options) => inner.transaction((connection) => fn(new Handle(connection)), options),
  });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => app.close());
  cleanups.push(() => store.close());
  await store.migrate();
  const effects = () => (app.prepare('SELECT count(*) AS n FROM effects').get() as { n: number }).n;
  return { app, store, unwrapped, effects };
}

describe('adaptStore: every operation that takes a handle runs on the client it unwraps to', () => {
  it('Store and WorkerStore operations, on a real SQLite database', async () => {
    const { app, store, unwrapped, effects } = await open();
    const appHandle = new Handle(app);
    const worker: WorkerStore<Handle> = store.workerStore();
    const inserted = (await store.attemptInsert(appHandle, row())).attempt;

    // One check per operation; the type makes this list complete: a new operation taking the handle fails to compile here.
    const checks: Record<
      TxOperation<Store<Handle>, Handle> | TxOperation<WorkerStore<Handle>, Handle>,
      () => Promise<void>
    > = {
      attemptInsert: async () => {
        const again = await store.attemptInsert(appHandle, row('token-1'));
        expect(again.created).toBe(true);
        expect((await store.attemptInsert(appHandle, row('token-1'))).created).toBe(false);
      },
      attemptInsertSync: async () => {
        expect(store.attemptInsertSync?.(appHandle, row()).created).toBe(true);
      },
      attemptInsertMany: async () => {
        const results = await store.attemptInsertMany!(appHandle, [row('many-1'), row('many-2')]);
        expect(results.map((result) => result.attempt.idempotenceToken)).toEqual(['many-1', 'many-2']);
      },
      attemptInsertManySync: async () => {
        const results = store.attemptInsertManySync!(appHandle, [row(), row('many-sync-1'), row()]);
        expect(results.map((result) => result.created)).toEqual([true, true, true]);
        expect(results[1]!.attempt.idempotenceToken).toBe('many-sync-1');
        expect(Number(results[2]!.attempt.id)).toBeGreaterThan(Number(results[0]!.attempt.id));
      },
      attemptLock: async () => {
        const locked = await store.transaction((tx) => store.attemptLock(tx, inserted.id));
        expect(locked?.attempt.id).toBe(inserted.id);
      },
      attemptComplete: async () => {
        const expired = await store.transaction((tx) => store.attemptComplete(tx, inserted.id, 'expired'));
        expect(expired.status).toBe('expired');
      },
      attemptRequeue: async () => {
        const requeued = await store.transaction((tx) => store.attemptRequeue(tx, inserted.id));
        expect(requeued.status).toBe('pending');
      },
      attemptMarkSucceeded: async () => {
        const succeeded = await store.transaction((tx) => store.attemptMarkSucceeded(tx, inserted.id));
        expect(succeeded.status).toBe('succeeded');
      },
      attemptLockClaims: async () => {
        const claimed = await worker.attemptClaimDue({ limit: 1, owner: OWNER, leaseMs: 60_000, methods: METHODS });
        const claims = claimed.map(({ id, numAttempts }) => ({ id, numAttempts }));
        const locked = await store.transaction((tx) => worker.attemptLockClaims(tx, OWNER, claims));
        expect(locked.map((attempt) => attempt.id)).toEqual(claims.map((claim) => claim.id));
        await worker.attemptReleaseClaims(OWNER, claims, { uncount: true });
      },
      attemptScope: async () => {
        await store.transaction(async (tx) => {
          const scope = worker.attemptScope(tx);
          // An ORM's handle: the target gets it as it is; the savepoint is opened before the target runs.
          expect(scope.tx).toBe(tx);
          await scope.begin();
          tx.connection.prepare("INSERT INTO effects (key) VALUES ('undone')").run();
          await scope.rollback();
          await scope.check();
        });
        expect(effects()).toBe(0);
      },
      attemptMarkSucceededClaims: async () => {
        const claimed = await worker.attemptClaimDue({ limit: 2, owner: OWNER, leaseMs: 60_000, methods: METHODS });
        const [first, second] = claimed.map(({ id, numAttempts }) => ({ id, numAttempts }));
        expect(await store.transaction((tx) => worker.attemptMarkSucceededClaims(tx, OWNER, [first!]))).toEqual([
          first!.id,
        ]);
        expect(await worker.attemptMarkSucceededClaims(null, OWNER, [second!])).toEqual([second!.id]);
      },
      attemptRecordClaimFailure: async () => {
        const claimed = await worker.attemptClaimDue({ limit: 2, owner: OWNER, leaseMs: 60_000, methods: METHODS });
        const [first, second] = claimed.map(({ id, numAttempts }) => ({ id, numAttempts }));
        const failure = { lastError: 'boom', retryInMs: null };
        const inTx = await store.transaction((tx) => worker.attemptRecordClaimFailure(tx, OWNER, first!, failure));
        expect(inTx?.status).toBe('failed');
        expect((await worker.attemptRecordClaimFailure(null, OWNER, second!, failure))?.status).toBe('failed');
      },
    };
    for (const [name, check] of Object.entries(checks)) {
      const before = unwrapped.length;
      await check().catch((error: unknown) => {
        throw new Error(`${name}: ${String(error)}`, { cause: error });
      });
      expect(unwrapped.length, name).toBeGreaterThan(before);
    }
    // Every handle the store saw was unwrapped: a Handle never reached the SQLite store itself.
    expect(unwrapped.every((handle) => handle instanceof Handle)).toBe(true);
  });

  it('transactions are the client’s: a throw rolls back what the operations wrote through the handle', async () => {
    const { store } = await open();
    await expect(
      store.transaction(async (tx) => {
        expect(tx).toBeInstanceOf(Handle);
        await store.attemptInsert(tx, row('rolled-back'));
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await store.attemptList({ idempotenceToken: 'rolled-back', limit: 10 })).toEqual([]);
  });
});

describe('the drivers over the store’s own clients', () => {
  it('sqlite(): a target gets the connection the store scopes, and the capabilities are the store’s', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'adapted-store-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const app = new Database(path.join(dir, 'app.db'));
    cleanups.push(() => app.close());
    const store = sqlite(app);
    cleanups.push(() => store.close());
    await store.migrate();
    await store.transaction(async (connection) => {
      expect(connection).toBeInstanceOf(Database);
      expect(connection).not.toBe(app);
      expect(store.workerStore().attemptScope(connection).tx).toBe(connection);
    });
    expect(store.workerStore()).toBe(store.workerStore());
    expect(await store.dashboardQueries().dashboardAttemptCount({ timeField: 'created' })).toBe(0);
    expect(
      await store.relayStore().attemptClaimForHandoff({ limit: 1, owner: OWNER, leaseMs: 1000, methods: METHODS }),
    ).toEqual([]);
  });

  it('postgres(): operations a dialect lacks stay absent (enqueue picks its path by them)', async () => {
    // No query is sent: the pool never connects.
    const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
    cleanups.push(() => pool.end());
    const store = postgres(pool);
    expect(store.attemptInsertSync).toBeUndefined();
    expect(typeof store.attemptInsertMany).toBe('function');
    expect(store.dialect).toBe('postgres');
  });
});
