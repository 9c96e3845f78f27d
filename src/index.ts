export type { AsyncTask, AsyncTaskOptions, DrainOptions, EnqueueManyOptions } from './async-task/async-task.js';
export { createAsyncTask } from './async-task/create-async-task.js';
export type { AcceptPlaintext } from './core/args-crypto.js';
export { decodeArgs, encodeArgs } from './core/codec.js';
export {
  type AesGcmEncryptorOptions,
  aesGcmEncryptor,
  type EncryptionContext,
  type Encryptor,
  nullEncryptor,
  type SyncEncryptor,
} from './core/encryptors.js';
export { errorText } from './core/error-text.js';
export {
  AsyncTaskError,
  type AsyncTaskErrorCode,
  AttemptNotFoundError,
  AttemptTimeoutError,
  DatabaseUnreachableError,
  DecryptionError,
  InvalidArgumentsError,
  InvalidOptionsError,
  InvalidStateError,
  RunsExhaustedError,
  SchemaNotMigratedError,
  SyncTransactionError,
  TransactionAbortedError,
  UnknownMethodError,
  UnknownTargetError,
  UnreadableAttemptError,
} from './core/errors.js';
export type { PerformOptions } from './core/perform.js';
export type { MethodArgs, MethodName, TargetMethod, TargetRegistry } from './core/registry.js';
export {
  DEFAULT_MAX_ATTEMPTS,
  type ExponentialBackoffOptions,
  exponentialBackoff,
  type RetryOptions,
  type RetryPolicy,
} from './core/retry-policy.js';
export { ATTEMPT_TRANSITIONS, type AttemptAction } from './core/transitions.js';
export {
  ATTEMPT_STATUSES,
  type Attempt,
  type AttemptPage,
  type AttemptStatus,
  type DrainResult,
  type EnqueueOptions,
  type ListOptions,
  type Logger,
  type PerformContext,
  type PerformOutcome,
  type PerformResult,
} from './core/types.js';
export type { LastTick, RecurringView, ScheduleStatus } from './recurring/status.js';
export { recurringTickOf } from './recurring/token.js';
export type {
  AnyRecurringSchedule,
  RecurringSchedule,
  RecurringSchedules,
  RecurringTick,
} from './recurring/types.js';
export {
  type ConsumeOptions,
  type ConsumeOutcome,
  type Performer,
  performRelayMessage,
} from './relay/consume.js';
export { decodeMessage, encodeMessage, type RelayMessage } from './relay/message.js';
export type { RelayPublisher } from './relay/publisher.js';
export type {
  Relay,
  RelayEventName,
  RelayEvents,
  RelayListener,
  RelayOptions,
  RelayState,
} from './relay/relay.js';
export type { Store } from './store/store.js';
export { LeaseLostError, WorkerStoppedError } from './worker/errors.js';
export type { WorkerEventName, WorkerEvents, WorkerListener } from './worker/events.js';
export type { StopOptions, Worker, WorkerState } from './worker/worker.js';
export type { RetentionOptions, WorkerMode, WorkerOptions } from './worker/worker-options.js';
