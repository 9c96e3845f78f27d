import type { Attempt } from '../../../src/core/types.js';
import type { DashboardStore } from '../../../src/store/dashboard-store.js';
import type { RelayStore } from '../../../src/store/relay-store.js';
import type { NewAttempt, Store } from '../../../src/store/store.js';
import type { WorkerStore } from '../../../src/store/worker-store.js';

/**
 * One "process" of an application on the test's database: its own connection for its transactions, and a
 * store (not yet migrated) on connections of its own. Two processes of one target share the database.
 */
export interface StoreProcess<Tx = any, AppTx = any> {
  readonly store: Store<Tx, AppTx>;
  /**
   * Runs `fn` in a transaction of the application's client (what `enqueue` is given): commits when it resolves,
   * rolls back when it throws. On SQLite, transactions of the test's processes take turns (one writer).
   */
  inTransaction<T>(fn: (tx: AppTx) => Promise<T>): Promise<T>;
}

/** A fresh, empty database namespace (a PostgreSQL schema, a SQLite file) for one test. */
export interface StoreTarget {
  process(): Promise<StoreProcess>;
  /**
   * One transaction writes at a time on the whole database (SQLite): a case that would overlap an application's
   * write with an open store transaction runs the two one after the other (they cannot interleave there).
   */
  readonly singleWriter: boolean;
  /** Closes every connection the target opened. */
  close(): Promise<void>;
}

export type StoreFactory = () => Promise<StoreTarget>;

/** A process with its store's capabilities looked up once (the only place the suite reaches for them). */
export interface Proc extends StoreProcess {
  readonly worker: WorkerStore<any>;
  readonly relay: RelayStore;
  readonly dashboard: DashboardStore;
  /** Inserts one attempt in its own application transaction. */
  insert(attempt?: Partial<NewAttempt>): Promise<Attempt>;
}

export function newAttempt(overrides: Partial<NewAttempt> = {}): NewAttempt {
  return {
    target: 'Orders',
    methodName: 'fulfill',
    methodArgs: '{"orderId":1}',
    encryptor: 'null',
    idempotenceToken: null,
    scheduledAt: null,
    ...overrides,
  };
}

export function withCapabilities(process: StoreProcess): Proc {
  const { store } = process;
  const worker = store.workerStore();
  const relay = store.relayStore();
  const dashboard = store.dashboardQueries();
  return {
    ...process,
    worker,
    relay,
    dashboard,
    insert: async (attempt) =>
      (await process.inTransaction((tx) => store.attemptInsert(tx, newAttempt(attempt)))).attempt,
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Serializes async work (the test's SQLite transactions: one writer per file). */
export class TurnTaking {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** What a case gets: a fresh migrated database, and more processes on it on demand. */
export interface StoreEnv {
  /** The first process; its store is migrated. */
  readonly a: Proc;
  /** As `StoreTarget.singleWriter`. */
  readonly singleWriter: boolean;
  /** Another process on the same database (new connections, a new store). */
  another(): Promise<Proc>;
  /** A process on a fresh database whose store is not migrated. */
  unmigrated(): Promise<Proc>;
}

export type Setup = () => Promise<StoreEnv>;

/** `it`, or `it.fails` for a case the target lists as a known failure. */
export type CaseTest = (title: string, fn: () => Promise<void>) => void;

/** One group of cases. */
export type Cases = (setup: Setup, test: CaseTest) => void;
