/**
 * npm run bench — speed figures measured in one run, each next to its target and its peers (medians of wall-clock
 * time; this machine is shared and noisy, so these are never unit tests, and CPU-time medians are kept in the JSON
 * as a cross-check):
 *  - explain latency with the bundled model (tokenize + encode + greedy translate + every attention captured)
 *    for 10/20/40-token inputs;
 *  - the same for a random-weight opus-mt-shaped model (74M parameters), with its load time and memory;
 *  - matrix-multiply throughput of the kernel next to the previous kernel, a naive triple loop and this CPU's
 *    ceiling measured by a C program (bench/peak_fma.c);
 *  - our engine ÷ onnxruntime on the same checkpoint exported to ONNX (npm run bench:setup), greedy decoding with
 *    and without a key/value cache, outputs checked equal.
 * Prints one table and ends with one machine-readable JSON line. Rows are one thread unless they say "2 threads":
 * those split the matrix products over both cores (src/model/kernels/parallel, outputs checked identical to one thread),
 * next to onnxruntime with intraOpNumThreads 2.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findBundledModel } from '../src/model/loading/bundledModel';
import { explain, loadModelFolder } from '../src/model';
import { matmulTransB } from '../src/model/kernels/matmul';
import { matmulNaive, matmulTransB4x4 } from '../src/model/reference/matmul';
import { measureOpusShapedExplain } from './byoModel';
import { OrtGreedy, OursGreedy, ONNX_DIR, loadOrt } from './onnxPeer';
import { measurePeak } from './peak';
import { PROJECT_DIR } from './paths';
import { measureTraining } from './training';
import { MatmulPool, sharedFloat32 } from '../src/model/kernels/parallel/matmulPool';

const TARGETS = { explain20Ms: 40, opus20Ms: 600, kernelGflops: 8, onnxRatio: 1.0 };
const THREADS = 2;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Wall-clock and CPU milliseconds per run. */
function timeIt(fn: () => void, { warmup = 2, runs = 9 } = {}): { wall: number[]; cpu: number[] } {
  for (let i = 0; i < warmup; i++) fn();
  const wall: number[] = [], cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    fn();
    wall.push(performance.now() - t);
    const u = process.cpuUsage(c);
    cpu.push((u.user + u.system) / 1000);
  }
  return { wall, cpu };
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

const rows: Array<{ what: string; value: string; target?: string; note: string }> = [];
const json: Record<string, unknown> = {};
const f1 = (x: number) => x.toFixed(1);
/** "met" or how far off: measured ÷ target for upper bounds, target ÷ measured for lower bounds. */
const verdict = (value: number, target: number, lowerIsBetter: boolean): string => {
  const ok = lowerIsBetter ? value <= target : value >= target;
  const factor = lowerIsBetter ? value / target : target / value;
  return ok ? 'met' : `missed ×${factor.toFixed(2)}`;
};

