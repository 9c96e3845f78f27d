import type { PageContext } from '../context.js';
import { formatCount, formatTime } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { layout } from '../layout.js';

const HOUR = 3_600_000;
/** The windows offered; `all` reads every row, so it is slow on big tables. */
const WINDOWS: Readonly<Record<string, { label: string; ms: number | null }>> = {
  '1h': { label: 'last hour', ms: HOUR },
  '24h': { label: 'last 24 hours', ms: 24 * HOUR },
  '7d': { label: 'last 7 days', ms: 7 * 24 * HOUR },
  '30d': { label: 'last 30 days', ms: 30 * 24 * HOUR },
  all: { label: 'all time', ms: null },
};
const DEFAULT_WINDOW = '24h';

export async function targetsPage(context: PageContext): Promise<SafeHtml> {
  const requested = context.url.searchParams.get('window') ?? DEFAULT_WINDOW;
  const windowKey = Object.hasOwn(WINDOWS, requested) ? requested : DEFAULT_WINDOW;
  const window = WINDOWS[windowKey]!;
  const stats = await context.store.dashboardTargetStats(window.ms === null ? null : new Date(Date.now() - window.ms));
  const link = (target: string, method: string, status?: string) => {
    const params = new URLSearchParams({ target, method, ...(status && { status }) });
    return context.href(`/attempts?${params}`);
  };
  const rows = stats.map((entry) => {
    const { counts } = entry;
    const finished = counts.succeeded + counts.failed;
    const rate = finished === 0 ? '—' : `${((counts.failed / finished) * 100).toFixed(1)}%`;
    return html`<tr>
  <td><a href="${link(entry.target, entry.method)}">${entry.target}.${entry.method}</a></td>
  <td class="num"><a href="${link(entry.target, entry.method, 'pending')}">${formatCount(counts.pending)}</a></td>
  <td class="num">${formatCount(counts.succeeded)}</td>
  <td class="num"><a href="${link(entry.target, entry.method, 'failed')}">${formatCount(counts.failed)}</a></td>
  <td class="num">${formatCount(counts.expired)}</td>
  <td class="num">${rate}</td>
  <td>${formatTime(entry.lastFailureAt)}</td>
</tr>`;
  });
  const windows = Object.entries(WINDOWS).map(([key, { label }]) =>
    key === windowKey
      ? html`<strong>${label}</strong>`
      : html`<a href="${context.href(`/targets?window=${key}`)}">${label}</a>`,
  );
  const body = html`<h1>Targets</h1>
<p class="actions">Completed in: ${windows}</p>
<table>
<thead><tr><th>target.method</th><th class="num">pending now</th><th class="num">succeeded</th><th class="num">failed</th>
<th class="num">expired</th><th class="num">failure rate</th><th>last failure</th></tr></thead>
<tbody>${rows.length > 0 ? rows : html`<tr><td colspan="7" class="muted">No attempts ${window.ms === null ? 'yet' : `completed in the ${window.label}, and none pending`}.</td></tr>`}</tbody>
</table>
<p class="muted">Pending: all pending attempts now. Succeeded, failed, expired: attempts completed in the ${window.label}.
Failure rate: failed ÷ (succeeded + failed). Last failure: the newest of those failures.</p>`;
  return layout(context, 'targets', 'Targets', body);
}
