// Shared body of this project's adapters for the SQLite peer harness (one file per worker mode beside
// this folder). Plain ESM over the compiled output: run `npm run build` first.
import { readFileSync } from 'node:fs';
import { sqlite } from '../../../dist/drivers/sqlite.js';
import { createAsyncTask } from '../../../dist/index.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));

/** The adapter contract of the SQLite peer harness (see its README) for one worker mode. */
export function asyncTaskAdapter(mode) {
  let options;
  let ctx;
  let asyncTask;
  let store;
  let worker = null;
  let onJob = () => {};
  const targets = {
    Bench: {
      async run(payload) {
        onJob(payload);
      },
    },
  };

  return {
    name: `async-task-${mode}`,
    version: pkg.version,
    transactions: { enqueue: 'sync', bulkEnqueue: 'sync' },
    settings(o) {
      return {
        mode,
        wakeup: 'in-process (an enqueue wakes the workers of this process) + polling fallback',
        poll_ms: o.pollMs,
        batch: o.batch,
        concurrency: o.concurrency,
        connections: "application connection for enqueue; the library's own writer and reader connections",
        enqueue: 'asyncTask.enqueueSync(db, …) inside the application’s db.transaction()',
        bulkEnqueue:
          'asyncTask.enqueueMany(db, …) inside the application’s db.transaction() (rows written before it returns)',
        completion:
          mode === 'leased'
            ? 'row UPDATEd to succeeded (batched, guarded by the claim)'
            : 'row UPDATEd to succeeded in the transaction of its group (savepoint per attempt)',
      };
    },
    pragmas() {
      return store ? { writer: ctx.readPragmas(store.writer), reader: ctx.readPragmas(store.reader) } : {};
    },
    async setup(c, o) {
      ctx = c;
      options = o;
      store = sqlite(c.db);
      asyncTask = createAsyncTask({ db: store, targets });
      await asyncTask.migrate();
    },
    enqueue(db, n, payloads) {
      for (let k = 0; k < n; k++) asyncTask.enqueueSync(db, 'Bench', 'run', payloads[k]);
    },
    bulkEnqueue(db, n, payloads) {
      // A synchronous driver writes every row before enqueueMany returns its promise; a failure rejects it.
      const done = asyncTask.enqueueMany(db, 'Bench', 'run', payloads.slice(0, n));
      done.catch((error) => {
        console.error(`[async-task] enqueueMany failed: ${error.message}`);
        process.exitCode = 1;
      });
    },
    async startWorker(concurrency, handler) {
      onJob = handler;
      worker = asyncTask.worker({
        mode,
        concurrency,
        batchSize: options.batch,
        pollIntervalMs: options.pollMs,
        retention: false,
      });
      await worker.start();
    },
    countPending(db) {
      return db.prepare("SELECT count(*) AS n FROM async_task_attempts WHERE status = 'pending'").get().n;
    },
    async stop() {
      await worker?.stop({ timeoutMs: 5000 });
      worker = null;
      await asyncTask?.close();
    },
  };
}
