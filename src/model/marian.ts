/**
 * The Marian encoder–decoder (Hugging Face's MarianMTModel, post-LayerNorm), composed from the units in network/:
 *   encoder      = embed, then N × encoderLayer (self-attention, feed-forward)
 *   decoder step = embed, then N × decoderLayer (masked self-attention, cross-attention, feed-forward), then logits
 * src/model/reference/ computes the same numbers with plain loops; this class adds what makes it fast: a key/value
 * cache per hypothesis, scratch buffers reused across steps, and matrix products from kernels/ (optionally split
 * over threads).
 */
import { throwIfStopped, type ShouldStop } from './cancel';
import type { MarianConfig } from './loading/config';
import type { MarianWeights } from './loading/weights';
import { matmulTransB } from './kernels/matmul';
import type { MatmulFn, MatmulPool } from './kernels/parallel/matmulPool';
import type { KernelPath } from './kernels/kernelChoice';
import type { WasmMatmul } from './kernels/wasm/wasmMatmul';
import { encoderKeyValues, type EncoderKeyValues, type KeyValues } from './network/attention';
import { embed, PositionTable } from './network/embed';
import { decoderLayer, encoderLayer, logits, type DecoderLayerAttention, type LayerScratch } from './network/layers';
import type { Network } from './network/linear';

export interface EncoderOutput {
  length: number;
  /** Hugging Face attention_mask: 1 for real tokens, 0 for padding (absent = all real). */
  attentionMask?: ArrayLike<number>;
  /** [length, dModel] last hidden state. */
  hidden: Float32Array;
  /** [length, dModel] scaled embeddings + positions (only when captured). */
  embeddingOutput?: Float32Array;
  /** Per layer [heads, length, length] (only when captured). */
  attentions?: Float32Array[];
}

/** Cross-attention keys and values of every decoder layer, computed once per source sentence. */
export interface CrossMemory {
  length: number;
  attentionMask?: ArrayLike<number>;
  /** Per decoder layer: the encoder output projected to its keys and values [length, dModel]. */
  layers: EncoderKeyValues[];
}

/** One hypothesis's self-attention cache: per decoder layer, keys and values [capacity, dModel], `length` rows filled. */
export interface DecoderState {
  length: number;
  /** The most positions it may hold (the generation's max_length). */
  capacity: number;
  /** Positions its arrays have room for now: they grow (doubling, up to capacity) as the sentence does. */
  rows: number;
  layers: KeyValues[];
}

/** Positions a new decoder cache has room for before it first grows: most translations fit. */
const INITIAL_CACHE_ROWS = 64;

/** What a single-hypothesis decoder step captures: per layer, attention rows [heads, keys]. */
export interface StepAttention extends DecoderLayerAttention {
  /** When given, receives each decoder layer's output row [dModel] (the logit lens reads these). */
  layerOutputs?: Float32Array[];
}

/** Scratch rows reused by every layer and step, grown when a call needs more rows or keys. */
interface Workspace extends LayerScratch {
  rows: number;
  /** [rows, dModel] the decoder's residual stream. */
  x: Float32Array;
}

export class MarianModel implements Network {
  /** The matrix product every layer uses: this thread's kernels, or a pool's split over threads (same results). */
  matmul: MatmulFn = matmulTransB;
  private readonly embedScale: number;
  private readonly positionTable: PositionTable;
  private workspace?: Workspace;

  constructor(readonly config: MarianConfig, readonly weights: MarianWeights) {
    this.embedScale = config.scaleEmbedding ? Math.sqrt(config.dModel) : 1;
    this.positionTable = new PositionTable(config.dModel, Math.min(config.maxPositions, 64));
  }

  /**
   * Sends every matrix product through `pool` from now on (split over its threads, bit-identical results), or
   * back to this thread alone when undefined.
   */
  useMatmulPool(pool: MatmulPool | undefined): void {
    this.pool = pool;
    this.matmul = pool ? pool.matmulFor(this.simd) : (this.simd?.matmul ?? matmulTransB);
  }

