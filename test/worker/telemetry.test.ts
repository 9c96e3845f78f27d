import { context, type Span, type SpanOptions, type Tracer, type TracerProvider, trace } from '@opentelemetry/api';
import { afterAll, expect, it } from 'vitest';
import { forEachDialect, sleep } from '../support/suite.js';

/** A tracer provider that records what the worker reports: the API's own no-op spans, named and counted. */
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
        setAttribute(key: string, value: unknown) {
          record.attributes[key] = value;
          return this;
        },
        setStatus(status: { code: number }) {
          record.status = status.code;
          return this;
        },
        end() {
          record.ended = true;
        },
      }) as Span;
    };
    return {
      startSpan,
      startActiveSpan: ((name: string, fn: (span: Span) => unknown) =>
        context.with(context.active(), () => fn(startSpan(name)))) as Tracer['startActiveSpan'],
    };
  },
};
trace.setGlobalTracerProvider(provider);
afterAll(() => trace.disable());

forEachDialect('worker telemetry', (env) => {
  it('reports a span per run with its target, method and outcome', async () => {
    recorded.length = 0;
    const { db, make } = await env();
    const asyncTask = await make({ retry: { maxAttempts: 1 } });
    await db.inTransaction(async (tx) => {
      await asyncTask.enqueue(tx, 'OrderClient', 'fulfill', { orderId: 1 });
      await asyncTask.enqueue(tx, 'OrderClient', 'explode', { message: 'no' });
    });
    const worker = asyncTask.worker({ pollIntervalMs: 50 });
    await worker.start();
    while ((await asyncTask.list({ status: 'pending' })).attempts.length > 0) await sleep(20);
    await worker.stop();
    const spans = recorded.filter((span) => span.name.startsWith('async-task perform'));
    expect(spans.map((span) => span.name).sort()).toEqual([
      'async-task perform OrderClient.explode',
      'async-task perform OrderClient.fulfill',
    ]);
    expect(spans.every((span) => span.ended)).toBe(true);
    const outcomes = Object.fromEntries(
      spans.map((span) => [span.attributes['async_task.method'], span.attributes['async_task.outcome']]),
    );
    expect(outcomes).toEqual({ fulfill: 'succeeded', explode: 'failed' });
  });
});
