import { AsyncTaskError } from '../core/errors.js';
import { ATTEMPT_TRANSITIONS } from '../core/transitions.js';
import type { AttemptStatus } from '../core/types.js';
import type { AttemptFilter } from '../store/dashboard-store.js';
import type { PageContext } from './context.js';
import { describeFilter, FILTER_PARAMS, parseListQuery } from './filter.js';
import { formatCount } from './format.js';
import { html, type SafeHtml } from './html.js';
import { csrfField, layout } from './layout.js';

/** `run` ("run now": a pending attempt waiting on backoff becomes due now) acts on selected ids only. */
export type ActionName = 'retry' | 'expire' | 'fail' | 'run';
type BulkAction = Exclude<ActionName, 'run'>;

/** The statuses each action moves attempts out of: the transitions table the API enforces under the lock. */
const FROM: Record<BulkAction, readonly AttemptStatus[]> = {
  retry: ATTEMPT_TRANSITIONS.retry.from,
  expire: ATTEMPT_TRANSITIONS.expire.from,
  fail: ATTEMPT_TRANSITIONS.fail.from,
};
const PAST: Record<ActionName, string> = { retry: 'Retried', expire: 'Expired', fail: 'Failed', run: 'Made' };
const VERB: Record<BulkAction, string> = { retry: 'Retry', expire: 'Expire', fail: 'Fail' };
/** The status an action leaves attempts in: where the result page links to. */
const TO: Record<ActionName, AttemptStatus> = { retry: 'pending', expire: 'expired', fail: 'failed', run: 'pending' };
const ID = /^[1-9][0-9]{0,18}$/;
const MAX_SELECTED = 1000;
const BATCH = 500;
const MESSAGES_SHOWN = 20;

export interface ActionResult {
  readonly status: number;
  readonly page: SafeHtml;
}

/** A path inside the dashboard to go back to; anything else falls back to the list. */
function safeBack(value: string | null): string {
  if (value?.startsWith('/') && !value.startsWith('//') && !/[\\\s]/.test(value) && value.length < 2000) {
    return value;
  }
  return '/attempts';
}

function page(context: PageContext, title: string, body: SafeHtml, status = 200): ActionResult {
  return { status, page: layout(context, 'attempts', title, html`<h1>${title}</h1>${body}`) };
}

interface Outcome {
  changed: number;
  conflicts: string[];
}

async function apply(context: PageContext, action: ActionName, ids: string[], outcome: Outcome): Promise<void> {
  const { asyncTask } = context.options;
  if (action === 'run') {
    const changed = new Set(await context.store.dashboardRunNow(ids));
    outcome.changed += changed.size;
    for (const id of ids) {
      if (!changed.has(id)) outcome.conflicts.push(`Attempt ${id} is not pending with a later due time`);
    }
    return;
  }
  for (const id of ids) {
    try {
      await asyncTask[action](id);
      outcome.changed++;
    } catch (error) {
      // A state conflict (or a row gone meanwhile) is the user's news, not a server error.
      if (!(error instanceof AsyncTaskError)) throw error;
      outcome.conflicts.push(error.message);
    }
  }
}

/** Eligible rows only: a filter narrowed to each status the action moves attempts out of. */
function eligibleFilters(filter: AttemptFilter, action: BulkAction): AttemptFilter[] {
  const statuses = FROM[action].filter((status) => filter.status === undefined || filter.status === status);
  return statuses.map((status) => ({ ...filter, status }));
}

async function applyToMatching(context: PageContext, action: BulkAction, filters: AttemptFilter[], outcome: Outcome) {
  let budget = context.options.bulkLimit;
  for (const filter of filters) {
    let afterId: string | null = null;
    while (budget > 0) {
      const ids = await context.store.dashboardAttemptIds(filter, afterId, Math.min(BATCH, budget));
      if (ids.length === 0) break;
      budget -= ids.length;
      await apply(context, action, ids, outcome);
      afterId = ids.at(-1)!;
    }
  }
}

/** Where the changed attempts are now: the attempt's page for one id, else the list filtered to their new status. */
function changedLink(context: PageContext, action: ActionName, ids: readonly string[] | null, form: URLSearchParams) {
  if (ids?.length === 1)
    return html`<a href="${context.href(`/attempts/${ids[0]}`)}" data-testid="changed-link">Attempt ${ids[0]}</a>`;
  const query = new URLSearchParams();
  if (ids === null) {
    for (const name of FILTER_PARAMS) {
      const value = form.get(name);
      if (value) query.set(name, value);
    }
  }
  query.set('status', TO[action]);
  return html`<a href="${context.href(`/attempts?${query}`)}" data-testid="changed-link">${TO[action]} attempts</a>`;
}