(async () => {
  const t0 = performance.now();
  json.cpu = os.cpus()[0]?.model ?? 'unknown';
  json.loadAvgAtStart = os.loadavg()[0];

  // ---- explain latency, bundled model -------------------------------------------------------------
  const tLoad = performance.now();
  const lm = loadModelFolder(findBundledModel());
  json.loadMs = performance.now() - tLoad;
  rows.push({ what: 'load bundled model', value: `${(json.loadMs as number).toFixed(0)} ms`, note: '30 MB float32 safetensors + tokenizer' });
  const sources = fs.readFileSync(path.join(PROJECT_DIR, 'test', 'fixtures', 'conformance', 'test.hyp.beam1.tsv'), 'utf8')
    .split('\n').filter(Boolean).map((l) => l.split('\t')[0]);
  const longText = sources.slice(0, 12).join(' ');
  const same = (e: object) => JSON.stringify({ ...e, timingsMs: undefined });
  const pool = new MatmulPool({ threads: THREADS });
  for (const threads of [1, THREADS]) {
    for (const budget of [10, 20, 40]) {
      lm.model.useMatmulPool(undefined);
      const probe = explain(lm, longText, { maxSourceTokens: budget });
      lm.model.useMatmulPool(threads > 1 ? pool : undefined);
      const identical = same(explain(lm, longText, { maxSourceTokens: budget })) === same(probe);
      const t = timeIt(() => explain(lm, longText, { maxSourceTokens: budget }), { warmup: 2, runs: 11 });
      const ms = median(t.wall);
      json[`explain${budget}${threads > 1 ? `_${threads}t` : ''}`] = { tokens: probe.sourceIds.length, generated: probe.steps.length, medianMs: ms, cpuMedianMs: median(t.cpu), threads, identicalToOneThread: identical };
      rows.push({
        what: `explain ${probe.sourceIds.length}-token input${threads > 1 ? `, ${threads} threads` : ''}`, value: `${f1(ms)} ms`,
        target: budget === 20 ? `≤ ${TARGETS.explain20Ms} ms: ${verdict(ms, TARGETS.explain20Ms, true)}` : undefined,
        note: `${probe.steps.length} tokens generated, greedy, all attentions (cpu ${f1(median(t.cpu))} ms)${threads > 1 ? `; identical to 1 thread: ${identical}` : ''}`,
      });
    }
  }
  lm.model.useMatmulPool(undefined);

  // ---- explain latency, 74M-parameter opus-mt-shaped model -------------------------------------------
  try {
    const o = await measureOpusShapedExplain(longText, { sourceTokens: 20, newTokens: 20, runs: 5, threads: [THREADS] });
    const ms = median(o.wallMs);
    json.opus74m = { ...o, medianMs: ms, cpuMedianMs: median(o.cpuMs) };
    rows.push({
      what: `74M opus-shaped: explain ${o.sourceTokens} tokens`, value: `${f1(ms)} ms`,
      target: `≤ ${TARGETS.opus20Ms} ms: ${verdict(ms, TARGETS.opus20Ms, true)}`,
      note: `${o.generated} tokens generated (capped: random weights), all attentions (cpu ${f1(median(o.cpuMs))} ms)`,
    });
    for (const m of o.multi) {
      const mm = median(m.wallMs);
      rows.push({
        what: `74M opus-shaped: explain ${o.sourceTokens} tokens, ${m.threads} threads`, value: `${f1(mm)} ms`,
        target: `≤ ${TARGETS.opus20Ms} ms: ${verdict(mm, TARGETS.opus20Ms, true)}`,
        note: `identical to 1 thread: ${m.identical}; ×${(ms / mm).toFixed(2)} over 1 thread (cpu ${f1(median(m.cpuMs))} ms)`,
      });
    }
    rows.push({ what: '74M opus-shaped: load', value: `${o.loadMs.toFixed(0)} ms`, note: `${(o.params / 1e6).toFixed(1)}M params, ${o.fileMB} MB safetensors + tokenizer` });
    rows.push({ what: '74M opus-shaped: memory', value: `${o.rssDeltaMB.toFixed(0)} MB`, note: `resident-set growth over the load (ArrayBuffers +${o.arrayBuffersDeltaMB.toFixed(0)} MB): weights stay views into the file buffer` });
  } catch (e) {
    json.opus74m = { error: (e as Error).message };
    rows.push({ what: '74M opus-shaped model', value: 'n/a', note: `could not run: ${(e as Error).message}` });
  }

  // ---- matmul throughput -------------------------------------------------------------------------------
  const [M, N, K] = [256, 256, 1024];
  const A = randomMatrix(M * K, 1), B = randomMatrix(N * K, 2), C = new Float32Array(M * N), C2 = new Float32Array(M * N), C3 = new Float32Array(M * N);
  const flops = 2 * M * N * K;
  const kt = timeIt(() => matmulTransB(A, M, K, B, N, C), { warmup: 3, runs: 11 });
  const ot = timeIt(() => matmulTransB4x4(A, M, K, B, N, C3), { warmup: 3, runs: 11 });
  const nt = timeIt(() => matmulNaive(A, M, K, B, N, C2), { warmup: 1, runs: 3 });
  const Bs = sharedFloat32(N * K); // the pool needs shared weights, as the model loader provides them
  Bs.set(B);
  const Cp = new Float32Array(M * N);
  const pt = timeIt(() => pool.matmul(A, M, K, Bs, N, Cp), { warmup: 3, runs: 11 });
  let maxDiff = 0, identical = true, poolIdentical = true;
  for (let i = 0; i < C.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(C[i] - C2[i]));
    if (C[i] !== C3[i]) identical = false;
    if (C[i] !== Cp[i]) poolIdentical = false;
  }
  const gf = (ms: number, fl = flops) => fl / ms / 1e6;
  const poolGflops = gf(median(pt.wall));
  const kernelGflops = gf(median(kt.wall)), oldGflops = gf(median(ot.wall)), naiveGflops = gf(median(nt.wall));
  // the decoder's one-token steps: the tied output projection as a matrix-vector product
  const [Vn, Vk] = [lm.config.vocabSize, lm.config.dModel];
  const x1 = randomMatrix(Vk, 3), lo = new Float32Array(Vn);
  const mv = timeIt(() => matmulTransB(x1, 1, Vk, lm.model.weights.lmHead, Vn, lo), { warmup: 5, runs: 31 });
  const mvOld = timeIt(() => matmulTransB4x4(x1, 1, Vk, lm.model.weights.lmHead, Vn, lo), { warmup: 5, runs: 31 });
  const mvGflops = gf(median(mv.wall), 2 * Vn * Vk), mvOldGflops = gf(median(mvOld.wall), 2 * Vn * Vk);
  const pk = measurePeak();
  json.matmul = {
    shape: [M, N, K], kernelGflops, kernelCpuGflops: gf(median(kt.cpu)), previous4x4Gflops: oldGflops, naiveGflops,
    speedupOverNaive: kernelGflops / naiveGflops, bitIdenticalToPrevious: identical, maxDiffVsNaive: maxDiff,
    pool: { threads: THREADS, gflops: poolGflops, bitIdentical: poolIdentical },
    matvec: { shape: [1, Vn, Vk], gflops: mvGflops, previousGflops: mvOldGflops },
  };
  json.peak = pk.peak ?? { error: pk.why };
  const peakNote = pk.peak
    ? `${(100 * kernelGflops / pk.peak.scalarF64Gflops).toFixed(0)}% of scalar-double peak, ${pk.peak.fmaF32Gflops ? (100 * kernelGflops / pk.peak.fmaF32Gflops).toFixed(1) : '?'}% of fp32 FMA peak`
    : 'no C peak to compare';
  rows.push({
    what: `matmul kernel ${M}×${N}×${K}`, value: `${kernelGflops.toFixed(2)} GFLOP/s`,
    target: `≥ ${TARGETS.kernelGflops} GFLOP/s: ${verdict(kernelGflops, TARGETS.kernelGflops, false)}`,
    note: `K-specialised 3×3 blocks, one core; ${peakNote}`,
  });
  rows.push({ what: `matmul ${M}×${N}×${K}, ${THREADS} threads`, value: `${poolGflops.toFixed(2)} GFLOP/s`, note: `columns split with the pool: ×${(poolGflops / kernelGflops).toFixed(2)} over one core, bit-identical: ${poolIdentical}` });
  rows.push({ what: 'matmul previous 4×4 kernel', value: `${oldGflops.toFixed(2)} GFLOP/s`, note: `same shapes; new kernel ×${(kernelGflops / oldGflops).toFixed(2)}, outputs bit-identical: ${identical}` });
  rows.push({ what: 'matmul naive triple loop', value: `${naiveGflops.toFixed(2)} GFLOP/s`, note: `kernel ÷ naive ×${(kernelGflops / naiveGflops).toFixed(2)}, results agree to ${maxDiff.toExponential(1)}` });
  rows.push({ what: `matvec 1×${Vn}×${Vk} (output proj.)`, value: `${mvGflops.toFixed(2)} GFLOP/s`, note: `decoder step's largest product; previous kernel ${mvOldGflops.toFixed(2)} GFLOP/s` });
  if (pk.peak) {
    if (pk.peak.fmaF32Gflops) rows.push({ what: 'C peak: fp32 AVX2 FMA', value: `${pk.peak.fmaF32Gflops.toFixed(1)} GFLOP/s`, note: 'bench/peak_fma.c, gcc -O3 -march=native, one core: the physical limit' });
    rows.push({ what: 'C peak: scalar double mul+add', value: `${pk.peak.scalarF64Gflops.toFixed(1)} GFLOP/s`, note: 'same program: the ceiling for the scalar-double code V8 emits (no SIMD in JS)' });
  } else {
    rows.push({ what: 'C peak', value: 'n/a', note: `could not run: ${pk.why}` });
  }

  // ---- onnxruntime ----------------------------------------------------------------------------------------
  const onnx: Record<string, unknown> = {};
  json.onnx = onnx;
  const { ort, why: ortWhy } = loadOrt();
  let onnxWhy = ortWhy;
  if (ort && !fs.existsSync(path.join(ONNX_DIR, 'meta.json'))) {
    const r = spawnSync(process.execPath, [path.join(PROJECT_DIR, 'scripts', 'onnx', 'setup.mjs')], { encoding: 'utf8' });
    if (r.status !== 0) onnxWhy = `no ONNX export (npm run bench:setup failed: ${(r.stderr || r.stdout).trim().split('\n').pop()})`;
  }
  if (ort && !onnxWhy) {
    const golden = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, 'test', 'fixtures', 'checkpoint', 'golden.json'), 'utf8')) as { sentences: Array<{ text: string; input_ids: number[]; greedy_ids: number[] }> };
    const sents = golden.sentences;
    const ours = new OursGreedy(lm.model, lm.generation);
    for (const threads of [1, THREADS]) {
      const peer = await OrtGreedy.create(ort, lm.generation, threads);
      lm.model.useMatmulPool(threads > 1 ? pool : undefined);
      for (const cache of [true, false]) {
        // outputs first: every sentence must match the golden greedy ids on both sides
        let same = 0;
        for (const s of sents) {
          const a = ours.translate(s.input_ids, cache), b = await peer.translate(s.input_ids, cache);
          if (JSON.stringify(a) === JSON.stringify(s.greedy_ids) && JSON.stringify(b) === JSON.stringify(s.greedy_ids)) same++;
        }
        const oursMs: number[] = [], ortMs: number[] = [];
        const reps = cache ? 7 : 5;
        for (let r = 0; r < reps; r++) { // interleaved, so both sides see the same machine load
          let t = performance.now();
          for (const s of sents) ours.translate(s.input_ids, cache);
          oursMs.push(performance.now() - t);
          t = performance.now();
          for (const s of sents) await peer.translate(s.input_ids, cache);
          ortMs.push(performance.now() - t);
        }
        const key = `${cache ? 'cache' : 'noCache'}${threads}t`;
        const om = median(oursMs), rm = median(ortMs);
        onnx[key] = { sentences: sents.length, identical: same, ortMs: rm, oursMs: om, ratio: om / rm, threads };
        const alg = `greedy ${cache ? 'with' : 'without'} KV cache`;
        if (threads === 1) {
          rows.push({
            what: `ours ÷ onnxruntime, ${alg}`, value: `${(om / rm).toFixed(2)}`,
            target: `≤ ${TARGETS.onnxRatio.toFixed(1)}: ${verdict(om / rm, TARGETS.onnxRatio, true)}`,
            note: `${sents.length} golden sentences: ours ${f1(om)} ms, onnxruntime ${f1(rm)} ms (1 thread each); ${same}/${sents.length} outputs identical to HF`,
          });
        } else {
          const one = onnx[`${cache ? 'cache' : 'noCache'}1t`] as { ortMs: number };
          (onnx[key] as Record<string, number>).ratioToOrtOneThread = om / one.ortMs;
          rows.push({
            what: `ours ÷ onnxruntime, ${alg}, ${threads} threads`, value: `${(om / rm).toFixed(2)}`,
            target: `≤ ${TARGETS.onnxRatio.toFixed(1)}: ${verdict(om / rm, TARGETS.onnxRatio, true)}`,
            note: `ours ${f1(om)} ms, onnxruntime ${f1(rm)} ms (intraOpNumThreads ${threads}); ours ${threads} threads ÷ onnxruntime 1 thread ${(om / one.ortMs).toFixed(2)}; ${same}/${sents.length} identical`,
          });
        }
      }
      lm.model.useMatmulPool(undefined);
      await peer.release();
    }
  } else {
    onnx.error = onnxWhy;
    rows.push({ what: 'ours ÷ onnxruntime', value: 'n/a', note: `could not run: ${onnxWhy}` });
  }

  // ---- training a tiny transformer (issue 17) ------------------------------------------------------------
  {
    const tr = await measureTraining(THREADS);
    json.training = tr;
    const lg = tr.letsGo, slowest = Math.max(...lg.seconds);
    rows.push({
      what: 'train lets-go: loss < 0.05, both right', value: `${f1(median(lg.seconds) * 1000)} ms`,
      target: `< 2 s: ${verdict(slowest, 2, true)}`,
      note: `seeds ${lg.seeds.join(', ')}: ${lg.steps.join(', ')} steps, slowest ${slowest.toFixed(2)} s, converged ${lg.converged.filter(Boolean).length}/${lg.seeds.length}`,
    });
    rows.push({
      what: 'train reverse: ≥ 95 % token accuracy', value: `${f1(tr.reverse.seconds)} s`,
      target: `< 60 s: ${verdict(tr.reverse.seconds, 60, true)}`,
      note: `${tr.reverse.steps} steps of 16 pairs, held-out accuracy ${(tr.reverse.accuracy * 100).toFixed(1)} % (teacher forced), cross-attention on the anti-diagonal ${(tr.reverse.antiDiagonal * 100).toFixed(0)} % (best head), each batch split over ${THREADS} threads`,
    });
    rows.push({
      what: `train tatoeba-en-es, ${THREADS} threads`, value: `${tr.tatoeba.stepsPerSecond.toFixed(2)} steps/s`,
      note: `batch ${tr.tatoeba.batch} pairs, d_model 64, 2+2 layers, 2 heads, vocabulary ${tr.tatoeba.vocab}; each batch split between two threads (data parallel)`,
    });
  }

  // ---- the table ----------------------------------------------------------------------------------------
  json.targets = {
    explain20: { targetMs: TARGETS.explain20Ms, medianMs: (json.explain20 as { medianMs: number }).medianMs, medianMs2t: (json[`explain20_${THREADS}t`] as { medianMs: number }).medianMs },
    opus74m20: {
      targetMs: TARGETS.opus20Ms,
      medianMs: (json.opus74m as { medianMs?: number }).medianMs ?? null,
      medianMs2t: (json.opus74m as { multi?: Array<{ wallMs: number[] }> }).multi?.map((m) => median(m.wallMs))[0] ?? null,
    },
    kernel: { targetGflops: TARGETS.kernelGflops, gflops: kernelGflops },
    onnxRatio: {
      target: TARGETS.onnxRatio,
      cache: (onnx.cache1t as { ratio?: number } | undefined)?.ratio ?? null,
      noCache: (onnx.noCache1t as { ratio?: number } | undefined)?.ratio ?? null,
      cache2t: (onnx[`cache${THREADS}t`] as { ratio?: number } | undefined)?.ratio ?? null,
      noCache2t: (onnx[`noCache${THREADS}t`] as { ratio?: number } | undefined)?.ratio ?? null,
    },
  };
  await pool.close();
  json.benchSeconds = (performance.now() - t0) / 1000;
  json.loadAvgAtEnd = os.loadavg()[0];
  const w = Math.max(...rows.map((r) => r.what.length));
  const v = Math.max(...rows.map((r) => r.value.length));
  const g = Math.max(...rows.map((r) => (r.target ?? '').length));
  console.log(`${'measurement'.padEnd(w)}  ${'median'.padStart(v)}  ${'target'.padEnd(g)}  note`);
  for (const r of rows) console.log(`${r.what.padEnd(w)}  ${r.value.padStart(v)}  ${(r.target ?? '').padEnd(g)}  ${r.note}`);
  console.log(`(${os.cpus().length} cores: ${json.cpu}; load average ${os.loadavg()[0].toFixed(2)}; node ${process.version}; ${(json.benchSeconds as number).toFixed(0)} s)`);
  console.log(JSON.stringify({ bench: 'attention-lens', node: process.version, ...json }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
