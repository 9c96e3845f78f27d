import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { errorText } from '../core/error-text.js';
import { InvalidStateError } from '../core/errors.js';
import type { PerformDeps } from '../core/perform-deps.js';
import { type RegisteredMethod, registeredMethods } from '../core/registry.js';
import type { Attempt } from '../core/types.js';
import { type RecurringScheduler, startRecurringScheduler } from '../recurring/scheduler.js';
import type { WakeSubscription, WorkerStore } from '../store/worker-store.js';
import type { AttemptAbort } from './abort.js';
import { WorkerStoppedError } from './errors.js';
import { WorkerEmitter, type WorkerEventName, type WorkerListener } from './events.js';
import { LeasedRunner } from './leased-runner.js';
import { pruneCompleted } from './retention.js';
import type { RunContext } from './run-context.js';
import { loadTelemetry, noopTelemetry, type Telemetry } from './telemetry.js';
import { TransactionalRunner } from './transactional-runner.js';
import { type ResolvedWorkerOptions, resolveWorkerOptions, type WorkerOptions } from './worker-options.js';

export type WorkerState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface StopOptions {
  /** Running attempts get this long to finish; then they are aborted through `ctx.signal`. Default: 30,000 ms. */
  timeoutMs?: number;
}

/** A dispatcher and its runners in this process. Any number of them may run against one database. */
export interface Worker {
  /** Written to `lease_owner` of the attempts this worker holds. */
  readonly id: string;
  readonly state: WorkerState;
  /** Resolves once the worker listens and claims. */
  start(): Promise<void>;
  /**
   * Stops claiming, gives back what it claimed but has not started, lets running attempts finish (aborting
   * them through `ctx.signal` after `timeoutMs`), writes their outcomes, then resolves. Safe to call twice.
   */
  stop(options?: StopOptions): Promise<void>;
  /** Subscribes to a lifecycle event; returns the unsubscribe function. */
  on<E extends WorkerEventName>(event: E, listener: WorkerListener<E>): () => void;
}

/**
 * After a wake that found nothing, look again after these pauses: the wake is sent as soon as the row is
 * inserted, usually a commit (a WAL flush, 1–5 ms) before it becomes visible. An empty claim is one probe
 * of an index of due rows, so looking often for a moment is cheap; then polling takes over.
 */
const RECHECK_MS = [1, 1, 1, 1, 2, 2, 3, 5, 8, 13, 20, 30];
/** Claims and transactions are sized so one slot's share takes about this long. */
const SLICE_MS = 20;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createWorker<Tx>(deps: PerformDeps<Tx>, options?: WorkerOptions): Worker {
  return new AttemptWorker(deps, resolveWorkerOptions(options));
}

class AttemptWorker<Tx> implements Worker {
  readonly id: string;
  private currentState: WorkerState = 'new';
  private readonly logger;
  private readonly events;
  private store!: WorkerStore<Tx>;
  private telemetry: Telemetry = noopTelemetry;
  /** Claimed and not started, oldest due first. */
  private readonly queue: Attempt[] = [];
  /** Claims whose lease the heartbeat renews: queued, or (leased mode) running or awaiting their outcome write. */
  private readonly renewing = new Set<string>();
  /** Attempts in runners now (the transactional mode counts a group's attempts until the group ends). */
  private inRunners = 0;
  private slotsBusy = 0;
  private readonly aborts = new Set<AttemptAbort>();
  /** Starts at a slot's whole share: until targets have shown they are fast, each runs on its own. */
  private averageMs = SLICE_MS;
  private woken = false;
  private wakeLoop: (() => void) | null = null;
  private loopDone: Promise<void> = Promise.resolve();
  private idleWaiters: (() => void)[] = [];
  private subscription: WakeSubscription | null = null;
  /** A LISTEN connection being made (at start, or again after it broke). */
  private subscribing: Promise<void> | null = null;
  private resubscribeTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private pruning: Promise<unknown> = Promise.resolve();
  private stopping: Promise<void> | null = null;
  private leased: LeasedRunner<Tx> | null = null;
  /** The (target, method) pairs this worker can call: it claims attempts naming one of these only. */
  private methods: readonly RegisteredMethod[] = [];
  private transactional: TransactionalRunner<Tx> | null = null;
  private recurring: RecurringScheduler<Tx> | null = null;

