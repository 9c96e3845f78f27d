// Issue 9, items 3–6, and the probes that held: auth bypass paths, XSS in every stored field, cross-site
// posts, read-only bypass, open redirects. Over the fetch-style handler, and over real sockets where the
// framework in front matters.
import type http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, expect, it } from 'vitest';
import { createDashboard, type DashboardHandler, toNodeListener } from '../../src/dashboard/index.js';
import { createAsyncTask } from '../../src/index.js';
import { DashboardClient } from '../dashboard/client.js';
import { seed } from '../dashboard/seed.js';
import { forEachDialect } from '../support/suite.js';

const noRetry = { retry: { maxAttempts: 1 } };
const servers: http.Server[] = [];
afterEach(async () => {
  while (servers.length > 0) {
    const server = servers.pop()!;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** An Express app with the guard at the app level, as many apps write it, and the dashboard at the root. */
async function expressWithGuard(handler: DashboardHandler): Promise<number> {
  const app = express();
  app.use('/admin/tasks', (req, res, next) => {
    if (req.headers['x-admin'] === 'yes') return next();
    res.status(401).send('login first');
  });
  app.use(toNodeListener(handler));
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return (server.address() as AddressInfo).port;
}

/** Sends one request exactly as written (no client normalises the target) and returns status and body. */
function raw(port: number, head: string, body = ''): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk;
    });
    socket.on('error', reject);
    socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1]), text: data }));
    socket.write(
      `${head}\r\nHost: 127.0.0.1\r\nConnection: close\r\n${body ? `Content-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/x-www-form-urlencoded\r\n` : ''}\r\n${body}`,
    );
  });
}

