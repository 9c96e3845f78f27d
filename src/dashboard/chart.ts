import type { CompletionBucket } from '../store/dashboard-store.js';
import { html, type SafeHtml } from './html.js';

const MINUTE = 60_000;
const SERIES = ['succeeded', 'failed', 'expired'] as const;
const COLORS: Record<(typeof SERIES)[number], string> = { succeeded: '#2f855a', failed: '#c53030', expired: '#718096' };

export interface MinuteTotals {
  readonly minute: Date;
  readonly succeeded: number;
  readonly failed: number;
  readonly expired: number;
}

/** One entry per minute of the last hour, oldest first, zeros included. */
export function minuteSeries(buckets: readonly CompletionBucket[], now: number, minutes = 60): MinuteTotals[] {
  const start = Math.floor(now / MINUTE) * MINUTE - (minutes - 1) * MINUTE;
  const series = Array.from({ length: minutes }, (_, i) => ({
    minute: new Date(start + i * MINUTE),
    succeeded: 0,
    failed: 0,
    expired: 0,
  }));
  for (const bucket of buckets) {
    const index = Math.round((bucket.minute.getTime() - start) / MINUTE);
    const entry = series[index];
    if (entry) entry[bucket.status] += bucket.count;
  }
  return series;
}

/** A stacked bar chart of completions per minute, as inline SVG (no script, no external image). */
export function completionsChart(series: readonly MinuteTotals[]): SafeHtml {
  const width = 760;
  const height = 180;
  const left = 44;
  const bottom = 22;
  const plotHeight = height - bottom - 8;
  const slot = (width - left - 4) / Math.max(series.length, 1);
  const max = Math.max(1, ...series.map((m) => m.succeeded + m.failed + m.expired));
  const scale = plotHeight / max;
  const bars = series.map((entry, i) => {
    let y = height - bottom;
    const x = left + i * slot + 1;
    const label = `${entry.minute.toISOString().slice(11, 16)} UTC: ${entry.succeeded} succeeded, ${entry.failed} failed, ${entry.expired} expired`;
    const rects = SERIES.map((status) => {
      const h = entry[status] * scale;
      if (h <= 0) return '';
      y -= h;
      return html`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(slot - 2, 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[status]}"></rect>`;
    });
    return html`<g><title>${label}</title>${rects}<rect x="${x.toFixed(1)}" y="8" width="${Math.max(slot - 2, 1).toFixed(1)}" height="${plotHeight}" fill="transparent"></rect></g>`;
  });
  const first = series[0]?.minute.toISOString().slice(11, 16) ?? '';
  const last = series.at(-1)?.minute.toISOString().slice(11, 16) ?? '';
  return html`<svg class="chart" role="img" aria-label="Completions per minute over the last hour" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">
<line x1="${left}" y1="${height - bottom}" x2="${width}" y2="${height - bottom}" stroke="#c7ccd6"></line>
<line x1="${left}" y1="8" x2="${left}" y2="${height - bottom}" stroke="#c7ccd6"></line>
<text x="${left - 6}" y="16" text-anchor="end" font-size="11" fill="#667085">${max}</text>
<text x="${left - 6}" y="${height - bottom}" text-anchor="end" font-size="11" fill="#667085">0</text>
<text x="${left}" y="${height - 6}" font-size="11" fill="#667085">${first} UTC</text>
<text x="${width - 4}" y="${height - 6}" text-anchor="end" font-size="11" fill="#667085">${last} UTC</text>
${bars}
</svg>`;
}
