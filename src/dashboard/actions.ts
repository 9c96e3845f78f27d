import { AsyncTaskError } from '../core/errors.js';
import { ATTEMPT_TRANSITIONS } from '../core/transitions.js';
import type { AttemptStatus } from '../core/types.js';
import type { AttemptFilter } from '../store/dashboard-store.js';
import type { PageContext } from './context.js';
import { describeFilter, FILTER_PARAMS, parseListQuery } from './filter.js';
import { formatCount } from './format.js';
import { html, type SafeHtml } from './html.js';
import { csrfField, layout } from './layout.js';

export type ActionName = 'retry' | 'expire' | 'fail';

/** The statuses each action moves attempts out of: the transitions table the API enforces under the lock. */
const FROM: Record<ActionName, readonly AttemptStatus[]> = {
  retry: ATTEMPT_TRANSITIONS.retry.from,
  expire: ATTEMPT_TRANSITIONS.expire.from,
  fail: ATTEMPT_TRANSITIONS.fail.from,
};
const PAST: Record<ActionName, string> = { retry: 'Retried', expire: 'Expired', fail: 'Failed' };
const VERB: Record<ActionName, string> = { retry: 'Retry', expire: 'Expire', fail: 'Fail' };
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

async function apply(context: PageContext, action: ActionName, ids: Iterable<string>, outcome: Outcome): Promise<void> {
  const { asyncTask } = context.options;
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
function eligibleFilters(filter: AttemptFilter, action: ActionName): AttemptFilter[] {
  const statuses = FROM[action].filter((status) => filter.status === undefined || filter.status === status);
  return statuses.map((status) => ({ ...filter, status }));
}

async function applyToMatching(context: PageContext, action: ActionName, filters: AttemptFilter[], outcome: Outcome) {
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

function resultBody(context: PageContext, action: ActionName, outcome: Outcome, back: string): SafeHtml {
  const shown = outcome.conflicts.slice(0, MESSAGES_SHOWN);
  return html`<p class="notice" role="status" data-testid="action-result">${PAST[action]} ${formatCount(outcome.changed)} attempt${outcome.changed === 1 ? '' : 's'}.</p>
${
  outcome.conflicts.length > 0
    ? html`<div class="problem" role="alert" data-testid="action-conflicts"><p>${formatCount(outcome.conflicts.length)} could not be changed:</p>
<ul>${shown.map((message) => html`<li>${message}</li>`)}</ul>
${outcome.conflicts.length > shown.length ? html`<p>…and ${formatCount(outcome.conflicts.length - shown.length)} more.</p>` : ''}</div>`
    : ''
}
<p><a href="${context.href(back)}">« Back</a></p>`;
}

/** Handles one submitted action form (CSRF already checked). Conflicts come back as messages, never as a 500. */
export async function handleAction(context: PageContext, form: URLSearchParams): Promise<ActionResult> {
  const back = safeBack(form.get('back'));
  const match = /^(retry|expire|fail):(selected|all)$/.exec(form.get('op') ?? '');
  if (!match) {
    return page(context, 'Unknown action', html`<p class="problem">Choose retry, expire or fail.</p>`, 400);
  }
  const action = match[1] as ActionName;
  const outcome: Outcome = { changed: 0, conflicts: [] };

  if (match[2] === 'selected') {
    const ids = [...new Set(form.getAll('id').filter((id) => ID.test(id)))];
    if (ids.length === 0) {
      return page(
        context,
        'Nothing selected',
        html`<p class="problem">Select at least one attempt.</p><p><a href="${context.href(back)}">« Back</a></p>`,
        400,
      );
    }
    await apply(context, action, ids.slice(0, MAX_SELECTED), outcome);
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
<button type="submit" class="danger"${count === 0 ? html` disabled` : ''}>${VERB[action]} ${formatCount(Math.min(count, context.options.bulkLimit))} attempts</button>
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
  return page(context, `${PAST[action]} attempts`, resultBody(context, action, outcome, back));
}