  /**
   * The SIMD kernels over the WebAssembly memory the weights were read into (the loader sets them), or undefined
   * for the JavaScript kernels. At exact precision both give the same numbers (kernels/kernelChoice.ts).
   */
  useKernel(simd: WasmMatmul | undefined): void {
    if (simd !== this.simd) this.workspace = undefined; // the scratch rows move to (or out of) that memory
    this.simd = simd;
    this.useMatmulPool(this.pool);
  }

  /** Which kernels the products run on, and the SIMD ones when loaded (for switching back and forth). */
  get kernelPath(): KernelPath {
    return this.simd ? 'simd' : 'js';
  }
  get simdKernel(): WasmMatmul | undefined {
    return this.simd;
  }
  private simd?: WasmMatmul;
  private pool?: MatmulPool;

  /** The sinusoid rows for positions [0, n): exactly what is added to the scaled embeddings. */
  positions(n: number): Float32Array {
    return this.positionTable.rows(n);
  }

  /** The encoder: embed the source, then every encoder layer. */
  encode(ids: number[], opts: { capture?: boolean; shouldStop?: ShouldStop; attentionMask?: ArrayLike<number> } = {}): EncoderOutput {
    const cfg = this.config;
    const d = cfg.dModel, n = ids.length, H = cfg.encoderHeads;
    for (const id of ids) if (!(Number.isInteger(id) && id >= 0 && id < cfg.vocabSize)) throw new RangeError(`token id ${id} is outside the vocabulary`);
    if (n > cfg.maxPositions) throw new RangeError(`${n} tokens exceed the model's ${cfg.maxPositions} positions`);
    const mask = opts.attentionMask;
    if (mask && mask.length !== n) throw new RangeError(`attention mask has ${mask.length} entries for ${n} tokens`);
    const x = new Float32Array(n * d); // [n, dModel] the residual stream
    embed(this, this.positionTable, this.embedScale, ids, n, 0, x);
    const result: EncoderOutput = { length: n, hidden: x, attentionMask: mask };
    if (opts.capture) {
      result.embeddingOutput = x.slice();
      result.attentions = [];
    }
    const ws = this.scratch(n, n);
    const selfKV: KeyValues = { keys: new Float32Array(n * d), values: new Float32Array(n * d) };
    for (const layer of this.weights.encoder) {
      throwIfStopped(opts.shouldStop);
      const probs = opts.capture ? new Float32Array(H * n * n) : undefined; // [heads, n, n]
      encoderLayer(this, layer, x, n, mask, selfKV, ws, probs);
      if (probs) result.attentions!.push(probs);
    }
    return result;
  }

  /** Projects the encoder output to every decoder layer's cross-attention keys and values (once per sentence). */
  crossMemory(enc: EncoderOutput): CrossMemory {
    const layers = this.weights.decoder.map((layer) => encoderKeyValues(this, layer.encoderAttn, enc.hidden, enc.length, enc.attentionMask));
    return { length: enc.length, attentionMask: enc.attentionMask, layers };
  }

  newDecoderState(capacity: number): DecoderState {
    const d = this.config.dModel, rows = Math.min(capacity, INITIAL_CACHE_ROWS);
    const layers = Array.from({ length: this.config.decoderLayers }, () => ({ keys: new Float32Array(rows * d), values: new Float32Array(rows * d) }));
    return { length: 0, capacity, rows, layers };
  }

  /** Room for `need` positions in a cache (need ≤ capacity): larger arrays, the used part copied over. */
  private growDecoderState(s: DecoderState, need: number): void {
    if (need <= s.rows) return;
    const d = this.config.dModel, rows = Math.min(s.capacity, Math.max(need, 2 * s.rows)), used = s.length * d;
    for (const kv of s.layers) {
      const keys = new Float32Array(rows * d), values = new Float32Array(rows * d);
      keys.set(kv.keys.subarray(0, used));
      values.set(kv.values.subarray(0, used));
      kv.keys = keys;
      kv.values = values;
    }
    s.rows = rows;
  }

