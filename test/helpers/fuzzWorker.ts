/** The real inference worker for host-layer tests, plus a garbage-collector handle for heap measurements. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { WorkerInit } from '../../src/worker/workerProtocol';
import { ROOT } from './golden';

const BUNDLE = path.join(ROOT, 'dist', 'worker.js');
const SOURCE = path.join(ROOT, 'src', 'worker', 'inferenceWorker.ts');

function newestSourceMtime(): number {
  let newest = 0;
  for (const dir of ['src/worker', 'src/model']) {
    for (const f of fs.readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })) {
      if (f.endsWith('.ts')) newest = Math.max(newest, fs.statSync(path.join(ROOT, dir, f)).mtimeMs);
    }
  }
  return newest;
}

/**
 * `dist/worker.js` (what the extension ships, built by `npm run build`) when it is at least as new as the worker
 * and engine sources; otherwise the TypeScript source compiled by tsx inside the thread, as host-worker.test.ts does.
 */
export const WORKER_KIND: 'dist/worker.js' | 'src (tsx)' =
  fs.existsSync(BUNDLE) && fs.statSync(BUNDLE).mtimeMs >= newestSourceMtime() ? 'dist/worker.js' : 'src (tsx)';

export function spawnRealWorker(init: WorkerInit, options: Omit<WorkerOptions, 'workerData' | 'eval'> = {}): Worker {
  if (WORKER_KIND === 'dist/worker.js') return new Worker(BUNDLE, { ...options, workerData: init });
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(SOURCE)});`, { ...options, eval: true, workerData: init });
}

/** `global.gc`, made available without restarting node with --expose-gc. */
export const gc: () => void = (() => {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

/** Heap in use after full collections (several, so finalizers and weak references settle). */
export async function settledHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

export const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MB`;

/** A worker whose script does not exist: it fails to start, as a broken installation would. */
export function spawnMissingWorker(init: WorkerInit): Worker {
  return new Worker(path.join(ROOT, 'dist', 'no-such-worker.js'), { workerData: init });
}
