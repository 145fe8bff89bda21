/**
 * Load time and resident memory of an opus-mt-sized checkpoint (d_model 512, 6+6 layers, 8 heads, FFN 2048,
 * vocab 58,101, swish: about 74M parameters, ~296 MB as float32). A random-weight folder is written to a temp dir,
 * then loaded with loadMarianNetwork while process.memoryUsage() is sampled around the load.
 *
 *   node --import tsx bench/byoModel.ts [safetensors|bin|both]
 *
 * The deltas say whether the weights cost about one file size (float32 views into the file buffer) or more.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { findBundledModel } from '../src/model/loading/bundledModel';
import { explain } from '../src/model/explain/explain';
import { loadModelFolder } from '../src/model/loading/loadModel';
import { benchPaths, type BenchPath } from './kernelPaths';
import { MatmulPool } from '../src/model/kernels/parallel/matmulPool';
import { loadMarianNetwork } from '../src/model/loading/loadNetwork';
import { buildZip, pickle, writeSafetensors } from '../test/helpers/modelFiles';

const D = 512, LAYERS = 6, HEADS = 8, FFN = 2048, VOCAB = 58101;

interface Shape {
  name: string;
  shape: number[];
}

function opusShapedTensors(): Shape[] {
  const t: Shape[] = [{ name: 'final_logits_bias', shape: [1, VOCAB] }, { name: 'model.shared.weight', shape: [VOCAB, D] }];
  const linear = (p: string, out: number, inp: number) => t.push({ name: `${p}.weight`, shape: [out, inp] }, { name: `${p}.bias`, shape: [out] });
  const norm = (p: string) => t.push({ name: `${p}.weight`, shape: [D] }, { name: `${p}.bias`, shape: [D] });
  const attn = (p: string) => ['q_proj', 'k_proj', 'v_proj', 'out_proj'].forEach((x) => linear(`${p}.${x}`, D, D));
  for (const side of ['encoder', 'decoder'] as const) {
    for (let i = 0; i < LAYERS; i++) {
      const p = `model.${side}.layers.${i}`;
      attn(`${p}.self_attn`);
      norm(`${p}.self_attn_layer_norm`);
      if (side === 'decoder') {
        attn(`${p}.encoder_attn`);
        norm(`${p}.encoder_attn_layer_norm`);
      }
      linear(`${p}.fc1`, FFN, D);
      linear(`${p}.fc2`, D, FFN);
      norm(`${p}.final_layer_norm`);
    }
  }
  return t;
}

function opusShapedConfig(): object {
  return {
    activation_function: 'swish', architectures: ['MarianMTModel'], model_type: 'marian',
    d_model: D, encoder_layers: LAYERS, decoder_layers: LAYERS, encoder_attention_heads: HEADS, decoder_attention_heads: HEADS,
    encoder_ffn_dim: FFN, decoder_ffn_dim: FFN, vocab_size: VOCAB, max_position_embeddings: 512, scale_embedding: true,
    normalize_before: false, normalize_embedding: false, add_bias_logits: false, add_final_layer_norm: false, static_position_embeddings: true,
    pad_token_id: VOCAB - 1, decoder_start_token_id: VOCAB - 1, eos_token_id: 0, bos_token_id: 0, forced_eos_token_id: 0,
    bad_words_ids: [[VOCAB - 1]], num_beams: 4, max_length: 512,
  };
}

/** Deterministic small random weights (LayerNorm gains near 1 so a forward pass stays finite). */
function fill(shape: Shape, seed: number): Float32Array {
  const n = shape.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let x = (seed * 2654435761) >>> 0;
  const gain = /layer_norm\.weight$/.test(shape.name);
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const r = (x / 2 ** 32 - 0.5) * 0.1;
    out[i] = gain ? 1 + r : r;
  }
  return out;
}

