import type { AsyncTask, PerformContext } from '../../../src/index.js';
import type { Dialect, TestDb } from '../../support/dialects.js';
import type { Probe } from './invariants.js';

const HUGE = 'x'.repeat(10 * 1024 * 1024);

const thrower = (what: string) => () => {
  throw new Error(`${what} throws`);
};

/** Every kind of value a target can throw that once broke the failure write (issue 8, fault 2). */
export const THROWN_VALUES: Readonly<Record<string, () => unknown>> = {
  undefined: () => undefined,
  null: () => null,
  'a number': () => 42,
  'a symbol': () => Symbol('poison'),
  'a string with NUL': () => 'before\u0000after',
  'a string with a lone surrogate': () => 'lone \uD800 surrogate \uDFFF',
  'a 10 MB string': () => HUGE,
  'an Error with a 10 MB message': () => new Error(HUGE),
  'an Error whose message contains NUL': () => new Error('bad\u0000message'),
  'an Error whose stack getter throws': () => {
    const error = new Error('stack getter');
    Object.defineProperty(error, 'stack', { get: thrower('stack') });
    return error;
  },
  'Object.create(null)': () => Object.create(null),
  'an object whose getters throw': () =>
    Object.defineProperties(
      {},
      {
        message: { get: thrower('message'), enumerable: true },
        name: { get: thrower('name'), enumerable: true },
        stack: { get: thrower('stack'), enumerable: true },
        constructor: { get: thrower('constructor') },
      },
    ),
  'an object whose toString throws': () => ({ toString: thrower('toString'), valueOf: thrower('valueOf') }),
  'an object whose Symbol.toPrimitive throws': () => ({ [Symbol.toPrimitive]: thrower('toPrimitive') }),
  'a Proxy that throws on every access': () =>
    new Proxy(
      {},
      {
        get: thrower('get'),
        has: thrower('has'),
        ownKeys: thrower('ownKeys'),
        getPrototypeOf: thrower('getPrototypeOf'),
        getOwnPropertyDescriptor: thrower('getOwnPropertyDescriptor'),
      },
    ),
};

/** Raw SQL through a `ctx.tx` of either dialect (a pg client, or a better-sqlite3 database). */
export async function execOnTx(dialect: Dialect<any>['name'], tx: any, sql: string): Promise<void> {
  if (dialect === 'postgres') await tx.query(sql);
  else tx.prepare(sql).run();
}

export interface CatalogueTargetsOptions {
  readonly db: TestDb<any>;
  readonly dialect: Dialect<any>['name'];
  readonly probe: Probe;
  /** Whether targets write their effect (key: the tag) through ctx.tx. */
  readonly txEffects: boolean;
  /** The AsyncTask, once made: for targets that enqueue. */
  readonly asyncTask: () => AsyncTask<any, any, any>;
}

const never = () => new Promise<never>(() => {});

/** The catalogue's targets: every call counted by its `tag` and writing its effect through ctx.tx. */
export function catalogueTargets(options: CatalogueTargetsOptions) {
  const { db, dialect, probe, txEffects } = options;
  const effect = async (ctx: PerformContext<any>, tag: string) => {
    if (txEffects) await db.writeEffect(ctx.tx, tag);
  };
  const Healthy = {
    async ok(args: { tag: string }, ctx: PerformContext<any>) {
      probe.called(args.tag);
      await effect(ctx, args.tag);
    },
    async slow(args: { tag: string; ms: number }, ctx: PerformContext<any>) {
      await probe.overlap(async () => {
        probe.called(args.tag);
        await new Promise((resolve) => setTimeout(resolve, args.ms));
        await effect(ctx, args.tag);
      });
    },
  };
  const Poison = {
    /** Writes its effect, then throws the value named by `kind`. */
    async throwValue(args: { tag: string; kind: string }, ctx: PerformContext<any>) {
      probe.called(args.tag);
      await effect(ctx, args.tag);
      throw (THROWN_VALUES[args.kind] as () => unknown)();
    },
    /** The "ignore the unique violation" pattern: writes, hits a database error it swallows, writes more, returns. */
    async swallowDbError(args: { tag: string }, ctx: PerformContext<any>) {
      probe.called(args.tag);
      await effect(ctx, args.tag);
      try {
        await execOnTx(dialect, ctx.tx, `INSERT INTO ${db.qualify('uniq')} (k) VALUES ('dup')`);
      } catch {}
      try {
        await db.writeEffect(ctx.tx, `${args.tag}-after`);
      } catch {}
    },
    /** Never settles; ignores its signal. */
    async hang(args: { tag: string }) {
      probe.called(args.tag);
      await never();
    },
    /** Never settles; writes through ctx.tx a moment after it is cut off. */
    async writeAfterTimeout(args: { tag: string }, ctx: PerformContext<any>) {
      probe.called(args.tag);
      ctx.signal.addEventListener('abort', () => {
        setTimeout(() => {
          lateWrites.push(
            db.writeEffect(ctx.tx, args.tag).then(
              () => 'written',
              () => 'refused',
            ),
          );
        }, 20);
      });
      await never();
    },
    /** Enqueues a healthy follow-up through ctx.tx, then succeeds or throws. */
    async enqueueChild(args: { tag: string; thenThrow: boolean }, ctx: PerformContext<any>) {
      probe.called(args.tag);
      await effect(ctx, args.tag);
      await options.asyncTask().enqueue(ctx.tx, 'Healthy', 'ok', { tag: `${args.tag}-child` });
      if (args.thenThrow) throw new Error('after enqueue');
    },
  };
  const lateWrites: Promise<string>[] = [];
  return { targets: { Healthy, Poison }, lateWrites };
}

export type CatalogueTargets = ReturnType<typeof catalogueTargets>['targets'];
