import { describe, expect, it } from 'vitest';
import { TX_OPERATIONS, WORKER_TX_OPERATIONS } from '../../src/adapters/adapted-store.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { PostgresWorkerStore } from '../../src/store/postgres/postgres-worker-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { SqliteWorkerStore } from '../../src/store/sqlite/sqlite-worker-store.js';

// Private helpers a store calls on itself (never through the adapter).
const PRIVATE_HELPERS = new Set(['insertSync']);

/** Methods whose first parameter is named `tx`, read from the compiled source. */
function methodsTakingTx(prototype: object): string[] {
  return Object.getOwnPropertyNames(prototype).filter((name) => {
    const value = Object.getOwnPropertyDescriptor(prototype, name)?.value;
    if (typeof value !== 'function' || name === 'constructor' || PRIVATE_HELPERS.has(name)) return false;
    const firstParameter = /^[^(]*\(\s*([A-Za-z_$][\w$]*)/.exec(String(value))?.[1];
    return firstParameter === 'tx';
  });
}

describe('adaptStore maps every operation that takes a transaction', () => {
  it('Store operations', () => {
    const taking = [...methodsTakingTx(PostgresStore.prototype), ...methodsTakingTx(SqliteStore.prototype)];
    expect(taking.length).toBeGreaterThan(4);
    for (const name of taking) expect(TX_OPERATIONS, name).toContain(name);
  });

  it('WorkerStore operations', () => {
    const taking = [...methodsTakingTx(PostgresWorkerStore.prototype), ...methodsTakingTx(SqliteWorkerStore.prototype)];
    expect(taking.length).toBeGreaterThan(3);
    for (const name of taking) expect(WORKER_TX_OPERATIONS, name).toContain(name);
  });
});
