import { UnknownMethodError, UnknownTargetError } from './errors.js';
import type { PerformContext } from './types.js';

/** A registry of targets: name → object whose methods may be called later. */
export type TargetRegistry = Readonly<Record<string, object>>;

type AnyMethod = (args: never, ctx: never) => unknown;

/** Names of the methods of `T` that take (args, ctx?). */
export type MethodName<T> = {
  [K in keyof T]-?: T[K] extends AnyMethod ? K : never;
}[keyof T] &
  string;

/** The first parameter of `T[M]`: what `enqueue` must be given for that method. */
export type MethodArgs<T, M extends keyof T> = T[M] extends (args: infer A, ...rest: never[]) => unknown ? A : never;

/** The signature a target method should have. */
export type TargetMethod<Args, Tx = unknown> = (args: Args, ctx: PerformContext<Tx>) => unknown;

/**
 * Looks up `registry[target][method]` without ever reaching inherited members
 * (`constructor`, `__proto__`, `toString`…): only registered names can be called.
 */
export function resolveMethod(
  registry: TargetRegistry,
  target: string,
  method: string,
): (args: unknown, ctx: PerformContext) => unknown {
  if (typeof target !== 'string' || !Object.hasOwn(registry, target)) throw new UnknownTargetError(String(target));
  const object = registry[target] as Record<string, unknown>;
  if (typeof method !== 'string' || method === 'constructor' || Object.hasOwn(Object.prototype, method)) {
    throw new UnknownMethodError(target, String(method));
  }
  const fn = object[method];
  if (typeof fn !== 'function') throw new UnknownMethodError(target, method);
  return (args, ctx) => (fn as (a: unknown, c: PerformContext) => unknown).call(object, args, ctx);
}

/** One callable (target, method) pair of a registry. */
export interface RegisteredMethod {
  readonly target: string;
  readonly method: string;
}

/**
 * Every (target, method) that `resolveMethod` accepts: own and inherited function members short of
 * `Object.prototype`. A worker claims only attempts naming one of these.
 */
export function registeredMethods(registry: TargetRegistry): RegisteredMethod[] {
  const pairs: RegisteredMethod[] = [];
  for (const target of Object.keys(registry)) {
    const object = registry[target] as Record<string, unknown>;
    const names = new Set<string>();
    for (let level: object | null = object; level && level !== Object.prototype; level = Object.getPrototypeOf(level)) {
      for (const name of Object.getOwnPropertyNames(level)) names.add(name);
    }
    for (const method of names) {
      if (method === 'constructor' || Object.hasOwn(Object.prototype, method)) continue;
      let value: unknown;
      try {
        value = object[method];
      } catch {
        continue;
      }
      if (typeof value === 'function') pairs.push({ target, method });
    }
  }
  return pairs;
}
