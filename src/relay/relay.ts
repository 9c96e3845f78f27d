import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { InvalidOptionsError, InvalidStateError } from '../core/errors.js';
import type { PerformDeps } from '../core/perform.js';
import { type RegisteredMethod, registeredMethods } from '../core/registry.js';
import type { Logger } from '../core/types.js';
import type { RelayStore } from '../store/relay-store.js';
import type { WakeSubscription } from '../store/worker-store.js';
import { messageFor, type RelayMessage } from './message.js';
import type { RelayPublisher } from './publisher.js';
import { loadRelayTelemetry, noopRelayTelemetry, type RelayTelemetry } from './telemetry.js';

export interface RelayOptions {
  /** The queue to hand attempts off to: `bullmqPublisher(…)`, `rabbitmqPublisher(…)`, `natsPublisher(…)`. */
  to: RelayPublisher;
  /** At most this many attempts leased and published per round. Default: 100. */
  batchSize?: number;
  /**
   * A handed-off attempt is left to the queue's consumers this long: no relay or worker claims it again
   * until then. If it is still pending when the lease lapses (a lost message, a dead consumer, a long
   * backlog), it is handed off again. Make it longer than a message usually waits in the queue plus a
   * run. Default: 60,000 ms.
   */
  leaseMs?: number;
  /** Look for due attempts this often when idle; the fallback for wake-ups. Default: 1,000 ms. */
  pollIntervalMs?: number;
  /** Wake on new attempts (LISTEN/NOTIFY on PostgreSQL, in-process on SQLite). Default: true. */
  notify?: boolean;
  /**
   * A publish that has not resolved after this long counts as failed: its attempts are given back and
   * handed off again (a broker that is down can make a client wait forever). Default: 30,000 ms.
   */
  publishTimeoutMs?: number;
  /** Default: the logger given to `createAsyncTask`. */
  logger?: Logger;
  /** Written to `lease_owner` of the attempts it handed off. Default: `relay:hostname:pid:random`. */
  relayId?: string;
}

/** What a relay reports; listen with `relay.on(name, listener)`. */
export interface RelayEvents {
  start: { relayId: string };
  stop: { relayId: string };
  /** Attempts were handed off: leased and accepted by the queue. */
  publish: { count: number; attemptIds: readonly string[]; messages: readonly RelayMessage[] };
  /** A database or publish error; the relay keeps going (backing off). A failed publish is given back first. */
  error: { error: unknown; during: string };
}
export type RelayEventName = keyof RelayEvents;
export type RelayListener<E extends RelayEventName> = (payload: RelayEvents[E]) => void;

export type RelayState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/** Hands due attempts off to a distributed queue, one message each. Any number may run against one database. */
export interface Relay {
  /** Written to `lease_owner` of the attempts it handed off. */
  readonly id: string;
  readonly state: RelayState;
  /** Resolves once the relay listens and hands off. */
  start(): Promise<void>;
  /**
   * Stops handing off and waits for a round in flight (up to `publishTimeoutMs`). Attempts leased in a round
   * that did not finish go out again once their lease lapses. Safe to call twice.
   */
  stop(): Promise<void>;
  on<E extends RelayEventName>(event: E, listener: RelayListener<E>): () => void;
}

interface ResolvedRelayOptions {
  readonly to: RelayPublisher;
  readonly batchSize: number;
  readonly leaseMs: number;
  readonly pollIntervalMs: number;
  readonly publishTimeoutMs: number;
  readonly notify: boolean;
  readonly logger: Logger | undefined;
  readonly relayId: string | undefined;
}

function positiveInteger(name: string, value: unknown, fallback: number, max = 2 ** 31 - 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidOptionsError(`relay: ${name} must be an integer from 1 to ${max}`);
  }
  return value;
}

export function resolveRelayOptions(options: RelayOptions): ResolvedRelayOptions {
  if (!options || typeof options !== 'object') throw new InvalidOptionsError('relay: options must be an object');
  const { to } = options;
  if (!to || typeof to !== 'object' || typeof to.publish !== 'function') {
    throw new InvalidOptionsError(
      'relay: `to` must be a publisher, e.g. bullmqPublisher({ queue }) from async-task-ts/bullmq',
    );
  }
  if (options.notify !== undefined && typeof options.notify !== 'boolean') {
    throw new InvalidOptionsError('relay: notify must be a boolean');
  }
  if (options.relayId !== undefined && (typeof options.relayId !== 'string' || options.relayId.length === 0)) {
    throw new InvalidOptionsError('relay: relayId must be a non-empty string');
  }
  const leaseMs = positiveInteger('leaseMs', options.leaseMs, 60_000);
  if (leaseMs < 100) throw new InvalidOptionsError('relay: leaseMs must be at least 100');
  return {
    to,
    batchSize: positiveInteger('batchSize', options.batchSize, 100, 10_000),
    leaseMs,
    pollIntervalMs: positiveInteger('pollIntervalMs', options.pollIntervalMs, 1000),
    publishTimeoutMs: positiveInteger('publishTimeoutMs', options.publishTimeoutMs, 30_000),
    notify: options.notify ?? true,
    logger: options.logger,
    relayId: options.relayId,
  };
}

/** After a wake that found nothing, look again after these pauses (the wake may precede the commit). */
const RECHECK_MS = [1, 2, 5, 10, 20, 50];
const MAX_BACKOFF_MS = 10_000;