const cookieOf = (response: Response) => /async_task_csrf=([^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1];

forEachDialect('security: dashboard', (env) => {
  it('item 3: a `//host/…`, absolute-form or dot-segment target cannot walk around a guard in front', async () => {
    const e = await env();
    const asyncTask = await e.make(noRetry);
    const ids = await seed(e, asyncTask);
    const port = await expressWithGuard(createDashboard({ asyncTask, basePath: '/admin/tasks' }));
    expect((await raw(port, 'GET /admin/tasks/attempts HTTP/1.1')).status).toBe(401);
    expect((await raw(port, 'GET /admin/tasks/attempts HTTP/1.1\r\nX-Admin: yes')).status).toBe(200);
    for (const target of [
      '//evil/admin/tasks/attempts',
      'http://evil/admin/tasks/attempts',
      '/public/../admin/tasks/attempts',
      '/public/%2e%2e/admin/tasks/attempts',
      '/public/%2E%2E/admin/tasks/attempts',
      '/./admin/tasks/attempts',
    ]) {
      const response = await raw(port, `GET ${target} HTTP/1.1`);
      expect([400, 401, 404], target).toContain(response.status);
      expect(response.text, target).not.toContain('data-id=');
    }
    const post = await raw(port, 'POST //evil/admin/tasks/actions HTTP/1.1', `op=retry:selected&id=${ids.exploded[0]}`);
    expect(post.status).toBe(400);
    expect((await asyncTask.find(ids.exploded[0]!))?.status).toBe('failed');
  });

  it('item 4: a CSRF pair is bound to the access level and to identify(): nobody else’s request accepts it', async () => {
    const e = await env();
    const asyncTask = await e.make(noRetry);
    const ids = await seed(e, asyncTask);
    const user = (request: Request) => request.headers.get('x-user') ?? '';
    const dashboard = createDashboard({
      asyncTask,
      authorize: (request) => (user(request) === 'viewer' ? 'read-only' : user(request) !== ''),
    });
    const page = await dashboard(new Request('http://dashboard.test/attempts', { headers: { 'x-user': 'viewer' } }));
    const viewerToken = cookieOf(page)!;
    expect(viewerToken).toBeTruthy();
    // The viewer plants their own cookie and token on an admin's browser (a sibling subdomain can set cookies).
    const act = (who: string, token: string, extra: Record<string, string> = {}) =>
      dashboard(
        new Request('http://dashboard.test/actions', {
          method: 'POST',
          headers: {
            'x-user': who,
            cookie: `async_task_csrf=${token}`,
            'content-type': 'application/x-www-form-urlencoded',
            ...extra,
          },
          body: new URLSearchParams({ _csrf: token, op: 'retry:selected', id: ids.exploded[0]! }).toString(),
        }),
      );
    expect((await act('admin', viewerToken)).status).toBe(403);
    expect((await asyncTask.find(ids.exploded[0]!))?.status).toBe('failed');

    const bound = createDashboard({ asyncTask, authorize: (request) => user(request) !== '', identify: user });
    const alice = cookieOf(await bound(new Request('http://dashboard.test/', { headers: { 'x-user': 'alice' } })))!;
    const bobRequest = (token: string) =>
      bound(
        new Request('http://dashboard.test/actions', {
          method: 'POST',
          headers: {
            'x-user': 'bob',
            cookie: `async_task_csrf=${token}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams({ _csrf: token, op: 'retry:selected', id: ids.exploded[0]! }).toString(),
        }),
      );
    expect((await bobRequest(alice)).status).toBe(403);
    const bob = cookieOf(await bound(new Request('http://dashboard.test/', { headers: { 'x-user': 'bob' } })))!;
    expect((await bobRequest(bob)).status).toBe(200);
    expect((await asyncTask.find(ids.exploded[0]!))?.status).toBe('pending');
  });

  it('item 5: a fetch-style body past the limit is cut off while reading, not read whole first', async () => {
    const e = await env();
    const asyncTask = await e.make(noRetry);
    const dashboard = createDashboard({ asyncTask });
    const chunk = new Uint8Array(64 * 1024).fill(0x61);
    let pulled = 0;
    const total = 32 * 1024 * 1024;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= total) return controller.close();
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const response = await dashboard(
      new Request('http://dashboard.test/actions', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        duplex: 'half',
      } as RequestInit),
    );
    expect(response.status).toBe(413);
    expect(pulled).toBeLessThan(2 * 1024 * 1024);
  });

  it('item 6: out-of-range ids and cursors and NUL in a filter answer 404 or a message, never 500', async () => {
    const e = await env();
    const asyncTask = await e.make(noRetry);
    await seed(e, asyncTask);
    const client = DashboardClient.over(createDashboard({ asyncTask }));
    expect((await client.get('/attempts/9999999999999999999')).status).toBe(404);
    expect((await client.get('/attempts/9223372036854775808')).status).toBe(404);
    for (const query of [
      'after=1_9999999999999999999',
      'after=99999999999999999999_1',
      'target=%00',
      'method=a%00b',
      'token=%00',
      'status=%00',
      'from=%00',
    ]) {
      const page = await client.get(`/attempts?${query}`);
      expect(page.status, query).toBe(200);
      expect(page.text, query).toContain('class="problem"');
    }
    await client.get('/attempts');
    const action = await client.post('/actions', { op: 'retry:selected', id: '9999999999999999999' });
    expect(action.status).toBeLessThan(500);
    const all = await client.post('/actions', { op: 'retry:all', target: 'x\u0000', confirmed: 'yes' });
    expect(all.status).toBeLessThan(500);
  });

  it('held: every route asks for credentials; no path spelling, method or wrong password gets past', async () => {
    const e = await env();
    const asyncTask = await e.make(noRetry);
    const ids = await seed(e, asyncTask);
    const dashboard = createDashboard({
      asyncTask,
      basePath: '/admin/tasks',
      basicAuth: { username: 'ops', password: 'pw' },
    });
    const basic = (pair: string) => ({ authorization: `Basic ${Buffer.from(pair).toString('base64')}` });
    const paths = ['', '/', '/attempts', `/attempts/${ids.due}`, '/targets', '/attempts?status=failed', '/%61ttempts'];
    for (const headers of [
      {},
      basic('ops:wrong'),
      basic('ops'),
      basic('other:pw'),
      basic(':pw'),
      { authorization: 'Bearer pw' },
    ]) {
      for (const path of paths) {
        const response = await dashboard(new Request(`http://dashboard.test/admin/tasks${path}`, { headers }));
        expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
      }
      const post = await dashboard(
        new Request('http://dashboard.test/admin/tasks/actions', {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
          body: `op=retry:selected&id=${ids.exploded[0]}`,
        }),
      );
      expect(post.status).toBe(401);
    }
    for (const path of ['/ADMIN/tasks/attempts', '/admin/tasks/../tasks/attempts', '/admin/tasksx/attempts']) {
      expect((await dashboard(new Request(`http://dashboard.test${path}`))).status, path).not.toBe(200);
    }
    expect(
      (await dashboard(new Request('http://dashboard.test/admin/tasks/attempts', { headers: basic('ops:pw') }))).status,
    ).toBe(200);
    expect((await asyncTask.find(ids.exploded[0]!))?.status).toBe('failed');
  });

  it('held: markup in every stored field renders as text on every page', async () => {
    const e = await env();
    const evil = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
    const targets = {
      [evil]: {
        async [evil](_args: unknown) {
          throw new Error(evil);
        },
      },
    };
    const asyncTask = createAsyncTask({ db: e.db.driver(), targets, retry: { maxAttempts: 1 } });
    await asyncTask.migrate();
    const attempt = await e.db.inTransaction((tx) =>
      asyncTask.enqueue(tx, evil, evil as never, { html: evil } as never, { idempotenceToken: evil }),
    );
    await asyncTask.perform(attempt.id);
    const client = DashboardClient.over(createDashboard({ asyncTask, showArgs: true }));
    for (const path of [
      '/',
      '/attempts',
      `/attempts/${attempt.id}`,
      '/targets',
      `/attempts?target=${encodeURIComponent(evil)}`,
    ]) {
      const page = await client.get(path);
      expect(page.status, path).toBe(200);
      expect(page.text, path).not.toContain('<img src=x');
      expect(page.text, path).not.toContain('<script>window');
    }
    const detail = (await client.get(`/attempts/${attempt.id}`)).text;
    expect(detail).toContain('&lt;img src=x');
    expect(detail.match(/&lt;script&gt;/g)?.length).toBeGreaterThanOrEqual(3);
  });

  it('held: cross-site posts, read-only mode and open redirects', async () => {
    const e = await env();
    const asyncTask = await e.make(noRetry);
    const ids = await seed(e, asyncTask);
    const crossSite = DashboardClient.over(createDashboard({ asyncTask }), { 'sec-fetch-site': 'cross-site' });
    await crossSite.get('/attempts');
    expect((await crossSite.post('/actions', { op: 'retry:selected', id: ids.exploded[0]! })).status).toBe(403);

    const readOnly = DashboardClient.over(createDashboard({ asyncTask, readOnly: true }));
    const list = await readOnly.get('/attempts');
    expect(list.text).not.toContain('name="op"');
    const token = /async_task_csrf=/.test(list.headers.get('set-cookie') ?? '') ? readOnly.csrf : null;
    expect(
      (
        await readOnly.post('/actions', {
          ...(token ? { _csrf: token } : {}),
          op: 'retry:selected',
          id: ids.exploded[0]!,
        })
      ).status,
    ).toBe(403);
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      const response = await createDashboard({ asyncTask, readOnly: true })(
        new Request('http://dashboard.test/actions', { method }),
      );
      expect(response.status, method).toBe(405);
    }
    expect((await asyncTask.find(ids.exploded[0]!))?.status).toBe('failed');

    const client = DashboardClient.over(createDashboard({ asyncTask, basePath: '/admin/tasks' }));
    await client.get('/admin/tasks/attempts');
    for (const back of ['https://evil.example/', '//evil.example/', '/\\evil.example/', ' /x', 'javascript:alert(1)']) {
      const page = await client.post('/admin/tasks/actions', { op: 'retry:selected', back });
      // Every link but the inline favicon (a data: URL of the layout's own).
      const links = [...page.text.matchAll(/href="([^"]*)"/g)]
        .map((match) => match[1]!)
        .filter((link) => !link.startsWith('data:image/svg+xml,'));
      expect(links.length).toBeGreaterThan(0);
      for (const link of links) expect(link, back).toMatch(/^\/admin\/tasks(?:\/|$)/);
      expect(page.headers.get('location')).toBeNull();
    }
  });
});
