import type { Attempt } from '../../core/types.js';
import { RUN_ERRORS_KEPT, type RunError } from '../../store/run-errors.js';
import { canAct, type PageContext } from '../context.js';
import { formatTime, statusBadge } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, layout } from '../layout.js';

async function argsBlock(context: PageContext, attempt: Attempt): Promise<SafeHtml> {
  if (context.options.showArgs) {
    try {
      const args = await context.options.asyncTask.decodeArgs(attempt);
      return html`<pre data-testid="args">${JSON.stringify(args, null, 2) ?? String(args)}</pre>`;
    } catch (error) {
      return html`<p class="problem" data-testid="args">Could not decrypt: ${(error as Error).message}</p>`;
    }
  }
  if (attempt.encryptor === 'null') {
    return html`<p class="muted" data-testid="args">Hidden: stored unencrypted (${attempt.methodArgs.length} characters). Set <code>showArgs: true</code> to show arguments.</p>`;
  }
  return html`<p class="muted">Encrypted by ${attempt.encryptor}; shown as stored. Set <code>showArgs: true</code> to decrypt.</p>
<pre data-testid="args">${attempt.methodArgs}</pre>`;
}

/** Each failed run's error, newest first; says which older runs the store no longer keeps. */
function runErrorsBlock(attempt: Attempt, errors: readonly RunError[]): SafeHtml {
  if (errors.length === 0) {
    return attempt.lastError === null
      ? html`<p class="muted" data-testid="run-errors">No run of this attempt has failed.</p>`
      : html`<p class="muted" data-testid="run-errors">No errors recorded per run (the last error above predates them).</p>`;
  }
  const newest = errors[0]!.run;
  const dropped =
    newest > RUN_ERRORS_KEPT
      ? html`<p class="muted" data-testid="run-errors-dropped">Errors are kept for the last ${RUN_ERRORS_KEPT} runs: those of runs 1–${newest - RUN_ERRORS_KEPT} are no longer kept.</p>`
      : html``;
  return html`<table class="run-errors" data-testid="run-errors">
<thead><tr><th>run</th><th>failed</th></tr></thead>
<tbody>${errors.map(
    // The error on a row of its own, the table's full width: a stack trace reads at phone width too.
    (entry) =>
      html`<tr data-run="${entry.run}"><td>${entry.run}</td><td>${formatTime(entry.failedAt)}</td></tr>
<tr class="run-error"><td colspan="2"><pre>${entry.error}</pre></td></tr>`,
  )}</tbody>
</table>
${dropped}`;
}

function actions(context: PageContext, attempt: Attempt): SafeHtml {
  if (!canAct(context)) return html``;
  const waiting =
    attempt.status === 'pending' && attempt.scheduledAt !== null && attempt.scheduledAt.getTime() > Date.now();
  const allowed =
    attempt.status === 'pending'
      ? [...(waiting ? ['run'] : []), 'expire', 'fail']
      : attempt.status === 'succeeded'
        ? []
        : ['retry'];
  if (allowed.length === 0) return html``;
  return html`<form class="actions" method="post" action="${context.href('/actions')}">
${csrfField(context)}
<input type="hidden" name="id" value="${attempt.id}">
<input type="hidden" name="back" value="/attempts/${attempt.id}">
${allowed.map(
  (action) =>
    html`<button type="submit" name="op" value="${action}:selected"${action === 'retry' || action === 'run' ? '' : html` class="danger"`}>${action === 'run' ? 'Run now' : `${action[0]!.toUpperCase()}${action.slice(1)}`}</button>`,
)}
</form>`;
}

export async function attemptDetailPage(context: PageContext, attempt: Attempt): Promise<SafeHtml> {
  const fields: [string, SafeHtml | string | number][] = [
    ['id', attempt.id],
    ['status', statusBadge(attempt.status)],
    ['target', attempt.target],
    ['method', attempt.methodName],
    ['idempotence token', attempt.idempotenceToken ?? '—'],
    ['runs (num_attempts)', attempt.numAttempts],
    ['scheduled at', formatTime(attempt.scheduledAt)],
    ['completed at', formatTime(attempt.completedAt)],
    ['created at', formatTime(attempt.createdAt)],
    ['updated at', formatTime(attempt.updatedAt)],
    ['encryptor', attempt.encryptor],
    ['lease owner', attempt.leaseOwner ?? '—'],
    ['lease expires at', formatTime(attempt.leaseExpiresAt)],
  ];
  const body = html`<p><a href="${context.href('/attempts')}">« Attempts</a></p>
<h1>Attempt ${attempt.id}: ${attempt.target}.${attempt.methodName}</h1>
${actions(context, attempt)}
<dl class="fields">${fields.map(([name, value]) => html`<dt>${name}</dt><dd>${value}</dd>`)}</dl>
<h2>Last error</h2>
${attempt.lastError === null ? html`<p class="muted">None.</p>` : html`<pre data-testid="last-error">${attempt.lastError}</pre>`}
<h2>Errors by run</h2>
${runErrorsBlock(attempt, await context.store.dashboardAttemptErrors(attempt.id, RUN_ERRORS_KEPT))}
<h2>Arguments</h2>
${await argsBlock(context, attempt)}`;
  return layout(context, 'attempts', `Attempt ${attempt.id}`, body);
}
