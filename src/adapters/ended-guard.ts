import { InvalidStateError } from '../core/errors.js';

/**
 * Wraps a client's transaction handle so it refuses use once the transaction has ended. Some
 * clients (postgres.js, Drizzle) would otherwise run a late query — from a target that outlived its
 * timeout — on a connection already back in the pool, outside the rolled-back transaction.
 */
export function guardUntilEnded<T extends object>(handle: T): { readonly handle: T; end(): void } {
  let ended = false;
  const refuse = () => {
    throw new InvalidStateError(
      'async-task: this transaction has ended (the attempt timed out or was stopped); stop using ctx.tx, honour ctx.signal',
    );
  };
  const guarded = new Proxy(handle, {
    get(target, key) {
      if (ended) refuse();
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    apply(target, thisArg, args) {
      if (ended) refuse();
      return Reflect.apply(target as (...a: unknown[]) => unknown, thisArg, args);
    },
  });
  return {
    handle: guarded,
    end: () => {
      ended = true;
    },
  };
}

/** Runs `fn` with a guarded handle that is ended as soon as `fn` settles. */
export async function withGuard<Tx extends object, T>(tx: Tx, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const guard = guardUntilEnded(tx);
  try {
    return await fn(guard.handle);
  } finally {
    guard.end();
  }
}