/** Writes the random opus-shaped folder; `format` picks model.safetensors or pytorch_model.bin. Returns the weight file. */
export function writeOpusShapedFolder(dir: string, format: 'safetensors' | 'bin' = 'safetensors'): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(opusShapedConfig(), null, 2));
  const tensors = opusShapedTensors();
  if (format === 'safetensors') {
    const file = path.join(dir, 'model.safetensors');
    writeSafetensors(file, tensors.map((t) => ({ ...t, dtype: 'F32' as const })), (i) => fill(tensors[i], i));
    return file;
  }
  // pytorch_model.bin with the published layout: tied embed_tokens / lm_head copies sharing the shared storage
  const items: Array<[string, Buffer]> = [];
  const records: Array<{ name: string; data: Uint8Array }> = [];
  tensors.forEach((t, i) => {
    const data = fill(t, i);
    const stride = t.shape.map((_, k) => t.shape.slice(k + 1).reduce((a, b) => a * b, 1));
    records.push({ name: `archive/data/${i}`, data: new Uint8Array(data.buffer) });
    const ref = pickle.tensor('FloatStorage', String(i), data.length, 0, t.shape, stride);
    items.push([t.name, ref]);
    if (t.name === 'model.shared.weight') {
      for (const alias of ['model.encoder.embed_tokens.weight', 'model.decoder.embed_tokens.weight', 'lm_head.weight']) items.push([alias, ref]);
    }
  });
  const file = path.join(dir, 'pytorch_model.bin');
  fs.writeFileSync(file, buildZip([{ name: 'archive/data.pkl', data: pickle.stateDict(items) }, ...records, { name: 'archive/version', data: Buffer.from('3\n') }]));
  return file;
}

function collectGarbage(): void {
  let gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
  gc();
}

const MB = 1024 * 1024;

export interface OpusShapedLoad {
  format: 'safetensors' | 'bin';
  params: number;
  fileMB: number;
  loadMs: number;
  rssDeltaMB: number;
  arrayBuffersDeltaMB: number;
}

