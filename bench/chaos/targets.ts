/**
 * The chaos run's targets, shared by the worker processes (which run them) and the driver (which
 * enqueues them). Every call first appends a line to its process's call log (a file: it survives
 * SIGKILL and a dead database), so the driver can count real calls. Targets that write an effect do
 * it through `ctx.tx` in the transactional mode, and on a connection of their own in the leased mode
 * (where `ctx.tx` does not exist) — the `via` column tells which.
 */
import fs from 'node:fs';
import type pg from 'pg';
import type { PerformContext, WorkerMode } from '../../src/index.js';

export interface Runtime {
  readonly mode: WorkerMode;
  /** The worker's own pool (for the leased mode's effects and the poison that swallows a DB error). */
  readonly side: pg.Pool | null;
  readonly schema: string;
  /** Appends one line to this process's call log. */
  readonly log: (line: string) => void;
}

/** Healthy methods: every attempt of these must end `succeeded` (I3). */
export const HEALTHY = new Set(['Ledger.post', 'Ledger.postSlow', 'Mailer.send']);
/** Methods whose runs write an effect row (I4). */
export const WRITERS = new Set(['Ledger.post', 'Ledger.postSlow', 'Poison.swallowDbError', 'Poison.writeAfterTimeout']);
export const MAX_ATTEMPTS = 8;
export const POISON_MAX_ATTEMPTS = 3;
/** A run longer than this is cut off (the workers' `timeoutMs`). */
export const TIMEOUT_MS = 1500;

export type OddKind = 'undefined' | 'string' | 'number' | 'nul' | 'null-proto' | 'huge' | 'throwing-getter';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function oddValue(kind: OddKind): unknown {
  switch (kind) {
    case 'undefined':
      return undefined;
    case 'string':
      return 'a thrown string';
    case 'number':
      return 42;
    case 'nul':
      return new Error('nul \u0000 byte and a lone surrogate \ud800');
    case 'null-proto':
      return Object.create(null);
    case 'huge':
      return new Error('x'.repeat(2_000_000));
    case 'throwing-getter': {
      const error = new Error('getter');
      Object.defineProperty(error, 'stack', {
        get() {
          throw new Error('stack getter throws');
        },
      });
      Object.defineProperty(error, 'message', {
        get() {
          throw new Error('message getter throws');
        },
      });
      return error;
    }
  }
}

export function chaosTargets(runtime: Runtime) {
  const { mode, schema } = runtime;
  const called = (ctx: PerformContext<unknown>, name: string, key: string) =>
    runtime.log(`${ctx.attempt.id}\t${ctx.attempt.numAttempts}\t${mode}\t${name}\t${key}`);
  const insert = `INSERT INTO ${schema}.chaos_effects (attempt_id, num_attempts, via, key) VALUES ($1, $2, $3, $4)`;
  const effect = async (ctx: PerformContext<unknown>, key: string) => {
    const values = [ctx.attempt.id, ctx.attempt.numAttempts, mode === 'transactional' ? 'tx' : 'direct', key];
    if (mode === 'transactional') await (ctx.tx as pg.PoolClient).query(insert, values);
    else await (runtime.side as pg.Pool).query(insert, values);
  };

  const Ledger = {
    /** A database write that must commit with `succeeded`, exactly once. */
    async post(args: { key: string }, ctx: PerformContext<unknown>) {
      called(ctx, 'Ledger.post', args.key);
      await effect(ctx, args.key);
    },
    /** The same, slow (but under the timeout). */
    async postSlow(args: { key: string; ms: number }, ctx: PerformContext<unknown>) {
      called(ctx, 'Ledger.postSlow', args.key);
      await sleep(args.ms);
      await effect(ctx, args.key);
    },
  };
  const Mailer = {
    /** An outside call: nothing in the database, only the call log. */
    async send(args: { key: string; ms: number }, ctx: PerformContext<unknown>) {
      called(ctx, 'Mailer.send', args.key);
      await sleep(args.ms);
    },
  };
  const Poison = {
    /** Throws a value that is hard to turn into text or to store. */
    async throwOdd(args: { key: string; kind: OddKind }, ctx: PerformContext<unknown>) {
      called(ctx, 'Poison.throwOdd', args.key);
      throw oddValue(args.kind);
    },
    /** Writes, then swallows a database error ("ignore the unique violation"), then returns. */
    async swallowDbError(args: { key: string }, ctx: PerformContext<unknown>) {
      called(ctx, 'Poison.swallowDbError', args.key);
      await effect(ctx, args.key);
      const db = mode === 'transactional' ? (ctx.tx as pg.PoolClient) : (runtime.side as pg.Pool);
      try {
        await db.query('SELECT 1 / 0');
      } catch {
        // swallowed, as application code often does
      }
      try {
        await db.query('SELECT 1');
      } catch {
        // the transaction is aborted now: swallowed too
      }
    },
    /** Never settles and ignores ctx.signal: only the timeout ends it. */
    async hang(args: { key: string }, ctx: PerformContext<unknown>) {
      called(ctx, 'Poison.hang', args.key);
      await new Promise(() => {});
    },
    /** Outlives its timeout, then writes through ctx.tx anyway (the write must never land). */
    async writeAfterTimeout(args: { key: string }, ctx: PerformContext<unknown>) {
      called(ctx, 'Poison.writeAfterTimeout', args.key);
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
      await sleep(100);
      if (mode === 'transactional') await effect(ctx, args.key);
    },
  };
  return { Ledger, Mailer, Poison };
}

/** Appends to a file synchronously: the line is in the kernel before the target goes on. */
export function fileLog(file: string): (line: string) => void {
  const fd = fs.openSync(file, 'a');
  return (line) => fs.writeSync(fd, `${line}\n`);
}
