import { InvalidArgumentsError } from '../core/errors.js';
import type { HandoffClaim } from '../store/relay-store.js';

/**
 * What the relay publishes for one attempt. It names the attempt and nothing of its arguments: the
 * consumer reads (and decrypts) them from the database under the row's lock, so a message can never
 * run stale or tampered arguments, and the broker never holds them.
 */
export interface RelayMessage {
  /** The attempt's id. */
  readonly attemptId: string;
  /** The run this hand-off asks for: `num_attempts` + 1 at hand-off. */
  readonly run: number;
  /** `<attemptId>:<run>`: the same for every hand-off of the same run, so the broker can drop duplicates. */
  readonly dedupeId: string;
  readonly target: string;
  readonly method: string;
}

export function messageFor(claim: HandoffClaim): RelayMessage {
  const run = claim.numAttempts + 1;
  return {
    attemptId: claim.id,
    run,
    dedupeId: `${claim.id}:${run}`,
    target: claim.target,
    method: claim.methodName,
  };
}

/** The message as the bytes on the wire (JSON, UTF-8). */
export function encodeMessage(message: RelayMessage): string {
  return JSON.stringify(message);
}

const ID_PATTERN = /^[1-9][0-9]{0,18}$/;

/** Reads a message back from its JSON text or parsed object; a message this library did not write is an error. */
export function decodeMessage(data: unknown): RelayMessage {
  let value = data;
  if (typeof value === 'string' || value instanceof Uint8Array) {
    const text = typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
    try {
      value = JSON.parse(text);
    } catch {
      throw new InvalidArgumentsError('relay message is not JSON');
    }
  }
  const record = value as Partial<Record<keyof RelayMessage, unknown>> | null;
  if (
    !record ||
    typeof record !== 'object' ||
    typeof record.attemptId !== 'string' ||
    !ID_PATTERN.test(record.attemptId) ||
    typeof record.run !== 'number' ||
    !Number.isInteger(record.run) ||
    record.run < 1
  ) {
    throw new InvalidArgumentsError('relay message has no valid attemptId and run');
  }
  return {
    attemptId: record.attemptId,
    run: record.run,
    dedupeId: `${record.attemptId}:${record.run}`,
    target: typeof record.target === 'string' ? record.target : '',
    method: typeof record.method === 'string' ? record.method : '',
  };
}
