import type { PageContext } from './context.js';
import { CSRF_FIELD } from './csrf.js';
import { html, type SafeHtml } from './html.js';

export type Section = 'overview' | 'attempts' | 'targets' | 'recurring' | 'none';

const NAV: readonly { section: Section; label: string; path: string }[] = [
  { section: 'overview', label: 'Overview', path: '/' },
  { section: 'attempts', label: 'Attempts', path: '/attempts' },
  { section: 'targets', label: 'Targets', path: '/targets' },
  { section: 'recurring', label: 'Schedules', path: '/recurring' },
];

export function layout(context: PageContext, section: Section, title: string, body: SafeHtml): SafeHtml {
  const { options } = context;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title} · ${options.title}</title>
<link rel="stylesheet" href="${context.href('/assets/dashboard.css')}">
<script src="${context.href('/assets/dashboard.js')}" defer></script>
</head>
<body>
<header>
  <a class="brand" href="${context.href('/')}">${options.title}</a>
  <nav>${NAV.map(
    (item) =>
      html`<a href="${context.href(item.path)}"${item.section === section ? html` aria-current="page"` : ''}>${item.label}</a> `,
  )}</nav>
  ${context.access === 'read-only' ? html`<span class="badge status status-expired">read-only</span>` : ''}
</header>
<main>
${body}
</main>
</body>
</html>`;
}

/** The hidden field every action form carries. */
export function csrfField(context: PageContext): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${context.csrfToken}">`;
}

export function problems(messages: readonly string[]): SafeHtml {
  return html`${messages.map((message) => html`<p class="problem" role="alert">${message}</p>`)}`;
}
