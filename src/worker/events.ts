import { errorText } from '../core/error-text.js';
import type { Attempt, Logger } from '../core/types.js';

/** What a worker reports; listen with `worker.on(name, listener)`. */
export interface WorkerEvents {
  /** The worker is running: claiming and performing. */
  start: { workerId: string };
  /** The worker has stopped: nothing runs and nothing is held. */
  stop: { workerId: string };
  /** Attempts were claimed (leased to this worker, `num_attempts` counted). */
  claim: { count: number };
  'attempt:start': { attempt: Attempt };
  'attempt:succeeded': { attempt: Attempt; durationMs: number };
  /** A run failed; `willRetry` false means the attempt is now `failed`. */
  'attempt:failed': { attempt: Attempt; error: unknown; willRetry: boolean; durationMs: number };
  /** This worker's claim was gone when it wrote the outcome (lease lapsed and re-claimed, or expired by hand). */
  'attempt:lost': { attemptId: string };
  /** Old completed attempts were deleted by retention. */
  prune: { deleted: number };
  /** A database or internal error; the worker keeps going (retrying with backoff). */
  error: { error: unknown; during: string };
}

export type WorkerEventName = keyof WorkerEvents;
export type WorkerListener<E extends WorkerEventName> = (payload: WorkerEvents[E]) => void;

/** A small typed emitter: a listener that throws is logged, never breaks the worker. */
export class WorkerEmitter {
  private readonly listeners = new Map<WorkerEventName, Set<(payload: never) => void>>();

  constructor(private readonly logger: Logger) {}

  on<E extends WorkerEventName>(event: E, listener: WorkerListener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  has(event: WorkerEventName): boolean {
    return (this.listeners.get(event)?.size ?? 0) > 0;
  }

  emit<E extends WorkerEventName>(event: E, payload: WorkerEvents[E]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of set) {
      try {
        (listener as WorkerListener<E>)(payload);
      } catch (error) {
        this.logger.error('worker event listener threw', { event, error: errorText(error) });
      }
    }
  }
}
