import { type Span, type SpanOptions, type Tracer, type TracerProvider, trace } from '@opentelemetry/api';
import { afterAll, expect, it } from 'vitest';
import { loadRelayTelemetry } from '../../src/relay/telemetry.js';

/** Records the relay's spans: the API's own no-op spans, named, with their status. */
const recorded: { name: string; attributes: Record<string, unknown>; ended: boolean; status?: number }[] = [];
const provider: TracerProvider = {
  getTracer(): Tracer {
    const startSpan = (name: string, options?: SpanOptions): Span => {
      const record = { name, attributes: { ...(options?.attributes ?? {}) }, ended: false } as (typeof recorded)[0];
      recorded.push(record);
      const span = trace.wrapSpanContext({
        traceId: `${'0'.repeat(31)}1`,
        spanId: `${'0'.repeat(15)}1`,
        traceFlags: 1,
      });
      return Object.assign(Object.create(span), {
        setStatus(status: { code: number }) {
          record.status = status.code;
          return this;
        },
        end() {
          record.ended = true;
        },
      }) as Span;
    };
    return { startSpan } as Tracer;
  },
};
trace.setGlobalTracerProvider(provider);
afterAll(() => trace.disable());

it('a span per published batch; a failed publish, whatever it threw, ends its span with an error status', async () => {
  const telemetry = await loadRelayTelemetry();
  telemetry.startPublish('jobs', 3).end();
  // A broker client may reject with anything; turning it into the span's text must not throw.
  expect(() => telemetry.startPublish('jobs', 2).end(Object.create(null))).not.toThrow();
  expect(recorded).toEqual([
    {
      name: 'async-task relay publish',
      attributes: { 'async_task.queue': 'jobs', 'async_task.count': 3 },
      ended: true,
    },
    {
      name: 'async-task relay publish',
      attributes: { 'async_task.queue': 'jobs', 'async_task.count': 2 },
      ended: true,
      status: 2,
    },
  ]);
});
