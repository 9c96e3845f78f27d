import type { DashboardHandler } from '../../src/dashboard/index.js';

export interface Page {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** A tiny browser over a fetch-style handler: keeps cookies, reads the CSRF field of the last page. */
export class DashboardClient {
  private cookies = new Map<string, string>();
  csrf: string | null = null;

  constructor(
    private readonly send: (request: Request) => Promise<Response>,
    private readonly origin = 'http://dashboard.test',
    private readonly extraHeaders: Record<string, string> = {},
  ) {}

  static over(handler: DashboardHandler, extraHeaders: Record<string, string> = {}): DashboardClient {
    return new DashboardClient(handler, 'http://dashboard.test', extraHeaders);
  }

  /** Over a real server: requests go through `fetch`. */
  static http(origin: string, extraHeaders: Record<string, string> = {}): DashboardClient {
    return new DashboardClient((request) => fetch(request, { redirect: 'manual' }), origin, extraHeaders);
  }

  private async request(method: string, path: string, body?: URLSearchParams): Promise<Page> {
    const headers = new Headers(this.extraHeaders);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    if (body) headers.set('content-type', 'application/x-www-form-urlencoded');
    const response = await this.send(
      new Request(`${this.origin}${path}`, { method, headers, ...(body && { body: body.toString() }) }),
    );
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    const text = await response.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(text);
    if (token) this.csrf = token[1]!;
    return { status: response.status, headers: response.headers, text };
  }

  get(path: string): Promise<Page> {
    return this.request('GET', path);
  }

  /** Posts a form; the CSRF token of the last page is added unless `fields` has its own `_csrf`. */
  post(path: string, fields: Record<string, string | string[]>): Promise<Page> {
    const body = new URLSearchParams();
    if (!('_csrf' in fields) && this.csrf) body.set('_csrf', this.csrf);
    for (const [name, value] of Object.entries(fields)) {
      for (const one of Array.isArray(value) ? value : [value]) body.append(name, one);
    }
    return this.request('POST', path, body);
  }

  dropCookies(): void {
    this.cookies.clear();
  }
}

/** Ids of the rows in an attempts table, in page order. */
export function rowIds(html: string): string[] {
  return [...html.matchAll(/<tr data-id="(\d+)">/g)].map((match) => match[1]!);
}
