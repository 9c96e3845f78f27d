import http from 'node:http';
import type { DashboardHandler } from './dashboard.js';

const MAX_BODY_BYTES = 1024 * 1024;

/** The part of Node's (and Express's) request the adapter reads. */
type NodeRequest = http.IncomingMessage & { originalUrl?: string };

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

function toRequest(request: NodeRequest, body: Buffer | undefined): Request {
  const host = request.headers.host ?? 'localhost';
  const protocol = (request.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  // Express strips its mount path from `url`; `originalUrl` keeps it.
  const url = new URL(request.originalUrl ?? request.url ?? '/', `${protocol}://${host}`);
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
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
        const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
        const response = await handler(toRequest(req, hasBody ? await readBody(req) : undefined));
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
