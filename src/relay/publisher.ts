import type { RelayMessage } from './message.js';

/**
 * Where a relay hands attempts off: one per queue (`async-task-ts/bullmq`, `/rabbitmq`, `/nats`), or your own.
 * `publish` resolves only once the broker has accepted every message (persisted, confirmed); if it throws,
 * the relay gives the whole batch back and hands it off again, with the same dedupe ids.
 */
export interface RelayPublisher {
  /** For logs and telemetry: `bullmq`, `rabbitmq`, `nats`, … */
  readonly name: string;
  publish(messages: readonly RelayMessage[]): Promise<void>;
  /** Closes what the publisher opened itself (never a connection the application passed in). */
  close?(): Promise<void>;
}
