import type { PageContext } from '../context.js';
import { formatTime, statusBadge } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { layout } from '../layout.js';

/** The recurring schedules of the dashboard's AsyncTask: next tick, last tick and its outcome. */
export async function recurringPage(context: PageContext): Promise<SafeHtml> {
  const schedules = await context.options.asyncTask.recurring.list();
  const rows = schedules.map((schedule) => {
    const last = schedule.lastTick;
    const attempts = context.href(
      `/attempts?${new URLSearchParams({ target: schedule.target, method: schedule.method })}`,
    );
    return html`<tr>
  <td>${schedule.name}</td>
  <td><code>${schedule.cron}</code> <span class="muted">${schedule.timezone}</span></td>
  <td><a href="${attempts}">${schedule.target}.${schedule.method}</a></td>
  <td>${formatTime(schedule.nextTick)}</td>
  <td>${last ? formatTime(last.at) : html`<span class="muted">never</span>`}</td>
  <td>${last ? html`<a href="${context.href(`/attempts/${last.attemptId}`)}">${statusBadge(last.status)}</a>` : '—'}</td>
</tr>`;
  });
  const body = html`<h1>Schedules</h1>
<table>
<thead><tr><th>schedule</th><th>cron</th><th>target.method</th><th>next tick</th><th>last tick</th><th>outcome</th></tr></thead>
<tbody>${rows.length > 0 ? rows : html`<tr><td colspan="6" class="muted">No recurring schedules: declare them in createAsyncTask({ recurring }).</td></tr>`}</tbody>
</table>
<p class="muted">Every running worker enqueues each tick once. Last tick: the newest tick enqueued; its outcome is its attempt's status.</p>`;
  return layout(context, 'recurring', 'Schedules', body);
}
