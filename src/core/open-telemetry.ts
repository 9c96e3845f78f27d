/** The parts of `@opentelemetry/api` the library uses, declared structurally (it is an optional peer). */
export interface OtelSpan {
  setAttribute(key: string, value: string | number | boolean): unknown;
  recordException(exception: Error | string): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}

export interface OtelApi {
  trace: { getTracer(name: string): { startSpan(name: string, options?: { attributes?: object }): OtelSpan } };
  metrics: {
    getMeter(name: string): {
      createCounter(name: string, options?: object): { add(value: number, attributes?: object): void };
      createHistogram(name: string, options?: object): { record(value: number, attributes?: object): void };
    };
  };
  SpanStatusCode: { OK: number; ERROR: number };
}

/**
 * `@opentelemetry/api` when the application has it installed, else `null`. Without an SDK registered by the
 * application, the API itself is a no-op.
 */
export async function importOpenTelemetry(): Promise<OtelApi | null> {
  try {
    // A variable, so bundlers and the type checker leave the optional peer alone.
    const moduleName = '@opentelemetry/api';
    return (await import(moduleName)) as OtelApi;
  } catch {
    return null;
  }
}