  constructor(
    private readonly deps: PerformDeps<Tx>,
    private readonly options: ResolvedWorkerOptions,
  ) {
    this.id = options.workerId ?? `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.logger = options.logger ?? deps.logger;
    this.events = new WorkerEmitter(this.logger);
    this.events.on('error', ({ error, during }) =>
      this.logger.error(`worker error while ${during}`, { workerId: this.id, error: errorText(error) }),
    );
  }

  get state(): WorkerState {
    return this.currentState;
  }

  on<E extends WorkerEventName>(event: E, listener: WorkerListener<E>): () => void {
    return this.events.on(event, listener);
  }

  async start(): Promise<void> {
    if (this.currentState !== 'new') throw new InvalidStateError(`worker is ${this.currentState}; start it only once`);
    const store = this.deps.store.workerStore();
    // Fail fast, with the fix in the message (unreachable, or not migrated), instead of logging errors forever.
    await this.deps.checkReady?.();
    this.currentState = 'starting';
    this.store = store;
    this.methods = registeredMethods(this.deps.targets);
    this.telemetry = await loadTelemetry();
    const context = this.runContext();
    if (this.options.mode === 'leased') this.leased = new LeasedRunner(context);
    else this.transactional = new TransactionalRunner(context);
    if (this.options.notify) await this.subscribe();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.options.heartbeatMs);
    const { retention } = this.options;
    if (retention) {
      const prune = () => {
        this.pruning = pruneCompleted(store, retention, this.events, () => this.currentState === 'running').catch(
          (error) => this.events.emit('error', { error, during: 'pruning completed attempts' }),
        );
      };
      this.retentionTimer = setInterval(prune, retention.intervalMs);
      setImmediate(prune);
    }
    this.currentState = 'running';
    this.loopDone = this.claimLoop();
    this.recurring = startRecurringScheduler(this.deps, {
      logger: this.logger,
      onError: (error, during) => this.events.emit('error', { error, during }),
    });
    this.logger.info('worker started', { workerId: this.id, mode: this.options.mode });
    this.events.emit('start', { workerId: this.id });
  }

  stop(options: StopOptions = {}): Promise<void> {
    this.stopping ??= this.shutdown(options.timeoutMs ?? 30_000);
    return this.stopping;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    if (this.currentState === 'new') {
      this.currentState = 'stopped';
      return;
    }
    while (this.currentState === 'starting') await sleep(5);
    this.currentState = 'stopping';
    await this.recurring?.stop();
    this.kick();
    await this.loopDone;
    clearInterval(this.retentionTimer);
    clearTimeout(this.resubscribeTimer);
    // Claimed, never started: back to pending, their count given back.
    const unstarted = this.queue.splice(0);
    if (unstarted.length > 0) {
      try {
        await this.store.attemptReleaseClaims(
          this.id,
          unstarted.map((attempt) => ({ id: attempt.id, numAttempts: attempt.numAttempts })),
          { uncount: true },
        );
      } catch (error) {
        this.events.emit('error', { error, during: 'releasing unstarted attempts' });
      }
      for (const attempt of unstarted) this.renewing.delete(attempt.id);
    }
    const abortTimer = setTimeout(() => {
      for (const abort of this.aborts) abort.abort(new WorkerStoppedError());
    }, timeoutMs);
    await this.whenIdle();
    clearTimeout(abortTimer);
    await this.leased?.drain();
    clearInterval(this.heartbeatTimer);
    await this.pruning;
    await this.subscribing;
    await this.subscription?.close().catch(() => {});
    this.subscription = null;
    this.currentState = 'stopped';
    this.logger.info('worker stopped', { workerId: this.id });
    this.events.emit('stop', { workerId: this.id });
  }

  private runContext(): RunContext<Tx> {
    return {
      deps: this.deps,
      store: this.store,
      options: this.options,
      owner: this.id,
      logger: this.logger,
      events: this.events,
      telemetry: this.telemetry,
      stopping: () => this.currentState !== 'running',
      track: (abort) => {
        this.aborts.add(abort);
        return () => this.aborts.delete(abort);
      },
      observeDuration: (ms) => {
        this.averageMs = this.averageMs * 0.8 + ms * 0.2;
      },
      forget: (id) => this.renewing.delete(id),
      requeue: (attempts) => {
        for (const attempt of attempts) this.renewing.add(attempt.id);
        this.queue.unshift(...attempts);
      },
      capacityFreed: () => this.kick(),
    };
  }

  private subscribe(): Promise<void> {
    this.subscribing = this.listen().finally(() => {
      this.subscribing = null;
    });
    return this.subscribing;
  }

  private async listen(): Promise<void> {
    try {
      const subscription = await this.store.subscribeWake(
        () => {
          this.woken = true;
          this.kick();
        },
        (error) => this.listenFailed(error),
      );
      // stop() began while the connection was being made: this one must not outlive the worker (a client
      // kept checked out would also make the application's pool.end() wait forever).
      if (this.currentState !== 'running' && this.currentState !== 'starting') {
        await subscription.close().catch(() => {});
        return;
      }
      this.subscription = subscription;
      // Anything enqueued while not listening is found by the next claim.
      this.woken = true;
      this.kick();
    } catch (error) {
      this.listenFailed(error);
    }
  }

  private listenFailed(error: unknown): void {
    this.events.emit('error', { error, during: 'listening for new attempts' });
    const broken = this.subscription;
    this.subscription = null;
    void broken?.close().catch(() => {});
    if (this.currentState !== 'running' && this.currentState !== 'starting') return;
    clearTimeout(this.resubscribeTimer);
    // Polling carries on meanwhile.
    this.resubscribeTimer = setTimeout(() => void this.subscribe(), Math.min(this.options.pollIntervalMs, 1000));
  }

  /** Wakes the claim loop (new attempts, a free slot, or stop). */
  private kick(): void {
    const wake = this.wakeLoop;
    this.wakeLoop = null;
    wake?.();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeLoop = null;
        resolve();
      }, ms);
      this.wakeLoop = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** How many a slot should take at once: about SLICE_MS of work, judged by the average run. */
  private perSlot(): number {
    return Math.max(1, Math.min(this.options.maxAttemptsPerTransaction, Math.floor(SLICE_MS / this.averageMs)));
  }

  /** How many attempts to claim now; 0 while the local queue is full enough. */
  private wanted(): number {
    const { concurrency, batchSize } = this.options;
    const prefetch = this.perSlot() > 1 ? Math.min(batchSize, concurrency * this.perSlot()) : 0;
    const backlog = this.leased?.awaitingWrite ?? 0;
    const room = concurrency + prefetch - this.queue.length - this.inRunners - backlog;
    const threshold = prefetch === 0 ? 1 : Math.ceil(Math.min(batchSize, prefetch) / 2);
    return room >= threshold ? Math.min(batchSize, room) : 0;
  }

  private async claimLoop(): Promise<void> {
    let lastClaimAt = 0;
    let reason: 'more' | 'wake' | 'recheck' | null = null;
    let recheck = 0;
    let errors = 0;
    while (this.currentState === 'running') {
      if (this.woken) {
        this.woken = false;
        reason = 'wake';
        recheck = 0;
      }
      const limit = this.wanted();
      const pollDue = Date.now() - lastClaimAt >= this.options.pollIntervalMs;
      if (limit === 0 || (reason === null && !pollDue)) {
        await this.pause(
          limit === 0 ? this.options.pollIntervalMs : this.options.pollIntervalMs - (Date.now() - lastClaimAt),
        );
        continue;
      }
      const why = reason;
      reason = null;
      // A synchronous driver (better-sqlite3) settles every await as a microtask: without this turn of the
      // event loop, a backlog would drain without the application's timers, requests or I/O ever running.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.currentState !== 'running') break;
      lastClaimAt = Date.now();
      let claimed: Attempt[];
      try {
        claimed = await this.store.attemptClaimDue({
          limit,
          owner: this.id,
          leaseMs: this.options.leaseMs,
          methods: this.methods,
        });
        errors = 0;
      } catch (error) {
        errors++;
        this.events.emit('error', { error, during: 'claiming attempts' });
        await this.pause(Math.min(this.options.pollIntervalMs, 50 * 2 ** Math.min(errors, 10)));
        reason = 'recheck';
        continue;
      }
      if (claimed.length > 0) this.accept(claimed);
      if (claimed.length === limit) reason = 'more';
      else if (claimed.length === 0 && (why === 'wake' || why === 'recheck') && recheck < RECHECK_MS.length) {
        await this.pause(RECHECK_MS[recheck++] as number);
        reason = 'recheck';
      }
    }
  }

  private accept(claimed: Attempt[]): void {
    this.telemetry.claimed(claimed.length);
    this.events.emit('claim', { count: claimed.length });
    for (const attempt of claimed) {
      this.renewing.add(attempt.id);
      this.queue.push(attempt);
    }
    this.dispatch();
  }

  /** Hands queued attempts to free slots. */
  private dispatch(): void {
    if (this.currentState !== 'running') return;
    const { concurrency } = this.options;
    while (this.slotsBusy < concurrency && this.queue.length > 0) {
      if (this.leased) {
        const attempt = this.queue.shift() as Attempt;
        this.startSlot(1, () => (this.leased as LeasedRunner<Tx>).run(attempt));
      } else {
        // As many as a slot's share of time allows: fewer, larger transactions mean fewer commits. Slow
        // targets get groups of one (run side by side); a group that turns out slow stops early (the runner).
        const group = this.queue.splice(0, this.perSlot());
        // A group's rows get locked by its transaction: the heartbeat leaves them alone (no lock waits).
        for (const attempt of group) this.renewing.delete(attempt.id);
        this.startSlot(group.length, () => (this.transactional as TransactionalRunner<Tx>).run(group));
      }
    }
  }

  private startSlot(attempts: number, run: () => Promise<void>): void {
    this.slotsBusy++;
    this.inRunners += attempts;
    run()
      .catch((error) => this.events.emit('error', { error, during: 'running attempts' }))
      .finally(() => {
        this.slotsBusy--;
        this.inRunners -= attempts;
        if (this.slotsBusy === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
        this.dispatch();
        this.kick();
      });
  }

  private whenIdle(): Promise<void> {
    if (this.slotsBusy === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Renews the leases this worker holds; a claim found gone is dropped (queued) or aborted (running, leased). */
  private async heartbeat(): Promise<void> {
    const ids = [...this.renewing];
    if (ids.length === 0) return;
    let renewed: Set<string>;
    try {
      renewed = new Set(await this.store.attemptExtendLeases(this.id, ids, this.options.leaseMs));
    } catch (error) {
      this.events.emit('error', { error, during: 'renewing leases' });
      return;
    }
    for (const id of ids) {
      if (renewed.has(id) || !this.renewing.has(id)) continue;
      const index = this.queue.findIndex((attempt) => attempt.id === id);
      if (index >= 0) {
        this.queue.splice(index, 1);
        this.renewing.delete(id);
        this.events.emit('attempt:lost', { attemptId: id });
      } else {
        // Running: aborted, and its runner reports it. Finished meanwhile: its guarded outcome write decides.
        this.leased?.leaseLost(id);
      }
    }
  }
}
