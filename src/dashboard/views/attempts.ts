import { ATTEMPT_STATUSES, type Attempt } from '../../core/types.js';
import { canAct, type PageContext } from '../context.js';
import { FILTER_PARAMS, filterQueryString, parseListQuery } from '../filter.js';
import { formatTime, statusBadge } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, layout, problems } from '../layout.js';

const ERROR_PREVIEW = 160;

function row(context: PageContext, attempt: Attempt, selectable: boolean): SafeHtml {
  const error = attempt.lastError ?? '';
  return html`<tr data-id="${attempt.id}">
  ${selectable ? html`<td><input type="checkbox" name="id" value="${attempt.id}" aria-label="Select attempt ${attempt.id}"></td>` : ''}
  <td class="num"><a href="${context.href(`/attempts/${attempt.id}`)}">${attempt.id}</a></td>
  <td>${statusBadge(attempt.status)}</td>
  <td>${attempt.target}.${attempt.methodName}</td>
  <td>${attempt.idempotenceToken ?? html`<span class="muted">—</span>`}</td>
  <td class="num">${attempt.numAttempts}</td>
  <td>${formatTime(attempt.scheduledAt ?? attempt.createdAt)}</td>
  <td>${formatTime(attempt.createdAt)}</td>
  <td>${formatTime(attempt.completedAt)}</td>
  <td class="error" title="${error.slice(0, 1000)}">${error.slice(0, ERROR_PREVIEW)}</td>
</tr>`;
}

function filterForm(context: PageContext, form: Record<string, string>): SafeHtml {
  const option = (value: string, label: string, current: string) =>
    html`<option value="${value}"${value === current ? html` selected` : ''}>${label}</option>`;
  return html`<form class="filters" method="get" action="${context.href('/attempts')}">
  <label>status<select name="status">${option('', 'any', form.status!)}${ATTEMPT_STATUSES.map((s) => option(s, s, form.status!))}</select></label>
  <label>target<input name="target" value="${form.target}" size="14"></label>
  <label>method<input name="method" value="${form.method}" size="12"></label>
  <label>idempotence token<input name="token" value="${form.token}" size="16"></label>
  <label>time<select name="time">${option('created', 'created', form.time!)}${option('due', 'due', form.time!)}</select></label>
  <label>from (UTC)<input name="from" value="${form.from}" placeholder="2026-01-31T13:45" size="16"></label>
  <label>to (UTC)<input name="to" value="${form.to}" placeholder="2026-01-31T14:45" size="16"></label>
  <label>order<select name="order">${option('', 'default', form.order!)}${option('desc', 'newest first', form.order!)}${option('asc', 'oldest first', form.order!)}</select></label>
  <button type="submit">Filter</button>
  <a href="${context.href('/attempts')}">Clear</a>
</form>`;
}

function actionButtons(scope: 'selected' | 'all', count: string): SafeHtml {
  const label = scope === 'selected' ? 'selected' : 'all matching…';
  const confirm = scope === 'all' ? 'You will see how many attempts match and confirm on the next page.' : undefined;
  return html`<button type="submit" name="op" value="retry:${scope}"${confirm ? html` data-confirm="${confirm}"` : ''}>Retry ${label}</button>
<button type="submit" name="op" value="expire:${scope}" class="danger">Expire ${label}</button>
<button type="submit" name="op" value="fail:${scope}" class="danger">Fail ${label}</button>${count}`;
}

export async function attemptsPage(context: PageContext): Promise<SafeHtml> {
  const query = parseListQuery(context.url.searchParams);
  const page = await context.store.dashboardAttemptSearch({
    ...query.filter,
    order: query.order,
    limit: context.options.pageSize,
    ...(query.cursor !== undefined && { cursor: query.cursor }),
  });
  const filterQuery = filterQueryString(query.form);
  const selectable = canAct(context);
  const back = `/attempts${context.url.search}`;
  // The table scrolls inside its own box: the header, filters and actions stay put on a narrow screen.
  const table = html`<div class="table-wrap"><table>
<thead><tr>
  ${selectable ? html`<th><input type="checkbox" data-select-all aria-label="Select all on this page"></th>` : ''}
  <th class="num">id</th><th>status</th><th>target.method</th><th>idempotence token</th><th class="num">runs</th>
  <th>due</th><th>created</th><th>completed</th><th>last error</th>
</tr></thead>
<tbody>${
    page.attempts.length > 0
      ? page.attempts.map((attempt) => row(context, attempt, selectable))
      : html`<tr><td colspan="10" class="muted">No attempts match.</td></tr>`
  }</tbody>
</table></div>`;
  const pager = html`<nav class="pager" aria-label="Pages">
  ${query.cursor ? html`<a href="${context.href(`/attempts${filterQuery ? `?${filterQuery}` : ''}`)}">« First page</a>` : ''}
  ${
    page.nextCursor
      ? html`<a rel="next" href="${context.href(`/attempts?${new URLSearchParams([...new URLSearchParams(filterQuery), ['after', page.nextCursor]])}`)}">Next page »</a>`
      : html`<span class="muted">End of list</span>`
  }
</nav>`;
  const body = selectable
    ? html`<form method="post" action="${context.href('/actions')}">
${csrfField(context)}
<input type="hidden" name="back" value="${back}">
${FILTER_PARAMS.map((name) => html`<input type="hidden" name="${name}" value="${query.form[name]}">`)}
<div class="actions">${actionButtons('selected', '')}</div>
${table}
<div class="actions">${actionButtons('all', '')}</div>
</form>`
    : table;
  return layout(
    context,
    'attempts',
    'Attempts',
    html`<h1>Attempts</h1>${problems(query.problems)}${filterForm(context, query.form)}${body}${pager}`,
  );
}
