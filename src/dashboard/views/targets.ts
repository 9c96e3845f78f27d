import type { PageContext } from '../context.js';
import { formatCount, formatTime } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { layout } from '../layout.js';

export async function targetsPage(context: PageContext): Promise<SafeHtml> {
  const stats = await context.store.dashboardTargetStats();
  const link = (target: string, method: string, status?: string) => {
    const params = new URLSearchParams({ target, method, ...(status && { status }) });
    return context.href(`/attempts?${params}`);
  };
  const rows = stats.map((entry) => {
    const { counts } = entry;
    const finished = counts.succeeded + counts.failed;
    const rate = finished === 0 ? '—' : `${((counts.failed / finished) * 100).toFixed(1)}%`;
    const total = counts.pending + counts.succeeded + counts.failed + counts.expired;
    return html`<tr>
  <td><a href="${link(entry.target, entry.method)}">${entry.target}.${entry.method}</a></td>
  <td class="num"><a href="${link(entry.target, entry.method, 'pending')}">${formatCount(counts.pending)}</a></td>
  <td class="num">${formatCount(counts.succeeded)}</td>
  <td class="num"><a href="${link(entry.target, entry.method, 'failed')}">${formatCount(counts.failed)}</a></td>
  <td class="num">${formatCount(counts.expired)}</td>
  <td class="num">${formatCount(total)}</td>
  <td class="num">${rate}</td>
  <td>${formatTime(entry.lastFailureAt)}</td>
</tr>`;
  });
  const body = html`<h1>Targets</h1>
<table>
<thead><tr><th>target.method</th><th class="num">pending</th><th class="num">succeeded</th><th class="num">failed</th>
<th class="num">expired</th><th class="num">total</th><th class="num">failure rate</th><th>last failure</th></tr></thead>
<tbody>${rows.length > 0 ? rows : html`<tr><td colspan="8" class="muted">No attempts yet.</td></tr>`}</tbody>
</table>
<p class="muted">Failure rate: failed ÷ (succeeded + failed). Last failure: when the newest failed attempt was marked failed.</p>`;
  return layout(context, 'targets', 'Targets', body);
}
