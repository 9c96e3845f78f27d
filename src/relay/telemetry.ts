/** The few parts of `@opentelemetry/api` the relay uses, declared structurally (it is an optional peer). */
interface OtelSpan {
  recordException(exception: Error | string): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}
interface OtelApi {
  trace: { getTracer(name: string): { startSpan(name: string, options?: { attributes?: object }): OtelSpan } };
  metrics: {
    getMeter(name: string): {
      createCounter(name: string, options?: object): { add(value: number, attributes?: object): void };
    };
  };
  SpanStatusCode: { ERROR: number };
}

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
  let api: OtelApi;
  try {
    const moduleName = '@opentelemetry/api';
    api = (await import(moduleName)) as OtelApi;
  } catch {
    return noopRelayTelemetry;
  }
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
            span.recordException(error instanceof Error ? error : String(error));
            span.setStatus({ code: api.SpanStatusCode.ERROR, message: String(error) });
          } else {
            handedOff.add(count, { 'async_task.queue': queue });
          }
          span.end();
        },
      };
    },
  };
}
