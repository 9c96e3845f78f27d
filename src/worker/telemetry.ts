import { errorText } from '../core/error-text.js';
import { importOpenTelemetry } from '../core/open-telemetry.js';
import type { Attempt } from '../core/types.js';

/** One attempt's span; `end` records the outcome and its metrics. */
export interface AttemptTrace {
  end(outcome: 'succeeded' | 'retrying' | 'failed' | 'lost', error?: unknown): void;
}

export interface Telemetry {
  startAttempt(attempt: Attempt, mode: string): AttemptTrace;
  claimed(count: number): void;
}

const noopTrace: AttemptTrace = { end() {} };
export const noopTelemetry: Telemetry = { startAttempt: () => noopTrace, claimed() {} };

/**
 * Spans and metrics through `@opentelemetry/api` when the application has it installed; a no-op otherwise.
 * Without an SDK registered by the application, the API itself is a no-op.
 */
export async function loadTelemetry(): Promise<Telemetry> {
  const api = await importOpenTelemetry();
  if (!api) return noopTelemetry;
  const tracer = api.trace.getTracer('async-task');
  const meter = api.metrics.getMeter('async-task');
  const performed = meter.createCounter('async_task.attempts', { description: 'Runs of attempts, by outcome' });
  const duration = meter.createHistogram('async_task.attempt.duration', {
    description: 'Time a target ran',
    unit: 'ms',
  });
  const claims = meter.createCounter('async_task.claimed', { description: 'Attempts claimed by workers' });
  return {
    claimed: (count) => claims.add(count),
    startAttempt(attempt, mode) {
      const started = performance.now();
      const attributes = {
        'async_task.target': attempt.target,
        'async_task.method': attempt.methodName,
        'async_task.mode': mode,
      };
      const span = tracer.startSpan(`async-task perform ${attempt.target}.${attempt.methodName}`, {
        attributes: {
          ...attributes,
          'async_task.attempt_id': attempt.id,
          'async_task.num_attempts': attempt.numAttempts,
        },
      });
      return {
        end(outcome, error) {
          span.setAttribute('async_task.outcome', outcome);
          if (error !== undefined) {
            span.recordException(errorText(error));
            span.setStatus({ code: api.SpanStatusCode.ERROR, message: errorText(error).split('\n')[0] });
          }
          span.end();
          const tags = { ...attributes, 'async_task.outcome': outcome };
          performed.add(1, tags);
          duration.record(performance.now() - started, tags);
        },
      };
    },
  };
}