  copyDecoderState(from: DecoderState, to: DecoderState): void {
    this.growDecoderState(to, from.length);
    const used = from.length * this.config.dModel;
    for (let l = 0; l < from.layers.length; l++) {
      to.layers[l].keys.set(from.layers[l].keys.subarray(0, used));
      to.layers[l].values.set(from.layers[l].values.subarray(0, used));
    }
    to.length = from.length;
  }

  /**
   * Feeds one token to each of `tokens.length` hypotheses (row b uses states[b]), appends to their caches,
   * and writes the next-token logits [B, vocab] to `logitsOut` (when given).
   * `capture` (single hypothesis only) receives that step's attention rows.
   */
  decodeStep(
    tokens: ArrayLike<number>, states: DecoderState[], mem: CrossMemory,
    logitsOut: Float32Array | undefined, capture?: StepAttention,
  ): void {
    this.decode(tokens, 1, states, mem, logitsOut, capture);
  }

  /**
   * Decoding without a kept cache (Hugging Face's use_cache=False): runs the decoder over the whole prefix `ids`
   * (one hypothesis) with causal self-attention and writes the last position's logits. The same decoder layers
   * compute every row, so the logits equal decodeStep's; the benchmark compares both algorithms with onnxruntime.
   */
  decodePrefix(ids: ArrayLike<number>, mem: CrossMemory, logitsOut: Float32Array): void {
    if (ids.length < 1) throw new RangeError('empty decoder prefix');
    this.decode(ids, ids.length, [this.newDecoderState(ids.length)], mem, logitsOut);
  }

  /**
   * The decoder: `newRows` new tokens for each hypothesis (tokens: [hypotheses·newRows]), which continue the
   * positions in its cache: embed, every decoder layer, then the logits of each hypothesis's last row.
   */
  private decode(
    tokens: ArrayLike<number>, newRows: number, states: DecoderState[], mem: CrossMemory,
    logitsOut: Float32Array | undefined, capture?: StepAttention,
  ): void {
    const d = this.config.dModel, B = states.length;
    const past = states[0].length;
    for (const s of states) if (s.length !== past || past + newRows > s.capacity) throw new RangeError('decoder states out of step or full');
    for (const s of states) this.growDecoderState(s, past + newRows);
    const ws = this.scratch(B * newRows, Math.max(past + newRows, mem.length));
    const x = ws.x; // [B·newRows, dModel] the residual stream
    embed(this, this.positionTable, this.embedScale, tokens, newRows, past, x);
    for (let l = 0; l < this.weights.decoder.length; l++) {
      decoderLayer(this, this.weights.decoder[l], x, newRows, past, states.map((s) => s.layers[l]), mem.layers[l], ws, capture);
      if (capture?.layerOutputs) capture.layerOutputs.push(x.slice(0, d));
    }
    for (const s of states) s.length = past + newRows;
    if (logitsOut) logits(this, x, B, newRows, logitsOut);
  }

  /** The workspace with at least `rows` rows and room for `keys` attention weights. */
  private scratch(rows: number, keys: number): Workspace {
    const ws = this.workspace;
    if (ws && ws.rows >= rows && ws.scores.length >= keys) return ws;
    const cfg = this.config, d = cfg.dModel;
    const r = Math.max(rows, ws?.rows ?? 0);
    // with the SIMD kernels the rows live in their memory, so no product copies its operands in or out
    const arena = this.simd?.arena;
    const rowsOf = (n: number) => (arena ? arena.float32(n) : new Float32Array(n));
    this.workspace = {
      rows: r,
      x: rowsOf(r * d), q: rowsOf(r * d), kv: rowsOf(r * d), ctx: rowsOf(r * d),
      sublayer: rowsOf(r * d), hidden: rowsOf(r * Math.max(cfg.encoderFfn, cfg.decoderFfn)),
      scores: new Float32Array(Math.max(keys, 2 * (ws?.scores.length ?? 0), 64)),
    };
    return this.workspace;
  }
}
