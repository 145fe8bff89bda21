/**
 * How much work the extension host's main thread does while the worker explains a 256-token text and the host
 * receives the explanation: event-loop active time (performance.eventLoopUtilization) per request. A measurement
 * for the closing note, not a test. Needs `npm run build` (dist/worker.js).
 *   node --import tsx scripts/measure-host-receive.ts [repo root, default: this checkout] [runs, default 6]
 */
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

const root = path.resolve(process.argv[2] ?? path.join(__dirname, '..'));
const runs = Number(process.argv[3] ?? 6);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ModelClient } = require(path.join(root, 'src', 'host', 'modelClient')) as typeof import('../src/host/modelClient');
const client = new ModelClient({ createWorker: (init) => new Worker(path.join(root, 'dist', 'worker.js'), { workerData: init }) });
const bundled = { dir: path.join(root, 'media', 'model'), name: 'bundled' };
const text = Array.from({ length: 60 }, (_, i) => `The old man number ${i} walks to the market every morning.`).join(' ');

void (async () => {
  const params = { numBeams: 1, topK: 5, maxSourceTokens: 512 };
  await client.explain(bundled, 'Warm up.', params);
  const out: string[] = [];
  for (let i = 0; i < runs; i++) {
    const before = performance.eventLoopUtilization();
    const t0 = performance.now();
    await client.explain(bundled, text, params);
    const used = performance.eventLoopUtilization(before);
    out.push(`${used.active.toFixed(1)} ms of ${(performance.now() - t0).toFixed(0)} ms`);
  }
  console.log(`${root}: main-thread active time per 256-token explanation: ${out.join('; ')}`);
  client.dispose();
})();
