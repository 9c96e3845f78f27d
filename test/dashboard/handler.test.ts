import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { internalsOf } from '../../src/async-task/internals.js';
import { createDashboard } from '../../src/dashboard/index.js';
import { aesGcmEncryptor } from '../../src/index.js';
import { forEachDialect } from '../support/suite.js';
import { DashboardClient, rowIds } from './client.js';
import { seed } from './seed.js';

const noRetry = { retry: { maxAttempts: 1 } };
const decodeAmpersands = (href: string) => href.replace(/&amp;/g, '&');

forEachDialect('dashboard handler', (env) => {
  it('overview: counts by status, the oldest due pending attempt, the last hour as a chart', async () => {
    const e = await env();
    const asyncTask = await e.make(noRetry);
    await seed(e, asyncTask);
    const client = DashboardClient.over(createDashboard({ asyncTask, basePath: '/admin/tasks' }));
    const page = await client.get('/admin/tasks');
    expect(page.status).toBe(200);
    const count = (status: string) =>
      new RegExp(`data-status="${status}">\\s*<span class="n">(\\d+)</span>`).exec(page.text)?.[1];
    expect([count('pending'), count('succeeded'), count('failed'), count('expired')]).toEqual(['3', '4', '2', '0']);
    expect(page.text).toMatch(/data-testid="oldest-due">\s*<span class="n">\d+s<\/span>/);
    expect(page.text).toContain('data-testid="hour-succeeded">4<');
    expect(page.text).toContain('data-testid="hour-failed">2<');
    expect(page.text).toContain('<svg class="chart"');
    expect((page.text.match(/<title>\d\d:\d\d UTC: /g) ?? []).length).toBe(60);
  });

  it('overview: the workers holding claims right now, from their leases', async () => {
    const e = await env();
    const asyncTask = await e.make(noRetry);
    const client = DashboardClient.over(createDashboard({ asyncTask }));
    expect((await client.get('/')).text).toContain('No worker holds an attempt right now.');
    await e.db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'slow', { ms: 1500 }));
    const worker = asyncTask.worker({ workerId: 'box-1:<w>', concurrency: 2, pollIntervalMs: 50 });
    await worker.start();
    try {
      let page = '';
      for (let i = 0; i < 100 && !page.includes('data-testid="running"'); i++) {
        page = (await client.get('/')).text;
        if (!page.includes('data-testid="running"')) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(page).toMatch(/data-testid="running"><strong>1<\/strong> attempt claimed by 1 worker\./);
      expect(page).toContain('<td>box-1:&lt;w&gt;</td>');
    } finally {
      await worker.stop({ timeoutMs: 5000 });
    }
    expect((await client.get('/')).text).toContain('No worker holds an attempt right now.');
  });

  it('status counts: exact up to the cap; past it an estimate on PostgreSQL, still exact on SQLite', async () => {
    const e = await env();
    const asyncTask = await e.make(noRetry);
    await seed(e, asyncTask);
    const store = internalsOf(asyncTask).store.dashboardQueries();
    expect(await store.dashboardStatusCounts(100)).toEqual({
      counts: { pending: 3, succeeded: 4, failed: 2, expired: 0 },
      estimated: [],
    });
    const capped = await store.dashboardStatusCounts(2);
    expect(capped.counts.failed).toBe(2);
    if (internalsOf(asyncTask).store.dialect !== 'sqlite') {
      expect([...capped.estimated].sort()).toEqual(['pending', 'succeeded']);
      expect(capped.counts.succeeded).toBeGreaterThanOrEqual(3);
    } else {
      expect(capped).toEqual({ counts: { pending: 3, succeeded: 4, failed: 2, expired: 0 }, estimated: [] });
    }
  });

  it('attempts: filters by status, target, method, idempotence token and due time', async () => {
    const e = await env();
    const asyncTask = await e.make(noRetry);
    const ids = await seed(e, asyncTask);
    const client = DashboardClient.over(createDashboard({ asyncTask }));
    const list = async (query: string) => rowIds((await client.get(`/attempts?${query}`)).text).sort();
    expect(await list('status=failed')).toEqual([...ids.exploded].sort());
    expect(await list('target=OrderClient&method=fulfill')).toEqual([...ids.fulfilled].sort());
    expect(await list('target=Nobody')).toEqual([]);
    expect(await list('token=order-3')).toEqual([ids.fulfilled[2]]);
    expect(await list('time=due&from=2030-01-01&to=2031-01-01T00:00')).toEqual([ids.later[0]]);
    expect(await list('time=due&from=2030-01-01T00:00:00Z')).toEqual([...ids.later].sort());
    const bad = await client.get('/attempts?status=bogus&from=yesterday');
    expect(bad.status).toBe(200);
    expect(bad.text).toContain('Unknown status &quot;bogus&quot;');
    expect(bad.text).toContain('Could not read from');
    expect(rowIds(bad.text)).toHaveLength(9);
  });

  it('attempts: keyset pages by created or due time, either order, with no row missed or repeated', async () => {
    const e = await env();
    const asyncTask = await e.make(noRetry);
    await seed(e, asyncTask);
    const client = DashboardClient.over(createDashboard({ asyncTask, pageSize: 2 }));
    const range = 'from=2000-01-01T00:00&to=2100-01-01T00:00';
    for (const query of [
      '',
      'order=asc',
      'time=due',
      'time=due&order=desc',
      'status=succeeded&order=asc',
      // A creation-time range: pending and completed attempts from separate index ranges, merged.
      range,
      `${range}&order=asc`,
      `time=due&${range}`,
      // A target and method with no status: one range per status, merged.
      'target=OrderClient&method=echo',
      'target=OrderClient&method=echo&order=asc',
    ]) {
      const seen: string[] = [];
      let path: string | null = `/attempts?${query}`;
      while (path) {
        const page = await client.get(path);
        seen.push(...rowIds(page.text));
        const next = /rel="next" href="([^"]+)"/.exec(page.text);
        path = next ? decodeAmpersands(next[1]!) : null;
      }
      const expected = query.startsWith('status=succeeded') ? 4 : query.includes('method=echo') ? 3 : 9;
      expect(new Set(seen).size, query).toBe(expected);
      expect(seen, query).toHaveLength(expected);
      const numeric = seen.map(Number);
      if (query === '') expect(numeric).toEqual([...numeric].sort((a, b) => b - a));
      if (query === 'order=asc') expect(numeric).toEqual([...numeric].sort((a, b) => a - b));
      if (query === 'target=OrderClient&method=echo') expect(numeric).toEqual([...numeric].sort((a, b) => b - a));
    }
  });

  it('attempt detail: every field, last_error inert, args hidden, decrypted only with showArgs', async () => {
    const e = await env();
    const asyncTask = await e.make(noRetry);
    const ids = await seed(e, asyncTask);
    const hidden = DashboardClient.over(createDashboard({ asyncTask }));
    const failed = await hidden.get(`/attempts/${ids.exploded[1]}`);
    expect(failed.status).toBe(200);
    for (const field of ['idempotence token', 'runs (num_attempts)', 'scheduled at', 'completed at', 'created at']) {
      expect(failed.text).toContain(`<dt>${field}</dt>`);
    }
    expect(failed.text).toContain('&lt;script&gt;window.__xss = 1&lt;/script&gt;');
    expect(failed.text).not.toContain('<script>window.__xss');
    expect(failed.text).not.toContain('<img src=x');
    const due = await hidden.get(`/attempts/${ids.due}`);
    expect(due.text).toContain('Hidden: stored unencrypted');
    expect(due.text).not.toContain('hunter2');

    const shown = DashboardClient.over(createDashboard({ asyncTask, showArgs: true }));
    const decoded = await shown.get(`/attempts/${ids.due}`);
    expect(decoded.text).toContain('&quot;secret&quot;: &quot;hunter2&quot;');
    expect(decoded.text).toContain('&lt;b&gt;bold&lt;/b&gt;');

    const encryptor = aesGcmEncryptor({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' });
    const sealed = await e.make({ encryptor });
    const secret = await e.db.inTransaction((tx) => sealed.enqueue(tx, 'OrderClient', 'echo', { card: '4242' }));
    const asStored = await DashboardClient.over(createDashboard({ asyncTask: sealed })).get(`/attempts/${secret.id}`);
    expect(asStored.text).toContain('Encrypted by aes-256-gcm');
    expect(asStored.text).toContain(secret.methodArgs);
    expect(asStored.text).not.toContain('4242');
    const opened = await DashboardClient.over(createDashboard({ asyncTask: sealed, showArgs: true })).get(
      `/attempts/${secret.id}`,
    );
    expect(opened.text).toContain('&quot;card&quot;: &quot;4242&quot;');
    const wrongKey = await DashboardClient.over(createDashboard({ asyncTask, showArgs: true })).get(
      `/attempts/${secret.id}`,
    );
    expect(wrongKey.status).toBe(200);
    expect(wrongKey.text).toContain('Could not decrypt');
    expect((await hidden.get('/attempts/999999')).status).toBe(404);
  });

  it('attempt detail: the error of each failed run, newest first, inert, and the runs the bound dropped', async () => {
    const e = await env();
    const asyncTask = await e.make({ retry: { maxAttempts: 3, backoff: () => 0 } });
    const hostile = await e.db.inTransaction((tx) =>
      asyncTask.enqueue(tx, 'OrderClient', 'explode', { message: '<script>window.__run = 1</script>' }),
    );
    for (let run = 1; run <= 3; run++) await asyncTask.perform(hostile.id);
    expect((await asyncTask.find(hostile.id))?.status).toBe('failed');
    const client = DashboardClient.over(createDashboard({ asyncTask }));
    const page = (await client.get(`/attempts/${hostile.id}`)).text;
    expect(page).toContain('<h2>Errors by run</h2>');
    expect([...page.matchAll(/<tr data-run="(\d+)">/g)].map((match) => match[1])).toEqual(['3', '2', '1']);
    const rows = page.split('<tr data-run=').slice(1);
    for (const row of rows) {
      expect(row).toContain('&lt;script&gt;window.__run = 1&lt;/script&gt;');
      expect(row).toMatch(/<time datetime="[^"]+" title="[^"]+ UTC">/);
    }
    expect(page).not.toContain('<script>window.__run');
    expect(page).not.toContain('data-testid="run-errors-dropped"');

    const fine = await e.db.inTransaction((tx) => asyncTask.enqueue(tx, 'OrderClient', 'echo', { n: 1 }));
    await asyncTask.perform(fine.id);
    expect((await client.get(`/attempts/${fine.id}`)).text).toContain('No run of this attempt has failed.');

    const stubborn = await e.make({ retry: { maxAttempts: 23, backoff: () => 0 } });
    const many = await e.db.inTransaction((tx) => stubborn.enqueue(tx, 'OrderClient', 'explode', { message: 'again' }));
    for (let run = 1; run <= 23; run++) await stubborn.perform(many.id);
    const bounded = (await client.get(`/attempts/${many.id}`)).text;
    const shown = [...bounded.matchAll(/<tr data-run="(\d+)">/g)].map((match) => Number(match[1]));
    expect(shown).toEqual(Array.from({ length: 20 }, (_, index) => 23 - index));
    expect(bounded).toContain('those of runs 1–3 are no longer kept');
  });

  it('targets: pending now, and per window the completions, failure rate and last failure per target.method', async () => {
    const e = await env();
    const asyncTask = await e.make(noRetry);
    await seed(e, asyncTask);
    const client = DashboardClient.over(createDashboard({ asyncTask }));
    for (const window of ['', '?window=1h', '?window=all']) {
      const page = await client.get(`/targets${window}`);
      const row = (name: string) =>
        [
          ...(new RegExp(`${name}</a></td>([\\s\\S]*?)</tr>`).exec(page.text)?.[1] ?? '').matchAll(
            /<td[^>]*>(.*?)<\/td>/g,
          ),
        ].map((m) => m[1]!.replace(/<[^>]+>/g, ''));
      expect(row('OrderClient.fulfill').slice(0, 5), window).toEqual(['0', '4', '0', '0', '0.0%']);
      expect(row('OrderClient.explode').slice(0, 5), window).toEqual(['0', '0', '2', '0', '100.0%']);
      expect(row('OrderClient.explode')[5], window).toMatch(/^(just now|(\d+m )?\d+s ago)$/);
      expect(row('OrderClient.echo').slice(0, 5), window).toEqual(['3', '0', '0', '0', '—']);
    }
  });

  it('actions: retry one, a conflict comes back as a message, all matching after a count and a confirmation', async () => {
    const e = await env();
    const asyncTask = await e.make(noRetry);
    const ids = await seed(e, asyncTask);
    const client = DashboardClient.over(createDashboard({ asyncTask }));
    await client.get('/attempts');
    const retried = await client.post('/actions', { op: 'retry:selected', id: ids.exploded[0]!, back: '/attempts' });
    expect(retried.status).toBe(200);
    expect(retried.text).toContain('Retried 1 attempt.');
    expect((await asyncTask.find(ids.exploded[0]!))?.status).toBe('pending');

    const conflict = await client.post('/actions', { op: 'retry:selected', id: [ids.fulfilled[0]!, ids.exploded[1]!] });
    expect(conflict.status).toBe(200);
    expect(conflict.text).toContain('Retried 1 attempt.');
    expect(conflict.text).toContain(`Attempt ${ids.fulfilled[0]} is succeeded; expected failed or expired`);

    const ask = await client.post('/actions', { op: 'expire:all', status: '', target: 'OrderClient', method: 'echo' });
    expect(ask.text).toMatch(/data-testid="confirm-count"><strong>3<\/strong> matching attempts are pending/);
    expect((await asyncTask.find(ids.due))?.status).toBe('pending');
    const done = await client.post('/actions', {
      op: 'expire:all',
      confirmed: 'yes',
      target: 'OrderClient',
      method: 'echo',
    });
    expect(done.text).toContain('Expired 3 attempts.');
    for (const id of [...ids.later, ids.due]) expect((await asyncTask.find(id))?.status).toBe('expired');
    const none = await client.post('/actions', { op: 'fail:all', status: 'succeeded' });
    expect(none.text).toMatch(/<strong>0<\/strong> matching attempts are pending/);
    const nothing = await client.post('/actions', { op: 'fail:selected' });
    expect(nothing.status).toBe(400);
  });

  it('after an action: a link to what changed (the attempt, or the filtered list) and back; Retry is not styled destructive', async () => {
    const e = await env();
    const asyncTask = await e.make(noRetry);
    const ids = await seed(e, asyncTask);
    const client = DashboardClient.over(createDashboard({ asyncTask, basePath: '/ops' }));
    await client.get('/ops/attempts');
    const one = await client.post('/ops/actions', { op: 'retry:selected', id: ids.exploded[0]!, back: '/attempts' });
    expect(one.text).toContain('Retried 1 attempt.');
    expect(one.text).toContain(`<a href="/ops/attempts/${ids.exploded[0]}" data-testid="changed-link">`);
    expect(one.text).toContain('<a href="/ops/attempts">« Back</a>');

    const several = await client.post('/ops/actions', { op: 'fail:selected', id: [ids.due, ids.later[0]!] });
    expect(several.text).toContain('Failed 2 attempts.');
    expect(several.text).toContain('<a href="/ops/attempts?status=failed" data-testid="changed-link">');

    const askRetry = await client.post('/ops/actions', { op: 'retry:all', status: 'failed', target: 'OrderClient' });
    expect(askRetry.text).toMatch(/<button type="submit">Retry 3 attempts<\/button>/);
    const askExpire = await client.post('/ops/actions', { op: 'expire:all', target: 'OrderClient' });
    expect(askExpire.text).toMatch(/<button type="submit" class="danger">Expire 2 attempts<\/button>/);
    const all = await client.post('/ops/actions', {
      op: 'retry:all',
      confirmed: 'yes',
      status: 'failed',
      target: 'OrderClient',
    });
    expect(all.text).toContain('Retried 3 attempts.');
    expect(decodeAmpersands(all.text)).toContain(
      '<a href="/ops/attempts?status=pending&target=OrderClient" data-testid="changed-link">',
    );
    const list = await client.get('/ops/attempts?status=pending&target=OrderClient');
    expect(rowIds(list.text).sort()).toEqual(
      [ids.exploded[0]!, ids.exploded[1]!, ids.due, ids.later[0]!, ids.later[1]!].sort(),
    );
  });

  it('run now: a pending attempt waiting on its due time becomes due now, through the store; others are left alone', async () => {
    const e = await env();
    const asyncTask = await e.make(noRetry);
    const ids = await seed(e, asyncTask);
    const client = DashboardClient.over(createDashboard({ asyncTask }));
    const detail = await client.get(`/attempts/${ids.later[0]}`);
    expect(detail.text).toContain('<button type="submit" name="op" value="run:selected">Run now</button>');
    expect((await client.get(`/attempts/${ids.due}`)).text).not.toContain('value="run:selected"');

    expect((await client.post('/actions', { _csrf: '', op: 'run:selected', id: ids.later[0]! })).status).toBe(403);
    expect((await asyncTask.find(ids.later[0]!))?.scheduledAt).toEqual(new Date('2030-03-01T00:00:00Z'));

    const before = Date.now();
    const ran = await client.post('/actions', { op: 'run:selected', id: [ids.later[0]!, ids.due, ids.fulfilled[0]!] });
    expect(ran.status).toBe(200);
    expect(ran.text).toContain('Made 1 attempt due now.');
    expect(ran.text).toContain(`Attempt ${ids.due} is not pending with a later due time`);
    expect(ran.text).toContain(`Attempt ${ids.fulfilled[0]} is not pending with a later due time`);
    const now = await asyncTask.find(ids.later[0]!);
    expect(now?.status).toBe('pending');
    expect(now!.scheduledAt!.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    expect(now!.scheduledAt!.getTime()).toBeGreaterThan(before - 60_000);
    expect((await asyncTask.find(ids.later[1]!))?.scheduledAt).toEqual(new Date('2031-03-01T00:00:00Z'));
    expect((await asyncTask.find(ids.fulfilled[0]!))?.status).toBe('succeeded');
    // Due now: a worker takes it.
    await asyncTask.drain();
    expect((await asyncTask.find(ids.later[0]!))?.status).toBe('succeeded');
    expect(await internalsOf(asyncTask).store.dashboardQueries().dashboardRunNow([ids.later[0]!])).toEqual([]);

    const readOnly = DashboardClient.over(createDashboard({ asyncTask, readOnly: true }));
    expect((await readOnly.get(`/attempts/${ids.later[1]}`)).text).not.toContain('Run now');
    expect((await readOnly.post('/actions', { op: 'run:selected', id: ids.later[1]! })).status).toBe(403);
    expect((await asyncTask.find(ids.later[1]!))?.scheduledAt).toEqual(new Date('2031-03-01T00:00:00Z'));
  });

  it('mounted at another path than its basePath: a 404 that says which basePath it expected and what to pass', async () => {
    const e = await env();
    const asyncTask = await e.make(noRetry);
    // As Express's app.use('/admin/tasks', …) without basePath: the browser's full path reaches the handler.
    const rootClient = DashboardClient.over(createDashboard({ asyncTask }));
    const mounted = await rootClient.get('/admin/tasks/attempts');
    expect(mounted.status).toBe(404);
    expect(mounted.text).toContain('served at the root (no basePath)');
    expect(mounted.text).toContain('pass basePath: &#39;/admin/tasks&#39; to createDashboard');
    const other = DashboardClient.over(createDashboard({ asyncTask, basePath: '/admin/tasks' }));
    const outside = await other.get('/ops/tasks');
    expect(outside.status).toBe(404);
    expect(outside.text).toContain('served at /admin/tasks (its basePath)');
    expect(outside.text).toContain("pass basePath: '/ops/tasks'");
    const inside = await other.get('/admin/tasks/nope');
    expect(inside.status).toBe(404);
    expect(inside.text).toContain('/admin/tasks/nope is not one of its pages.');
    expect(inside.text).not.toContain('pass basePath');
  });

  it('CSRF: without the token, or with a forged one, an action is refused and changes nothing', async () => {
    const e = await env();
    const asyncTask = await e.make(noRetry);
    const ids = await seed(e, asyncTask);
    const dashboard = createDashboard({ asyncTask });
    const client = DashboardClient.over(dashboard);
    await client.get('/attempts');
    const missing = await client.post('/actions', { _csrf: '', op: 'retry:selected', id: ids.exploded[0]! });
    expect(missing.status).toBe(403);
    const forged = await client.post('/actions', { _csrf: 'abc.def', op: 'retry:selected', id: ids.exploded[0]! });
    expect(forged.status).toBe(403);
    const attacker = DashboardClient.over(dashboard);
    await attacker.get('/');
    const stolen = attacker.csrf!;
    const mixed = await client.post('/actions', { _csrf: stolen, op: 'retry:selected', id: ids.exploded[0]! });
    expect(mixed.status).toBe(403);
    const crossSite = DashboardClient.over(dashboard, { 'sec-fetch-site': 'cross-site' });
    await crossSite.get('/');
    expect((await crossSite.post('/actions', { op: 'retry:selected', id: ids.exploded[0]! })).status).toBe(403);
    expect((await asyncTask.find(ids.exploded[0]!))?.status).toBe('failed');
  });

  it('logs no arguments, decrypted or not', async () => {
    const e = await env();
    const asyncTask = await e.make(noRetry);
    const ids = await seed(e, asyncTask);
    const lines: unknown[] = [];
    const record = (...args: unknown[]) => lines.push(args);
    const logger = { debug: record, info: record, warn: record, error: record };
    const client = DashboardClient.over(createDashboard({ asyncTask, showArgs: true, logger }));
    expect((await client.get(`/attempts/${ids.due}`)).text).toContain('hunter2');
    await client.post('/actions', { op: 'expire:selected', id: ids.due });
    await client.post('/actions', { op: 'fail:selected', id: ids.due });
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });

  it('takes only the value createAsyncTask returned: a look-alike copy has no store to read', async () => {
    const e = await env();
    const asyncTask = await e.make(noRetry);
    expect(() => createDashboard({ asyncTask: { ...asyncTask } })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', message: expect.stringMatching(/createAsyncTask returned/) }),
    );
    expect(Object.keys(asyncTask)).not.toContain('internals');
    expect((await DashboardClient.over(createDashboard({ asyncTask })).get('/')).status).toBe(200);
  });

  it('read-only mode and the authorize hook: no buttons, actions answer 403', async () => {
    const e = await env();
    const asyncTask = await e.make(noRetry);
    const ids = await seed(e, asyncTask);
    const readOnly = DashboardClient.over(createDashboard({ asyncTask, readOnly: true }));
    const list = await readOnly.get('/attempts');
    expect(list.text).not.toContain('name="op"');
    expect(list.text).toContain('read-only');
    expect((await readOnly.get(`/attempts/${ids.exploded[0]}`)).text).not.toContain('name="op"');
    expect((await readOnly.post('/actions', { op: 'retry:selected', id: ids.exploded[0]! })).status).toBe(403);

    const byRole = createDashboard({
      asyncTask,
      authorize: (request) => {
        const role = request.headers.get('x-role');
        return role === 'admin' ? true : role === 'viewer' ? 'read-only' : false;
      },
    });
    expect((await DashboardClient.over(byRole).get('/')).status).toBe(403);
    const viewer = DashboardClient.over(byRole, { 'x-role': 'viewer' });
    expect((await viewer.get('/attempts')).status).toBe(200);
    expect((await viewer.post('/actions', { op: 'retry:selected', id: ids.exploded[0]! })).status).toBe(403);
    const admin = DashboardClient.over(byRole, { 'x-role': 'admin' });
    await admin.get('/attempts');
    expect((await admin.post('/actions', { op: 'retry:selected', id: ids.exploded[0]! })).text).toContain('Retried 1');
  });
});

describe('dashboard handler (no database needed for these)', () => {
  it('rejects bad options clearly', () => {
    expect(() => createDashboard({} as any)).toThrow(/asyncTask/);
  });
});
