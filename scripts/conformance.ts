/**
 * Translates the test sources greedy and with beam 4 and reports the exact-match rate against
 * Hugging Face's translations (test/fixtures/conformance/test.hyp.beam{1,4}.tsv, max_new_tokens=128).
 *   npm run conformance [-- --limit N] [-- --workers N] [-- --kernel auto|simd|js] [-- --precision exact|float32]
 * Exits non-zero when a rate is below --min (default 1.0 = every sentence identical).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Command } from 'commander';
import { findBundledModel } from '../src/model/loading/bundledModel';
import { loadModelFolder, translate } from '../src/model';
import { defaultPrecision, isKernelSetting, isPrecision, type KernelSetting, type Precision } from '../src/model/kernels/kernelChoice';

const FIXTURES = path.resolve(__dirname, '..', 'test', 'fixtures', 'conformance');

function readPairs(file: string): Array<[string, string]> {
  return fs.readFileSync(path.join(FIXTURES, file), 'utf8').split('\n').filter(Boolean).map((l) => {
    const [src, hyp] = l.split('\t');
    return [src, hyp ?? ''];
  });
}

interface Job { beams: number; sources: string[]; kernel: KernelSetting; precision: Precision }

if (!isMainThread) {
  const { beams, sources, kernel, precision } = workerData as Job;
  const lm = loadModelFolder(findBundledModel(), { kernel, precision });
  if (kernel !== 'auto' && lm.model.kernelPath !== kernel) throw new Error(`asked for the ${kernel} kernels, got ${lm.model.kernelPath}: ${lm.kernel?.note}`);
  parentPort!.postMessage(sources.map((s) => translate(lm, s, { numBeams: beams, maxNewTokens: 128 }).text));
} else {
  const o = new Command()
    .option('--limit <n>', 'only the first n sources', (v) => parseInt(v, 10))
    .option('--workers <n>', 'worker threads', (v) => parseInt(v, 10), 2)
    .option('--min <rate>', 'fail below this exact-match rate', parseFloat, 1.0)
    .option('--kernel <path>', 'matrix-product kernels: auto, simd or js', 'auto')
    .option('--precision <p>', 'how the SIMD kernels sum: exact or float32 (default: the extension\'s, as for --kernel)', defaultPrecision())
    .parse(process.argv)
    .opts<{ limit?: number; workers: number; min: number; kernel: string; precision: string }>();
  if (!isKernelSetting(o.kernel)) throw new Error(`--kernel: expected auto, simd or js, not ${o.kernel}`);
  if (!isPrecision(o.precision)) throw new Error(`--precision: expected exact or float32, not ${o.precision}`);
  const kernel = o.kernel, precision = o.precision;

  const run = (beams: number, sources: string[]): Promise<string[]> => {
    const n = Math.max(1, o.workers);
    const size = Math.ceil(sources.length / n);
    const parts = Array.from({ length: n }, (_, i) => sources.slice(i * size, (i + 1) * size)).filter((p) => p.length);
    return Promise.all(parts.map((part) => new Promise<string[]>((resolve, reject) => {
      // workers do not inherit the tsx loader: register it before requiring this file
      const boot = `require('tsx/cjs'); require(${JSON.stringify(__filename)});`;
      const w = new Worker(boot, { eval: true, workerData: { beams, sources: part, kernel, precision } satisfies Job });
      w.once('message', resolve);
      w.once('error', reject);
    }))).then((r) => r.flat());
  };

  (async () => {
    let failed = false;
    for (const [beams, file] of [[1, 'test.hyp.beam1.tsv'], [4, 'test.hyp.beam4.tsv']] as const) {
      const pairs = readPairs(file).slice(0, o.limit);
      const t0 = performance.now();
      const outs = await run(beams, pairs.map((p) => p[0]));
      const secs = (performance.now() - t0) / 1000;
      const mismatches = pairs.map((p, i) => ({ src: p[0], hf: p[1], ours: outs[i] })).filter((m) => m.hf !== m.ours);
      const rate = 1 - mismatches.length / pairs.length;
      console.log(`${beams === 1 ? 'greedy ' : 'beam 4 '}: ${pairs.length - mismatches.length}/${pairs.length} identical (${(100 * rate).toFixed(2)}%) in ${secs.toFixed(1)} s, kernel ${kernel}, precision ${precision}`);
      for (const m of mismatches) console.log(`  MISMATCH ${JSON.stringify(m.src)}\n    hf:   ${JSON.stringify(m.hf)}\n    ours: ${JSON.stringify(m.ours)}`);
      if (rate < o.min) failed = true;
    }
    process.exit(failed ? 1 : 0);
  })().catch((e) => {
    console.error(e);
    process.exit(2);
  });
}