function resultBody(
  context: PageContext,
  action: ActionName,
  outcome: Outcome,
  back: string,
  changed: SafeHtml,
): SafeHtml {
  const shown = outcome.conflicts.slice(0, MESSAGES_SHOWN);
  return html`<p class="notice" role="status" data-testid="action-result">${PAST[action]} ${formatCount(outcome.changed)} attempt${outcome.changed === 1 ? '' : 's'}${action === 'run' ? ' due now' : ''}.</p>
${
  outcome.conflicts.length > 0
    ? html`<div class="problem" role="alert" data-testid="action-conflicts"><p>${formatCount(outcome.conflicts.length)} could not be changed:</p>
<ul>${shown.map((message) => html`<li>${message}</li>`)}</ul>
${outcome.conflicts.length > shown.length ? html`<p>…and ${formatCount(outcome.conflicts.length - shown.length)} more.</p>` : ''}</div>`
    : ''
}
<p>${outcome.changed > 0 ? html`See ${changed} · ` : ''}<a href="${context.href(back)}">« Back</a></p>`;
}

/** Handles one submitted action form (CSRF already checked). Conflicts come back as messages, never as a 500. */
export async function handleAction(context: PageContext, form: URLSearchParams): Promise<ActionResult> {
  const back = safeBack(form.get('back'));
  const match = /^(?:(retry|expire|fail):(selected|all)|(run):selected)$/.exec(form.get('op') ?? '');
  if (!match) {
    return page(context, 'Unknown action', html`<p class="problem">Choose retry, expire, fail or run now.</p>`, 400);
  }
  const action = (match[1] ?? match[3]) as ActionName;
  const outcome: Outcome = { changed: 0, conflicts: [] };
  let selected: string[] | null = null;

  if (action === 'run' || match[2] === 'selected') {
    const ids = [...new Set(form.getAll('id').filter((id) => ID.test(id)))];
    if (ids.length === 0) {
      return page(
        context,
        'Nothing selected',
        html`<p class="problem">Select at least one attempt.</p><p><a href="${context.href(back)}">« Back</a></p>`,
        400,
      );
    }
    selected = ids.slice(0, MAX_SELECTED);
    await apply(context, action, selected, outcome);
  } else {
    const { filter } = parseListQuery(form);
    const filters = eligibleFilters(filter, action);
    if (form.get('confirmed') !== 'yes') {
      const counts = await Promise.all(filters.map((f) => context.store.dashboardAttemptCount(f)));
      const count = counts.reduce((sum, n) => sum + n, 0);
      const statuses = FROM[action].join(' or ');
      const limited = count > context.options.bulkLimit;
      const body = html`<p>Matching: ${describeFilter(filter)}.</p>
<p data-testid="confirm-count"><strong>${formatCount(count)}</strong> matching attempt${count === 1 ? ' is' : 's are'} ${statuses}: ${action} ${count === 1 ? 'it' : 'them'}?</p>
${limited ? html`<p class="problem">One click changes at most ${formatCount(context.options.bulkLimit)}; click again for the rest.</p>` : ''}
<form class="actions" method="post" action="${context.href('/actions')}">
${csrfField(context)}
<input type="hidden" name="op" value="${action}:all">
<input type="hidden" name="confirmed" value="yes">
<input type="hidden" name="back" value="${back}">
${FILTER_PARAMS.map((name) => html`<input type="hidden" name="${name}" value="${form.get(name) ?? ''}">`)}
<button type="submit"${action === 'retry' ? '' : html` class="danger"`}${count === 0 ? html` disabled` : ''}>${VERB[action]} ${formatCount(Math.min(count, context.options.bulkLimit))} attempts</button>
<a href="${context.href(back)}">Cancel</a>
</form>`;
      return page(context, `Confirm: ${action} all matching`, body);
    }
    await applyToMatching(context, action, filters, outcome);
  }
  context.options.logger.info('async-task dashboard action', {
    action,
    changed: outcome.changed,
    conflicts: outcome.conflicts.length,
  });
  const changed = changedLink(context, action, selected, form);
  return page(
    context,
    action === 'run' ? 'Run now' : `${PAST[action]} attempts`,
    resultBody(context, action, outcome, back, changed),
  );
}
