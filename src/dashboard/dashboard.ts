import { handleAction } from './actions.js';
import { SCRIPT, STYLESHEET } from './assets.js';
import { accessFor, identityOf } from './auth.js';
import type { PageContext } from './context.js';
import { CSRF_COOKIE, CSRF_FIELD, CsrfTokens, csrfCookie, readCookie } from './csrf.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';
import { type DashboardOptions, resolveOptions } from './options.js';
import { attemptDetailPage } from './views/attempt-detail.js';
import { attemptsPage } from './views/attempts.js';
import { overviewPage } from './views/overview.js';
import { recurringPage } from './views/recurring.js';
import { targetsPage } from './views/targets.js';

/** A fetch-style handler: mount it in any server that speaks `Request` and `Response`. */
export type DashboardHandler = (request: Request) => Promise<Response>;

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};
const MAX_FORM_BYTES = 256 * 1024;
const DETAIL = /^\/attempts\/([1-9][0-9]{0,18})$/;
/** A dashboard page's path after some prefix: where the dashboard seems to be mounted when the prefix is not its basePath. */
const MOUNTED_AT =
  /^(\/.*?)(\/|\/attempts(?:\/\d+)?|\/targets|\/recurring|\/actions|\/assets\/dashboard\.(?:css|js))?$/;

/** Not found, and how to mount: a request under `prefix` looks like the dashboard mounted there without that basePath. */
function mountHint(basePath: string, path: string): string {
  const expected = basePath === '' ? 'at the root (no basePath)' : `at ${basePath} (its basePath)`;
  const [, prefix, page] = MOUNTED_AT.exec(path) ?? [];
  // Inside its basePath, only a known page under a longer prefix suggests another mount point.
  const plausible = basePath === '' || !path.startsWith(`${basePath}/`) || page !== undefined;
  const mounted =
    prefix && plausible
      ? ` If it is mounted at ${prefix}, pass basePath: '${prefix}' to createDashboard (the full path, as the browser sees it).`
      : '';
  return `Not found: this dashboard is set up to be served ${expected}, and ${path} is not one of its pages.${mounted}`;
}

function respond(body: string | SafeHtml, status: number, headers: Record<string, string> = {}): Response {
  return new Response(String(body), {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS, ...headers },
  });
}

function plain(status: number, text: string, headers: Record<string, string> = {}): Response {
  return respond(text, status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
}

/** The body's text, read chunk by chunk and given up (the stream cancelled) past `limit` bytes: `null`. */
async function readLimited(request: Request, limit: number): Promise<string | null> {
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readForm(request: Request): Promise<URLSearchParams | 'too-large' | null> {
  const type = request.headers.get('content-type') ?? '';
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) return null;
  const length = Number(request.headers.get('content-length') ?? '0');
  if (length > MAX_FORM_BYTES) return 'too-large';
  const text = await readLimited(request, MAX_FORM_BYTES);
  return text === null ? 'too-large' : new URLSearchParams(text);
}

/**
 * Creates the dashboard: a `(request) => Promise<Response>` handler serving the overview, attempts,
 * attempt detail and targets pages under `basePath`, and acting through `asyncTask.retry/expire/fail`.
 */
export function createDashboard(options: DashboardOptions): DashboardHandler {
  const resolved = resolveOptions(options);
  const csrf = new CsrfTokens(resolved.csrfSecret);
  const { basePath, logger, store } = resolved;
  const href = (path: string) => `${basePath}${path === '/' && basePath !== '' ? '' : path}` || '/';

  const route = async (request: Request, url: URL, path: string): Promise<Response> => {
    if (request.method === 'GET' && path === '/assets/dashboard.css') {
      return respond(STYLESHEET, 200, {
        'content-type': 'text/css; charset=utf-8',
        'cache-control': 'private, max-age=300',
      });
    }
    if (request.method === 'GET' && path === '/assets/dashboard.js') {
      return respond(SCRIPT, 200, {
        'content-type': 'text/javascript; charset=utf-8',
        'cache-control': 'private, max-age=300',
      });
    }
    const access = await accessFor(request, resolved);
    if (access === 'login') {
      const realm = (resolved.basicAuth?.realm ?? 'AsyncTask').replace(/["\\]/g, '');
      return plain(401, 'Authentication required', { 'www-authenticate': `Basic realm="${realm}", charset="UTF-8"` });
    }
    if (access === 'none') return plain(403, 'Forbidden');

    const identity = await identityOf(request, resolved, access);
    const cookieToken = readCookie(request, CSRF_COOKIE);
    const csrfToken = csrf.isValid(cookieToken, identity) ? cookieToken : csrf.issue(identity);
    const headers: Record<string, string> =
      csrfToken === cookieToken ? {} : { 'set-cookie': csrfCookie(csrfToken, basePath, url.protocol === 'https:') };
    const context: PageContext = { options: resolved, store, url, access, csrfToken, href };
    const page = (body: SafeHtml, status = 200) => respond(body, status, headers);

    if (request.method === 'POST' && path === '/actions') {
      if (access !== 'full') return plain(403, 'Read-only: actions are disabled');
      if (request.headers.get('sec-fetch-site') === 'cross-site') return plain(403, 'Cross-site request refused');
      const form = await readForm(request);
      if (form === 'too-large') return plain(413, 'The form is too large');
      if (!form) return plain(415, 'Expected a form (application/x-www-form-urlencoded)');
      if (!csrf.verify(cookieToken, form.get(CSRF_FIELD), identity)) {
        return plain(403, 'Invalid or missing CSRF token: reload the page and try again', headers);
      }
      const result = await handleAction(context, form);
      return page(result.page, result.status);
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return plain(405, 'Method not allowed', { allow: 'GET, HEAD, POST' });
    }
    if (path === '/') return page(await overviewPage(context));
    if (path === '/attempts') return page(await attemptsPage(context));
    if (path === '/targets') return page(await targetsPage(context));
    if (path === '/recurring') return page(await recurringPage(context));
    const detail = DETAIL.exec(path);
    if (detail) {
      const attempt = await resolved.asyncTask.find(detail[1]!);
      if (attempt) return page(await attemptDetailPage(context, attempt));
      return page(layout(context, 'attempts', 'Not found', html`<h1>Attempt ${detail[1]} not found</h1>`), 404);
    }
    return page(
      layout(
        context,
        'none',
        'Not found',
        html`<h1>Not found</h1><p data-testid="mount-hint">${mountHint(basePath, url.pathname)}</p>`,
      ),
      404,
    );
  };

  return async (request) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return plain(400, 'Bad request');
    }
    const inside =
      url.pathname === basePath
        ? '/'
        : url.pathname.startsWith(`${basePath}/`)
          ? url.pathname.slice(basePath.length)
          : null;
    if (inside === null) return plain(404, mountHint(basePath, url.pathname));
    try {
      return await route(request, url, inside);
    } catch (error) {
      // The message only: arguments never reach the log.
      logger.error('async-task dashboard: request failed', {
        method: request.method,
        path: url.pathname,
        error: error instanceof Error ? error.message : String(error),
      });
      return plain(500, 'The dashboard could not answer this request; the error is in the server log.');
    }
  };
}
