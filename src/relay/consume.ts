import {
  AttemptNotFoundError,
  InvalidArgumentsError,
  InvalidStateError,
  UnknownMethodError,
  UnknownTargetError,
} from '../core/errors.js';
import type { PerformOptions } from '../core/perform.js';
import type { Logger, PerformOutcome, PerformResult } from '../core/types.js';
import { decodeMessage, type RelayMessage } from './message.js';

/**
 * What a consumer did with one message. Every outcome means "done, acknowledge it": the attempt's
 * outcome is committed (`succeeded`, `retrying`, `failed`), or there is nothing to do (`not-due`: a later
 * hand-off brings it when due; `not-pending`: already performed, a duplicate; `not-found`: deleted;
 * `invalid`: a message this library did not write; `unknown-target`: this process has no such target or
 * method, so the attempt stays pending, uncounted, and is handed off again after the relay's lease).
 */
export type ConsumeOutcome = PerformOutcome | 'not-pending' | 'not-found' | 'invalid' | 'unknown-target';

/** The part of `AsyncTask` a consumer needs: its `perform`. */
export interface Performer {
  perform(id: string | number | bigint, options?: PerformOptions): Promise<PerformResult>;
}

export interface ConsumeOptions extends PerformOptions {
  logger?: Logger;
}

/**
 * Performs the attempt a relay message names, under the contract (`asyncTask.perform(id)`: count, lock,
 * call, outcome). Resolves once the outcome is committed: acknowledge the message then. Throws only when
 * the outcome could not be committed (the database is unreachable): do not acknowledge; the broker
 * redelivers it, or the relay hands the attempt off again once its lease lapses.
 */
export async function performRelayMessage(
  asyncTask: Performer,
  data: unknown,
  options: ConsumeOptions = {},
): Promise<{ outcome: ConsumeOutcome; message?: RelayMessage }> {
  const { logger, ...performOptions } = options;
  let message: RelayMessage;
  try {
    message = decodeMessage(data);
  } catch (error) {
    if (!(error instanceof InvalidArgumentsError)) throw error;
    logger?.warn('relay consumer: dropped a message it cannot read', { error: error.message });
    return { outcome: 'invalid' };
  }
  try {
    const result = await asyncTask.perform(message.attemptId, performOptions);
    logger?.debug('relay consumer: performed', { id: message.attemptId, run: message.run, outcome: result.outcome });
    return { outcome: result.outcome, message };
  } catch (error) {
    if (error instanceof InvalidStateError) return { outcome: 'not-pending', message };
    if (error instanceof AttemptNotFoundError) return { outcome: 'not-found', message };
    if (error instanceof UnknownTargetError || error instanceof UnknownMethodError) {
      logger?.warn('relay consumer: no such target or method here; left pending', {
        id: message.attemptId,
        target: message.target,
        method: message.method,
      });
      return { outcome: 'unknown-target', message };
    }
    throw error;
  }
}
