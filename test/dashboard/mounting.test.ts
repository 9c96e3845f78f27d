import fs from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { serve } from '@hono/node-server';
import Database from 'better-sqlite3';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard, type DashboardHandler, toNodeListener } from '../../src/dashboard/index.js';
import { sqlite } from '../../src/drivers/sqlite.js';
import { createAsyncTask } from '../../src/index.js';
import { DashboardClient } from './client.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'async-task-dashboard-'));
const database = new Database(path.join(dir, 'app.sqlite'));
const asyncTask = createAsyncTask({
  db: sqlite(database),
  targets: { Mailer: { async send(_args: { to: string }) {} } },
});
const dashboard = createDashboard({
  asyncTask,
  basePath: '/admin/tasks',
  basicAuth: { username: 'ops', password: 'correct horse' },
});
const login = { authorization: `Basic ${Buffer.from('ops:correct horse').toString('base64')}` };

type Close = () => Promise<void>;
const closers: Close[] = [];
const origin = (server: http.Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const listening = (server: http.Server) =>
  new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(origin(server))));
const closing = (server: http.Server) => () => new Promise<void>((resolve) => server.close(() => resolve()));

/** The mounting code shown in docs/dashboard.md, one per server. */
const servers: Record<string, (handler: DashboardHandler) => Promise<string>> = {
  async 'node:http'(handler) {
    const { createServer } = await import('node:http');
    const server = createServer(toNodeListener(handler));
    closers.push(closing(server));
    return listening(server);
  },
  async express(handler) {
    const app = express();
    app.use('/admin/tasks', toNodeListener(handler));
    const server = app.listen(0, '127.0.0.1');
    closers.push(closing(server));
    await new Promise((resolve) => server.once('listening', resolve));
    return origin(server);
  },
  async 'express, after express.urlencoded()'(handler) {
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.use('/admin/tasks', toNodeListener(handler));
    const server = app.listen(0, '127.0.0.1');
    closers.push(closing(server));
    await new Promise((resolve) => server.once('listening', resolve));
    return origin(server);
  },
  async fastify(handler) {
    const app = Fastify();
    const listener = toNodeListener(handler);
    await app.register(async (scope) => {
      // Leave bodies unread: the dashboard reads its own forms.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
      scope.all('/admin/tasks', (request, reply) => {
        reply.hijack();
        listener(request.raw, reply.raw);
      });
      scope.all('/admin/tasks/*', (request, reply) => {
        reply.hijack();
        listener(request.raw, reply.raw);
      });
    });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close());
    return address;
  },
  async hono(handler) {
    const app = new Hono();
    app.all('/admin/tasks', (c) => handler(c.req.raw));
    app.all('/admin/tasks/*', (c) => handler(c.req.raw));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as http.Server;
    closers.push(closing(server));
    await new Promise((resolve) => (server.listening ? resolve(null) : server.once('listening', resolve)));
    return origin(server);
  },
};

beforeAll(async () => {
  await asyncTask.migrate();
});

afterAll(async () => {
  for (const close of closers) await close();
  await asyncTask.close();
  database.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe.each(Object.keys(servers))('dashboard mounted in %s', (name) => {
  let base: string;
  beforeAll(async () => {
    base = await servers[name]!(dashboard);
  });

  it('asks for basic auth, then serves every page with security headers', async () => {
    const anonymous = await fetch(`${base}/admin/tasks`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm="AsyncTask"/);
    const wrong = await fetch(`${base}/admin/tasks`, {
      headers: { authorization: `Basic ${Buffer.from('ops:wrong').toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
    const client = DashboardClient.http(base, login);
    for (const page of ['/admin/tasks', '/admin/tasks/attempts', '/admin/tasks/targets']) {
      const response = await client.get(page);
      expect(response.status, page).toBe(200);
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect((await client.get('/admin/tasks/assets/dashboard.css')).headers.get('content-type')).toContain('text/css');
  });

  it('carries a form post with its CSRF cookie through to an action', async () => {
    const attempt = database.transaction(() => asyncTask.enqueueSync(database, 'Mailer', 'send', { to: name }))();
    const client = DashboardClient.http(base, login);
    await client.get(`/admin/tasks/attempts/${attempt.id}`);
    const result = await client.post('/admin/tasks/actions', { op: 'expire:selected', id: attempt.id });
    expect(result.status).toBe(200);
    expect(result.text).toContain('Expired 1 attempt.');
    expect((await asyncTask.find(attempt.id))?.status).toBe('expired');
    client.dropCookies();
    const noCookie = await client.post('/admin/tasks/actions', { op: 'retry:selected', id: attempt.id });
    expect(noCookie.status).toBe(403);
    expect((await asyncTask.find(attempt.id))?.status).toBe('expired');
  });
});
