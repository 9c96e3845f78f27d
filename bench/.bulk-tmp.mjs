import pg from 'pg';
import { postgres } from '../dist/drivers/postgres.js';
import { createAsyncTask } from '../dist/index.js';
import { PostgresStore } from '../dist/store/postgres/postgres-store.js';
const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/pghot', max: 4 });
await pool.query('DROP SCHEMA IF EXISTS bulk_s CASCADE');
const at = createAsyncTask({ db: postgres(pool, { schema: 'bulk_s' }), targets: { T: { async m() {} } } });
await at.migrate();
const store = new PostgresStore(pool, { schema: 'bulk_s' });
const payloads = Array.from({ length: 500 }, (_, i) => ({ i }));
const rows = payloads.map((p) => ({ target: 'T', methodName: 'm', methodArgs: JSON.stringify(p), encryptor: 'null', idempotenceToken: null, scheduledAt: null }));
const tx = async (fn) => { const c = await pool.connect(); await c.query('BEGIN'); await fn(c); await c.query('COMMIT'); c.release(); };
for (const [label, fn] of [
  ['enqueueMany', (c) => at.enqueueMany(c, 'T', 'm', payloads)],
  ['store.insertMany', (c) => store.attemptInsertMany(c, rows)],
  ['enqueueMany', (c) => at.enqueueMany(c, 'T', 'm', payloads)],
  ['store.insertMany', (c) => store.attemptInsertMany(c, rows)],
]) {
  const t0 = performance.now();
  for (let k = 0; k < 40; k++) await tx(fn);
  const ms = performance.now() - t0;
  console.log(label, Math.round((40 * 500) / (ms / 1000)), 'jobs/s');
}
const c = await pool.connect();
await c.query('BEGIN');
const t1 = performance.now();
for (let k = 0; k < 20; k++) await at.enqueueMany(c, 'T', 'm', payloads);
console.log('enqueueMany JS+SQL per batch ms', ((performance.now() - t1) / 20).toFixed(2));
const t2 = performance.now();
for (let k = 0; k < 20; k++) await store.attemptInsertMany(c, rows);
console.log('insertMany per batch ms', ((performance.now() - t2) / 20).toFixed(2));
const { rows: plan } = await c.query(`EXPLAIN (ANALYZE, BUFFERS OFF, TIMING ON) WITH input AS MATERIALIZED (SELECT nextval('bulk_s.async_task_attempts_ids') AS id, i.* FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[]) AS i(target, method_name, method_args, encryptor, idempotence_token, scheduled_at)), key AS (INSERT INTO bulk_s.async_task_attempts_keys (target, method_name, idempotence_token, id) SELECT target, method_name, idempotence_token, id FROM input WHERE idempotence_token IS NOT NULL ON CONFLICT DO NOTHING RETURNING id) INSERT INTO bulk_s.async_task_attempts_hot (id, target, method_name, method_args, encryptor, idempotence_token, scheduled_at) SELECT id, target, method_name, method_args, encryptor, idempotence_token, scheduled_at FROM input WHERE idempotence_token IS NULL OR id IN (SELECT id FROM key) RETURNING id, idempotence_token, created_at`,
  [rows.map(r=>r.target), rows.map(r=>r.methodName), rows.map(r=>r.methodArgs), rows.map(r=>r.encryptor), rows.map(r=>r.idempotenceToken), rows.map(r=>r.scheduledAt)]);
console.log(plan.map((r) => r['QUERY PLAN']).join('\n'));
await c.query('ROLLBACK'); c.release();
await pool.end();
