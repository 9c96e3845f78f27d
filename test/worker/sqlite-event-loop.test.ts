// better-sqlite3 is synchronous: every await of a worker on it settles as a microtask, so a worker that never
// yields would drain a whole backlog without the application's timers, requests or I/O running once. The
// bound here is generous (a loaded machine stretches any gap); bench/RESULTS.md has the measured figure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { sqlite } from '../../src/drivers/sqlite.js';
import { createAsyncTask } from '../../src/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'async-task-sqlite-loop-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const BACKLOG = 5000;
const BATCH = 100;

for (const mode of ['transactional', 'leased'] as const) {
  it(`[sqlite] a ${mode} worker draining a backlog of ${BACKLOG} lets the event loop run`, async () => {
    const db = new Database(path.join(dir, `${mode}.sqlite`));
    let performed = 0;
    const asyncTask = createAsyncTask({
      db: sqlite(db),
      targets: {
        Bench: {
          async run(_args: { i: number }) {
            performed++;
          },
        },
      },
    });
    await asyncTask.migrate();
    db.transaction(() => {
      for (let i = 0; i < BACKLOG; i += 500) {
        void asyncTask.enqueueMany(
          db,
          'Bench',
          'run',
          Array.from({ length: 500 }, (_, k) => ({ i: i + k })),
        );
      }
    })();
    let last = performance.now();
    let longest = 0;
    let ticks = 0;
    const probe = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      ticks++;
    }, 1);
    // Turns of the event loop: a chain of setImmediate gets one per turn, however fast the machine is.
    let turns = 0;
    let turning = true;
    const turn = () => {
      turns++;
      if (turning) setImmediate(turn);
    };
    const worker = asyncTask.worker({ mode, concurrency: 8, batchSize: BATCH, pollIntervalMs: 500, retention: false });
    last = performance.now();
    await worker.start();
    setImmediate(turn);
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (performed >= BACKLOG) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    clearInterval(probe);
    turning = false;
    await worker.stop();
    expect(performed).toBe(BACKLOG);
    // Timers ran during the drain, and never waited long for it.
    expect(ticks).toBeGreaterThan(1);
    // At least one turn per few claims (each claims at most BATCH); a worker that never yields leaves one or two.
    expect(turns).toBeGreaterThan(BACKLOG / BATCH / 4);
    expect(longest).toBeLessThan(200);
    await asyncTask.close();
    db.close();
  }, 60_000);
}
