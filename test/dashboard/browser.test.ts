import fs from 'node:fs';
import type http from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard, serveDashboard } from '../../src/dashboard/index.js';
import { createAsyncTask } from '../../src/index.js';
import { type Dialect, dialects, type TestDb } from '../support/dialects.js';
import { type Env, sampleTargets } from '../support/suite.js';
import { seed } from './seed.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
// Screenshots go to docs/ when asked (ASYNC_TASK_SCREENSHOTS=1), else to a temp folder: a test run leaves the tree clean.
const SHOTS = process.env.ASYNC_TASK_SCREENSHOTS
  ? path.resolve('docs/screenshots')
  : fs.mkdtempSync(path.join(os.tmpdir(), 'async-task-shots-'));
const available = fs.existsSync(CHROMIUM);
if (!available && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs it with apt-get`);

describe.skipIf(!available)('dashboard in a real Chromium', () => {
  const dialect: Dialect<any> = dialects()[0]!;
  let db: TestDb<any>;
  let browser: Browser;
  let ids: Awaited<ReturnType<typeof seed>>;
  let asyncTask: ReturnType<typeof createAsyncTask<any, any>>;
  const servers: http.Server[] = [];
  let base = '';
  let guarded = '';

  const listen = async (server: Promise<http.Server> | http.Server) => {
    const ready = await server;
    if (!ready.listening) await new Promise<void>((resolve) => ready.listen(0, '127.0.0.1', () => resolve()));
    servers.push(ready);
    return `http://127.0.0.1:${(ready.address() as AddressInfo).port}`;
  };

  beforeAll(async () => {
    db = await dialect.create();
    const { targets } = sampleTargets(db);
    asyncTask = createAsyncTask({ db: db.driver(), targets, retry: { maxAttempts: 1 } });
    await asyncTask.migrate();
    const env: Env<any> = { db, calls: [], make: async () => asyncTask as any };
    ids = await seed(env, asyncTask as any);
    base = `${await listen(serveDashboard(createDashboard({ asyncTask, basePath: '/ops/tasks' }), { port: 0 }))}/ops/tasks`;
    const readOnly = createDashboard({
      asyncTask,
      basicAuth: { username: 'viewer', password: 's3cret-pass' },
      readOnly: true,
    });
    guarded = await listen(serveDashboard(readOnly, { port: 0 }));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
    await asyncTask?.close();
    await db?.close();
    await dialect.dispose();
  });

  const open = async (url: string, options: Parameters<Browser['newContext']>[0] = {}) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, ...options });
    const page = await context.newPage();
    const response = await page.goto(url);
    return { page, context, status: response?.status() };
  };
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  const listedIds = (page: Page) =>
    page.locator('tbody tr[data-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));

  it('loads each view', async () => {
    const { page, context } = await open(base);
    await expect(page.locator('h1').textContent()).resolves.toBe('Overview');
    await expect(page.locator('[data-status="succeeded"] .n').textContent()).resolves.toBe('4');
    await expect(page.locator('svg.chart rect[fill="#2f855a"]').count()).resolves.toBeGreaterThan(0);
    await shot(page, 'overview');
    await page.click('nav >> text=Attempts');
    await expect(listedIds(page)).resolves.toHaveLength(9);
    await shot(page, 'attempts');
    await page.click(`a[href="/ops/tasks/attempts/${ids.exploded[0]}"]`);
    await expect(page.locator('[data-testid="last-error"]').textContent()).resolves.toContain('card declined');
    await shot(page, 'attempt');
    await page.click('nav >> text=Targets');
    await expect(page.locator('tbody tr').count()).resolves.toBe(3);
    await shot(page, 'targets');
    await context.close();
  });

  it('fits 1280 px and 390 px: only the attempts table scrolls sideways; times are relative with the UTC time on hover', async () => {
    for (const [width, name] of [
      [1280, 'attempts'],
      [390, 'attempts-phone'],
    ] as const) {
      const { page, context } = await open(`${base}/attempts`, { viewport: { width, height: 860 } });
      const widths = await page.evaluate(() => {
        const { document, innerWidth } = globalThis as any;
        return {
          page: document.documentElement.scrollWidth as number,
          viewport: innerWidth as number,
          wrap: document.querySelector('.table-wrap').clientWidth as number,
          table: document.querySelector('.table-wrap table').scrollWidth as number,
        };
      });
      expect(widths.page, `${width} px`).toBeLessThanOrEqual(widths.viewport);
      if (width === 390) expect(widths.table).toBeGreaterThan(widths.wrap);
      const time = page.locator('tbody time').first();
      await expect(time.textContent()).resolves.toMatch(/ago$|^just now$|^in /);
      await expect(time.getAttribute('title')).resolves.toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
      await shot(page, name);
      await context.close();
    }
  });

  it('attempt page: the errors by run, inert, fit 1280 px and 390 px without sideways scrolling', async () => {
    for (const [width, name] of [
      [1280, null],
      [390, 'attempt-phone'],
    ] as const) {
      const { page, context } = await open(`${base}/attempts/${ids.exploded[1]}`, { viewport: { width, height: 860 } });
      const rows = page.locator('table.run-errors tbody tr[data-run]');
      await expect(rows.count()).resolves.toBe(1);
      await expect(rows.first().locator('td').first().textContent()).resolves.toBe('1');
      const error = page.locator('table.run-errors tr.run-error pre');
      await expect(error.textContent()).resolves.toContain('<script>window.__xss = 1</script>');
      await expect(rows.first().locator('time').getAttribute('title')).resolves.toMatch(/ UTC$/);
      await expect(page.evaluate(() => (globalThis as any).__xss)).resolves.toBeUndefined();
      const widths = await page.evaluate(() => {
        const { document, innerWidth } = globalThis as any;
        return { page: document.documentElement.scrollWidth as number, viewport: innerWidth as number };
      });
      expect(widths.page, `${width} px`).toBeLessThanOrEqual(widths.viewport);
      if (name) await shot(page, name);
      await context.close();
    }
  });

  it('has an icon (no favicon request) and an opt-in live refresh that reloads the page', async () => {
    const { page, context } = await open(`${base}/`);
    await expect(page.locator('link[rel="icon"]').getAttribute('href')).resolves.toMatch(/^data:image\/svg\+xml,/);
    const box = page.locator('input[data-live-refresh]');
    await expect(box.isChecked()).resolves.toBe(false);
    const reloaded = page.waitForEvent('load', { timeout: 15_000 });
    await box.check();
    await reloaded;
    // Remembered across pages of this browser.
    await page.click('nav >> text=Targets');
    await expect(page.locator('input[data-live-refresh]').isChecked()).resolves.toBe(true);
    await context.close();
  });

  it('reads without JavaScript', async () => {
    const { page, context } = await open(`${base}/attempts?status=succeeded`, { javaScriptEnabled: false });
    await expect(listedIds(page)).resolves.toEqual([...ids.fulfilled].reverse());
    await context.close();
  });

  it('filters, acts on a selection and shows the change', async () => {
    const { page, context } = await open(`${base}/attempts`);
    await page.selectOption('select[name="status"]', 'failed');
    await page.click('form.filters button[type="submit"]');
    expect(new URL(page.url()).searchParams.get('status')).toBe('failed');
    await expect(listedIds(page)).resolves.toEqual([...ids.exploded].reverse());
    await page.check(`input[name="id"][value="${ids.exploded[0]}"]`);
    await page.click('button[value="retry:selected"] >> nth=0');
    await expect(page.locator('[data-testid="action-result"]').textContent()).resolves.toBe('Retried 1 attempt.');
    await page.click('text=« Back');
    await expect(listedIds(page)).resolves.toEqual([ids.exploded[1]]);
    await page.goto(`${base}/attempts/${ids.exploded[0]}`);
    await expect(page.locator('.status').first().textContent()).resolves.toBe('pending');
    // A conflict: the attempt is pending now, so retrying it is refused with a message.
    await page.goto(`${base}/attempts?status=pending`);
    await page.check(`input[name="id"][value="${ids.exploded[0]}"]`);
    await page.click('button[value="retry:selected"] >> nth=0');
    await expect(page.locator('[data-testid="action-conflicts"]').textContent()).resolves.toContain(
      `Attempt ${ids.exploded[0]} is pending; expected failed or expired`,
    );
    await context.close();
  });

  it('acts on everything matching a filter after a count and a confirmation', async () => {
    const { page, context } = await open(`${base}/attempts?target=OrderClient&method=echo`);
    page.on('dialog', (dialog) => dialog.accept());
    await page.click('button[value="expire:all"]');
    await expect(page.locator('[data-testid="confirm-count"] strong').textContent()).resolves.toBe('3');
    await shot(page, 'confirm');
    await page.click('button:has-text("Expire 3 attempts")');
    await expect(page.locator('[data-testid="action-result"]').textContent()).resolves.toBe('Expired 3 attempts.');
    await page.goto(`${base}/attempts?status=expired`);
    await expect(listedIds(page)).resolves.toHaveLength(3);
    await context.close();
  });

  it('renders markup in errors and arguments inert', async () => {
    const { page, context } = await open(`${base}/attempts/${ids.exploded[1]}`);
    await expect(page.locator('[data-testid="last-error"]').textContent()).resolves.toContain(
      '<script>window.__xss = 1</script>',
    );
    await expect(page.evaluate(() => (globalThis as any).__xss)).resolves.toBeUndefined();
    await expect(page.locator('img').count()).resolves.toBe(0);
    await page.goto(`${base}/attempts`);
    await expect(page.evaluate(() => (globalThis as any).__xss)).resolves.toBeUndefined();
    await context.close();
  });

  it('refuses a forged cross-origin form post (CSRF) and changes nothing', async () => {
    const target = ids.exploded[1]!;
    const evil = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<form id="f" method="post" action="${base}/actions">
        <input name="op" value="retry:selected"><input name="id" value="${target}"></form>
        <script>document.getElementById('f').submit()</script>`);
    });
    const evilOrigin = await listen(evil);
    const { page, context } = await open(`${base}/attempts`);
    const answer = page.waitForResponse((response) => response.url().endsWith('/actions'));
    await page.goto(evilOrigin);
    expect((await answer).status()).toBe(403);
    expect((await asyncTask.find(target))?.status).toBe('failed');
    await context.close();
  });

  it('basic auth and read-only mode: 401 without credentials, no action buttons with them', async () => {
    // Headless Chromium cannot show the login prompt: it fails the navigation after the 401 arrives.
    const anonymous = await browser.newContext();
    const tab = await anonymous.newPage();
    const challenge = tab.waitForResponse(`${guarded}/attempts`);
    await tab.goto(`${guarded}/attempts`).catch(() => undefined);
    const response = await challenge;
    expect(response.status()).toBe(401);
    expect(response.headers()['www-authenticate']).toContain('Basic');
    await anonymous.close();
    const { page, context, status } = await open(`${guarded}/attempts`, {
      httpCredentials: { username: 'viewer', password: 's3cret-pass' },
    });
    expect(status).toBe(200);
    await expect(listedIds(page)).resolves.toHaveLength(9);
    await expect(page.locator('button[name="op"]').count()).resolves.toBe(0);
    await expect(page.locator('header .badge').textContent()).resolves.toBe('read-only');
    await context.close();
  });
});
