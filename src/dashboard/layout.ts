import type { PageContext } from './context.js';
import { CSRF_FIELD } from './csrf.js';
import { html, type SafeHtml } from './html.js';

/** An inline icon (a data: URL needs no route, so no 404 on every page load). */
const FAVICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%23111827'/%3E%3Cpath d='M4 8.5l2.5 2.5L12 5' stroke='%232f855a' stroke-width='2' fill='none'/%3E%3C/svg%3E";

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
<link rel="icon" href="${FAVICON}">
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
  <label class="live" title="Reload this page every 5 seconds"><input type="checkbox" data-live-refresh> live</label>
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
