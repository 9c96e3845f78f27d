import { errorText } from '../core/error-text.js';
import { importOpenTelemetry } from '../core/open-telemetry.js';

export interface PublishTrace {
  end(error?: unknown): void;
}

export interface RelayTelemetry {
  startPublish(queue: string, count: number): PublishTrace;
}

const noopTrace: PublishTrace = { end() {} };
export const noopRelayTelemetry: RelayTelemetry = { startPublish: () => noopTrace };

/** A span per published batch and a counter of handed-off attempts, when `@opentelemetry/api` is installed. */
export async function loadRelayTelemetry(): Promise<RelayTelemetry> {
  const api = await importOpenTelemetry();
  if (!api) return noopRelayTelemetry;
  const tracer = api.trace.getTracer('async-task');
  const handedOff = api.metrics
    .getMeter('async-task')
    .createCounter('async_task.relay.handed_off', { description: 'Attempts handed off to a queue by a relay' });
  return {
    startPublish(queue, count) {
      const attributes = { 'async_task.queue': queue, 'async_task.count': count };
      const span = tracer.startSpan('async-task relay publish', { attributes });
      return {
        end(error) {
          if (error !== undefined) {
            span.recordException(errorText(error));
            span.setStatus({ code: api.SpanStatusCode.ERROR, message: errorText(error).split('\n')[0] });
          } else {
            handedOff.add(count, { 'async_task.queue': queue });
          }
          span.end();
        },
      };
    },
  };
}