/** Writes, loads and measures one opus-shaped model (float32 model.safetensors by default). */
export async function measureOpusShapedLoad(format: 'safetensors' | 'bin' = 'safetensors'): Promise<OpusShapedLoad> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-lens-opus-shaped-'));
  try {
    const file = writeOpusShapedFolder(dir, format);
    const fileMB = fs.statSync(file).size / MB;
    collectGarbage();
    await new Promise((r) => setTimeout(r, 50));
    const before = process.memoryUsage();
    const t0 = performance.now();
    const net = loadMarianNetwork(dir);
    const loadMs = performance.now() - t0;
    collectGarbage();
    const afterLoad = process.memoryUsage();
    // keep the model alive through the measurement, and prove it runs
    const enc = net.model.encode([5, 17, 4000, 58000, 0]);
    if (!enc.hidden.every(Number.isFinite)) throw new Error('opus-shaped model produced non-finite values');
    const params = opusShapedTensors().reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
    return {
      format,
      params,
      fileMB: round(fileMB),
      loadMs: round(loadMs),
      rssDeltaMB: round((afterLoad.rss - before.rss) / MB),
      arrayBuffersDeltaMB: round((afterLoad.arrayBuffers - before.arrayBuffers) / MB),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const round = (x: number): number => Math.round(x * 10) / 10;

export interface OpusShapedExplain {
  params: number;
  fileMB: number;
  /** loadModelFolder: weights + tokenizer. */
  loadMs: number;
  rssDeltaMB: number;
  arrayBuffersDeltaMB: number;
  sourceTokens: number;
  generated: number;
  /** Per-run wall-clock and CPU milliseconds of explain(), on one thread. */
  wallMs: number[];
  cpuMs: number[];
  /** The same with the products split over more threads (bit-identical explanation checked). */
  multi: Array<{ threads: number; wallMs: number[]; cpuMs: number[]; identical: boolean }>;
  /** The kernel path of wallMs/cpuMs/multi (the default one), and every measured path's figures. */
  kernel: BenchPath;
  byKernel: Array<{ kernel: BenchPath; wallMs: number[]; cpuMs: number[]; identical: boolean; multi: OpusShapedExplain['multi'] }>;
}

/**
 * Explain latency of the opus-shaped model: the random-weight folder gets the bundled tokenizer files (its ids are
 * all < 7,999, valid in the 58,101-entry vocabulary), is loaded with loadModelFolder (time and memory measured as
 * above), then explain() runs `runs` times on `text` cut to `sourceTokens` tokens. Random weights never choose
 * eos, so generation is capped at `newTokens` (about what the bundled model generates for 20 source tokens).
 */
export async function measureOpusShapedExplain(text: string, { sourceTokens = 20, newTokens = 20, runs = 5, threads = [] as number[] } = {}): Promise<OpusShapedExplain> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-lens-opus-shaped-'));
  try {
    const file = writeOpusShapedFolder(dir, 'safetensors');
    const bundled = findBundledModel();
    for (const f of ['source.spm', 'target.spm', 'vocab.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
      if (fs.existsSync(path.join(bundled, f))) fs.copyFileSync(path.join(bundled, f), path.join(dir, f));
    }
    collectGarbage();
    await new Promise((r) => setTimeout(r, 50));
    const before = process.memoryUsage();
    const t0 = performance.now();
    const lm = loadModelFolder(dir);
    const loadMs = performance.now() - t0;
    collectGarbage();
    const afterLoad = process.memoryUsage();
    const opts = { maxSourceTokens: sourceTokens, maxNewTokens: newTokens, logitLens: false }; // as the hover and side view run it
    const probe = explain(lm, text, opts); // also the warm-up
    const timed = () => {
      const wallMs: number[] = [], cpuMs: number[] = [];
      for (let i = 0; i < runs; i++) {
        const c = process.cpuUsage();
        const t = performance.now();
        explain(lm, text, opts);
        wallMs.push(performance.now() - t);
        const u = process.cpuUsage(c);
        cpuMs.push((u.user + u.system) / 1000);
      }
      return { wallMs, cpuMs };
    };
    const same = (e: object) => JSON.stringify({ ...e, timingsMs: undefined });
    // every kernel path (default first) over the same weights, each checked against the default path's explanation
    const { paths, use, defaultPath: defaultKernel } = benchPaths(lm.model);
    const byKernel: OpusShapedExplain['byKernel'] = [];
    for (const kernel of paths) {
      use(kernel);
      const identical = same(explain(lm, text, opts)) === same(probe); // also the warm-up
      const one = timed();
      const multi: OpusShapedExplain['multi'] = [];
      for (const n of threads) {
        const pool = new MatmulPool({ threads: n });
        lm.model.useMatmulPool(pool);
        const same2 = same(explain(lm, text, opts)) === same(probe); // also the warm-up
        multi.push({ threads: n, ...timed(), identical: same2 });
        lm.model.useMatmulPool(undefined);
        await pool.close();
      }
      byKernel.push({ kernel, ...one, identical, multi });
    }
    use(defaultKernel);
    const { wallMs, cpuMs, multi } = byKernel[0];
    return {
      params: opusShapedTensors().reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0),
      fileMB: round(fs.statSync(file).size / MB),
      loadMs: round(loadMs),
      rssDeltaMB: round((afterLoad.rss - before.rss) / MB),
      arrayBuffersDeltaMB: round((afterLoad.arrayBuffers - before.arrayBuffers) / MB),
      sourceTokens: probe.sourceIds.length,
      generated: probe.steps.length,
      wallMs,
      cpuMs,
      multi,
      kernel: defaultKernel,
      byKernel,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// run directly (under tsx); not when bundled into the bench, where this is part of bench.js
if (require.main === module && /byoModel\.[cm]?[jt]s$/.test(__filename)) {
  const arg = process.argv[2] ?? 'both';
  const formats: Array<'safetensors' | 'bin'> = arg === 'both' ? ['safetensors', 'bin'] : [arg as 'safetensors' | 'bin'];
  void (async () => {
    for (const f of formats) console.log(JSON.stringify(await measureOpusShapedLoad(f)));
  })();
}
