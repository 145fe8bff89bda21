/**
 * npm run bench — speed figures measured in one run (medians; this machine is noisy, so these are never unit tests):
 *  - explain latency with the bundled model (tokenize + encode + greedy translate + every attention captured)
 *    for 10/20/40-token inputs;
 *  - matrix-multiply throughput of the kernel next to a naive triple loop, same shapes, same run.
 * Ends with one machine-readable JSON line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findBundledModel } from '../src/model/bundledModel';
import { explain, loadModelFolder } from '../src/model';
import { matmulNaive, matmulTransB } from '../src/model/matmul';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function timeIt(fn: () => void, { warmup = 2, runs = 9 } = {}): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return out;
}

function randomMatrix(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    a[i] = (x / 2 ** 32) * 2 - 1;
  }
  return a;
}

const rows: Array<{ what: string; value: string; note: string }> = [];
const json: Record<string, unknown> = {};

// ---- explain latency -----------------------------------------------------------------------------
const tLoad = performance.now();
const lm = loadModelFolder(findBundledModel());
json.loadMs = performance.now() - tLoad;
rows.push({ what: 'load bundled model', value: `${(json.loadMs as number).toFixed(0)} ms`, note: '30 MB float32 safetensors + tokenizer' });
const sources = fs.readFileSync(path.resolve(__dirname, '..', 'test', 'fixtures', 'conformance', 'test.hyp.beam1.tsv'), 'utf8')
  .split('\n').filter(Boolean).map((l) => l.split('\t')[0]);
const longText = sources.slice(0, 12).join(' ');
for (const budget of [10, 20, 40]) {
  const probe = explain(lm, longText, { maxSourceTokens: budget });
  const ms = timeIt(() => explain(lm, longText, { maxSourceTokens: budget }));
  const key = `explain${budget}`;
  json[key] = { tokens: probe.sourceIds.length, generated: probe.steps.length, medianMs: median(ms) };
  rows.push({ what: `explain ${probe.sourceIds.length}-token input`, value: `${median(ms).toFixed(1)} ms`, note: `${probe.steps.length} tokens generated, greedy, all attentions` });
}

// ---- matmul throughput ---------------------------------------------------------------------------
const [M, N, K] = [256, 256, 1024];
const A = randomMatrix(M * K, 1), B = randomMatrix(N * K, 2), C = new Float32Array(M * N), C2 = new Float32Array(M * N);
const flops = 2 * M * N * K;
const kernelMs = median(timeIt(() => matmulTransB(A, M, K, B, N, C), { warmup: 3, runs: 9 }));
const naiveMs = median(timeIt(() => matmulNaive(A, M, K, B, N, C2), { warmup: 1, runs: 3 }));
let maxDiff = 0;
for (let i = 0; i < C.length; i++) maxDiff = Math.max(maxDiff, Math.abs(C[i] - C2[i]));
const kernelGflops = flops / kernelMs / 1e6, naiveGflops = flops / naiveMs / 1e6;
json.matmul = { shape: [M, N, K], kernelGflops, naiveGflops, speedup: kernelGflops / naiveGflops, maxDiff };
rows.push({ what: `matmul kernel ${M}×${N}×${K}`, value: `${kernelGflops.toFixed(2)} GFLOP/s`, note: 'register-blocked 4×4, one core' });
rows.push({ what: 'matmul naive triple loop', value: `${naiveGflops.toFixed(2)} GFLOP/s`, note: 'same shapes, same run' });
rows.push({ what: 'kernel ÷ naive', value: `${(kernelGflops / naiveGflops).toFixed(2)}×`, note: `results agree to ${maxDiff.toExponential(1)}` });

const w = Math.max(...rows.map((r) => r.what.length));
const v = Math.max(...rows.map((r) => r.value.length));
console.log(`${'measurement'.padEnd(w)}  ${'median'.padStart(v)}  note`);
for (const r of rows) console.log(`${r.what.padEnd(w)}  ${r.value.padStart(v)}  ${r.note}`);
console.log(JSON.stringify({ bench: 'attention-lens', node: process.version, ...json }));