export function createRelay<Tx>(deps: PerformDeps<Tx>, options: RelayOptions): Relay {
  return new AttemptRelay(deps, resolveRelayOptions(options));
}

class AttemptRelay<Tx> implements Relay {
  readonly id: string;
  private currentState: RelayState = 'new';
  private readonly logger: Logger;
  private readonly listeners = new Map<RelayEventName, Set<(payload: never) => void>>();
  private store!: RelayStore;
  /** The (target, method) pairs of this application: only their attempts are handed off. */
  private methods: readonly RegisteredMethod[] = [];
  private telemetry: RelayTelemetry = noopRelayTelemetry;
  private subscription: WakeSubscription | null = null;
  private woken = false;
  private wakeLoop: (() => void) | null = null;
  private loopDone: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly deps: PerformDeps<Tx>,
    private readonly options: ResolvedRelayOptions,
  ) {
    this.id = options.relayId ?? `relay:${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.logger = options.logger ?? deps.logger;
    this.on('error', ({ error, during }) =>
      this.logger.error(`relay error while ${during}`, { relayId: this.id, error: String(error) }),
    );
  }

  get state(): RelayState {
    return this.currentState;
  }

  on<E extends RelayEventName>(event: E, listener: RelayListener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  private emit<E extends RelayEventName>(event: E, payload: RelayEvents[E]): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        (listener as RelayListener<E>)(payload);
      } catch (error) {
        this.logger.error('relay event listener threw', { event, error: String(error) });
      }
    }
  }

  async start(): Promise<void> {
    if (this.currentState !== 'new') throw new InvalidStateError(`relay is ${this.currentState}; start it only once`);
    const store = this.deps.store.relayStore();
    this.currentState = 'starting';
    this.store = store;
    this.methods = registeredMethods(this.deps.targets);
    this.telemetry = await loadRelayTelemetry();
    if (this.options.notify) await this.subscribe();
    this.currentState = 'running';
    this.loopDone = this.loop();
    this.logger.info('relay started', { relayId: this.id, to: this.options.to.name });
    this.emit('start', { relayId: this.id });
  }

  private async subscribe(): Promise<void> {
    try {
      this.subscription = await this.deps.store.workerStore().subscribeWake(
        () => this.wake(),
        (error) => this.emit('error', { error, during: 'listening for new attempts' }),
      );
    } catch (error) {
      // Polling still finds everything.
      this.emit('error', { error, during: 'subscribing to wake-ups' });
    }
  }

  private wake(): void {
    this.woken = true;
    this.wakeLoop?.();
  }

  /** Waits `ms`, or less if woken or stopping. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeLoop = () => {
        this.wakeLoop = null;
        done();
      };
    });
  }

  private async loop(): Promise<void> {
    let failures = 0;
    let recheck = RECHECK_MS.length;
    while (this.currentState === 'running') {
      this.woken = false;
      let handedOff: number;
      try {
        handedOff = await this.round();
        failures = 0;
      } catch (error) {
        failures++;
        this.emit('error', { error, during: 'handing off attempts' });
        await this.pause(Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(failures, 10)));
        continue;
      }
      if (this.currentState !== 'running') break;
      if (handedOff >= this.options.batchSize) continue;
      if (this.woken) {
        recheck = 0;
        continue;
      }
      if (handedOff === 0 && recheck < RECHECK_MS.length) {
        await this.pause(RECHECK_MS[recheck++] as number);
        continue;
      }
      await this.pause(this.options.pollIntervalMs);
    }
  }

  /** One lease-and-publish; returns how many were handed off. */
  private async round(): Promise<number> {
    const claims = await this.store.attemptClaimForHandoff({
      limit: this.options.batchSize,
      owner: this.id,
      leaseMs: this.options.leaseMs,
      methods: this.methods,
    });
    if (claims.length === 0) return 0;
    const messages = claims.map(messageFor);
    const trace = this.telemetry.startPublish(this.options.to.name, messages.length);
    try {
      await this.withTimeout(this.options.to.publish(messages));
    } catch (error) {
      trace.end(error);
      // Give them back at once rather than after the lease; any the broker did accept keep their dedupe id.
      await this.store
        .attemptReleaseHandoff(this.id, claims)
        .catch((releaseError) => this.emit('error', { error: releaseError, during: 'giving back a failed hand-off' }));
      throw error;
    }
    trace.end();
    this.logger.debug('relay handed off attempts', { relayId: this.id, count: messages.length });
    this.emit('publish', { count: messages.length, attemptIds: claims.map((claim) => claim.id), messages });
    return claims.length;
  }

  /** Rejects after `publishTimeoutMs` if `promise` has not settled by then. */
  private withTimeout<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new Error(`publish to ${this.options.to.name} timed out after ${this.options.publishTimeoutMs} ms`)),
        this.options.publishTimeoutMs,
      );
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  stop(): Promise<void> {
    if (this.currentState === 'new') {
      this.currentState = 'stopped';
      return Promise.resolve();
    }
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.currentState = 'stopping';
    this.wakeLoop?.();
    await this.loopDone;
    await this.subscription?.close().catch(() => {});
    this.subscription = null;
    this.currentState = 'stopped';
    this.logger.info('relay stopped', { relayId: this.id });
    this.emit('stop', { relayId: this.id });
  }
}
