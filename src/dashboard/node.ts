import http from 'node:http';
import type { DashboardHandler } from './dashboard.js';

const MAX_BODY_BYTES = 1024 * 1024;

/** The part of Node's (and Express's) request the adapter reads. */
type NodeRequest = http.IncomingMessage & { originalUrl?: string; body?: unknown };

/** A body a framework's parser already read (`express.urlencoded()` mounted before the dashboard). */
function parsedBody(request: NodeRequest): Buffer | undefined {
  const { body } = request;
  if (body === undefined || body === null) return undefined;
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body);
  if (typeof body !== 'object') return undefined;
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    for (const one of Array.isArray(value) ? value : [value]) form.append(name, String(one));
  }
  return Buffer.from(form.toString());
}

async function readBody(request: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * The request target as the framework in front saw it, or `null` when it cannot be mapped to the same path.
 * Only origin-form (`/path?query`) is taken, and only when URL parsing leaves it exactly as it was: `//host/…`,
 * absolute-form (`http://host/…`), dot segments and backslashes would otherwise reach a different path than
 * the one a guard or a proxy rule in front of the dashboard matched.
 */
function requestUrl(request: NodeRequest, protocol: string): URL | null {
  // Express strips its mount path from `url`; `originalUrl` keeps it.
  const target = request.originalUrl ?? request.url ?? '/';
  if (!target.startsWith('/') || target.startsWith('//')) return null;
  let url: URL;
  try {
    // A fixed origin: the Host header plays no part in routing.
    url = new URL(`${protocol}://dashboard.invalid${target}`);
  } catch {
    return null;
  }
  // `/path?` reads as `/path`: the same resource to every router.
  return `${url.pathname}${url.search}` === target.replace(/\?$/, '') ? url : null;
}

function toRequest(request: NodeRequest, body: Buffer | undefined): Request | null {
  const protocol = (request.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const parsed = requestUrl(request, protocol);
  if (!parsed) return null;
  const host = request.headers.host ?? 'localhost';
  let url: URL;
  try {
    url = new URL(`${parsed.pathname}${parsed.search}`, `${protocol}://${host}`);
  } catch {
    return null;
  }
  if (url.pathname !== parsed.pathname) return null;
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    // The body is handed over whole (and may have been re-encoded), so its framing headers do not apply.
    if (value === undefined || name === 'content-length' || name === 'transfer-encoding') continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return new Request(url, { method: request.method ?? 'GET', headers, ...(body && { body }) });
}

/**
 * Adapts the dashboard to Node's `(req, res)` listener shape: `http.createServer(toNodeListener(dashboard))`,
 * or `app.use('/admin/tasks', toNodeListener(dashboard))` in Express.
 */
export function toNodeListener(
  handler: DashboardHandler,
): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      try {
        if (!requestUrl(req, 'http')) {
          res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
          res.end('Bad request: the request target must be a plain path');
          return;
        }
        const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
        const body = hasBody ? ((req.readableEnded ? parsedBody(req) : undefined) ?? (await readBody(req))) : undefined;
        const request = toRequest(req, body);
        if (!request) throw new Error('unmappable request target');
        const response = await handler(request);
        const headers: Record<string, string | string[]> = {};
        response.headers.forEach((value, name) => {
          if (name !== 'set-cookie') headers[name] = value;
        });
        const cookies = response.headers.getSetCookie();
        if (cookies.length > 0) headers['set-cookie'] = cookies;
        res.writeHead(response.status, headers);
        res.end(req.method === 'HEAD' ? undefined : Buffer.from(await response.arrayBuffer()));
      } catch {
        if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('Bad request');
      }
    })();
  };
}

export interface ServeDashboardOptions {
  /** Default: 4000. */
  port?: number;
  /** Default: `127.0.0.1` (this machine only). */
  host?: string;
}

/** Serves the dashboard on its own Node HTTP server; resolves once listening. */
export async function serveDashboard(
  handler: DashboardHandler,
  options: ServeDashboardOptions = {},
): Promise<http.Server> {
  const server = http.createServer(toNodeListener(handler));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4000, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
