import { ATTEMPT_STATUSES } from '../../core/types.js';
import { completionsChart, minuteSeries } from '../chart.js';
import type { PageContext } from '../context.js';
import { formatCount, formatDuration, formatTime } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { layout } from '../layout.js';

const HOUR = 3_600_000;
/** Above this, a status's count on PostgreSQL is the planner's estimate, shown with ≈. */
const EXACT_COUNTS_UP_TO = 50_000;

export async function overviewPage(context: PageContext): Promise<SafeHtml> {
  const now = Date.now();
  const [{ counts, estimated }, oldestDueAt, completions, holders] = await Promise.all([
    context.store.dashboardStatusCounts(EXACT_COUNTS_UP_TO),
    context.store.dashboardOldestDueAt(),
    context.store.dashboardCompletions(new Date(Math.floor(now / 60_000) * 60_000 - HOUR + 60_000)),
    context.store.dashboardLeaseHolders(),
  ]);
  const running = holders.reduce((sum, holder) => sum + holder.running, 0);
  const series = minuteSeries(completions, now);
  const total = (status: 'succeeded' | 'failed' | 'expired') => series.reduce((sum, m) => sum + m[status], 0);
  const body = html`<h1>Overview</h1>
<section class="cards" aria-label="Attempts by status">
${ATTEMPT_STATUSES.map(
  (status) => html`<a class="card" href="${context.href(`/attempts?status=${status}`)}" data-status="${status}">
  <span class="n">${
    estimated.includes(status)
      ? html`<abbr title="estimated from table statistics (more than ${formatCount(EXACT_COUNTS_UP_TO)})">≈ ${formatCount(counts[status])}</abbr>`
      : formatCount(counts[status])
  }</span><span class="label">${status}</span></a>`,
)}
  <div class="card" data-testid="oldest-due">
    <span class="n">${oldestDueAt ? formatDuration(now - oldestDueAt.getTime()) : '—'}</span>
    <span class="label">oldest due pending ${oldestDueAt ? html`(due ${formatTime(oldestDueAt)})` : '(none due)'}</span>
  </div>
</section>
<h2>Workers</h2>
${
  holders.length === 0
    ? html`<p class="muted" data-testid="workers">No worker holds an attempt right now.</p>`
    : html`<p data-testid="running"><strong>${formatCount(running)}</strong> attempt${running === 1 ? '' : 's'} claimed by ${holders.length} worker${holders.length === 1 ? '' : 's'}.</p>
<table data-testid="workers"><thead><tr><th>worker (lease owner)</th><th class="num">claimed</th><th>lease until</th></tr></thead>
<tbody>${holders.map((holder) => html`<tr><td>${holder.owner}</td><td class="num">${formatCount(holder.running)}</td><td>${formatTime(holder.leaseExpiresAt)}</td></tr>`)}</tbody></table>`
}
<h2>Last hour</h2>
<p class="legend">
  <span><span class="swatch swatch-succeeded"></span> succeeded <strong data-testid="hour-succeeded">${formatCount(total('succeeded'))}</strong></span>
  <span><span class="swatch swatch-failed"></span> failed <strong data-testid="hour-failed">${formatCount(total('failed'))}</strong></span>
  <span><span class="swatch swatch-expired"></span> expired <strong data-testid="hour-expired">${formatCount(total('expired'))}</strong></span>
</p>
${completionsChart(series)}
<p class="muted">Completions per minute: attempts that reached succeeded, failed or expired. Runs that failed and will be retried stay pending.</p>`;
  return layout(context, 'overview', 'Overview', body);
}
