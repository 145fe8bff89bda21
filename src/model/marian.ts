/** The Marian encoder–decoder forward pass (post-LayerNorm, as Hugging Face's MarianMTModel computes it). */
import { multiHeadAttention } from './network/attention';
import { throwIfStopped, type ShouldStop } from './cancel';
import type { MarianConfig } from './loading/config';
import { matmulTransB } from './kernels/matmul';
import type { MatmulFn, MatmulPool } from './kernels/parallel/matmulPool';
import { activateInPlace, addInPlace, layerNormInPlace } from './network/ops';
import { sinusoidalPositions } from './network/positions';
import type { AttentionWeights, EncoderLayerWeights, LayerNormWeights, Linear, MarianWeights } from './loading/weights';

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

/** Cross-attention keys and values per decoder layer, computed once per source sentence. */
export interface CrossMemory {
  length: number;
  attentionMask?: ArrayLike<number>;
  keys: Float32Array[];
  values: Float32Array[];
}

/** One hypothesis's self-attention cache: per layer [capacity, dModel] keys and values. */
export interface DecoderState {
  length: number;
  capacity: number;
  keys: Float32Array[];
  values: Float32Array[];
}

/** Attention rows of a single-hypothesis decoder step: per layer [heads, keys]. */
export interface StepAttention {
  self: Float32Array[];
  cross: Float32Array[];
  /** When given, receives each decoder layer's output row [dModel] (the logit lens reads these). */
  layerOutputs?: Float32Array[];
}

interface StepWorkspace {
  B: number;
  x: Float32Array;
  q: Float32Array;
  kv: Float32Array;
  ctx: Float32Array;
  tmp: Float32Array;
  ffn: Float32Array;
  scores: Float32Array;
}

export class MarianModel {
  private readonly embedScale: number;
  private positionTable: Float32Array;
  private workspace?: StepWorkspace;
  private matmul: MatmulFn = matmulTransB;

  constructor(readonly config: MarianConfig, readonly weights: MarianWeights) {
    this.embedScale = config.scaleEmbedding ? Math.sqrt(config.dModel) : 1;
    this.positionTable = sinusoidalPositions(Math.min(config.maxPositions, 64), config.dModel);
  }

  /**
   * Sends every matrix product through `pool` from now on (split over its threads, bit-identical results), or
   * back to this thread alone when undefined.
   */
  useMatmulPool(pool: MatmulPool | undefined): void {
    this.matmul = pool ? pool.matmul : matmulTransB;
  }

  /** The sinusoid rows for positions [0, n): exactly what is added to the scaled embeddings. */
  positions(n: number): Float32Array {
    const d = this.config.dModel;
    if (n * d > this.positionTable.length) this.positionTable = sinusoidalPositions(Math.max(n, 2 * this.positionTable.length / d), d);
    return this.positionTable.subarray(0, n * d);
  }

  private embed(ids: ArrayLike<number>, startPos: number, out: Float32Array): void {
    const d = this.config.dModel;
    const emb = this.weights.embeddings;
    const pos = this.positions(startPos + ids.length);
    for (let i = 0; i < ids.length; i++) {
      const eo = ids[i] * d, po = (startPos + i) * d, oo = i * d;
      for (let c = 0; c < d; c++) out[oo + c] = emb[eo + c] * this.embedScale + pos[po + c];
    }
  }

  encode(ids: number[], opts: { capture?: boolean; shouldStop?: ShouldStop; attentionMask?: ArrayLike<number> } = {}): EncoderOutput {
    const cfg = this.config;
    const d = cfg.dModel, n = ids.length, H = cfg.encoderHeads;
    for (const id of ids) if (!(Number.isInteger(id) && id >= 0 && id < cfg.vocabSize)) throw new RangeError(`token id ${id} is outside the vocabulary`);
    if (n > cfg.maxPositions) throw new RangeError(`${n} tokens exceed the model's ${cfg.maxPositions} positions`);
    const x = new Float32Array(n * d);
    this.embed(ids, 0, x);
    const mask = opts.attentionMask;
    if (mask && mask.length !== n) throw new RangeError(`attention mask has ${mask.length} entries for ${n} tokens`);
    const result: EncoderOutput = { length: n, hidden: x, attentionMask: mask };
    if (opts.capture) {
      result.embeddingOutput = x.slice();
      result.attentions = [];
    }
    const q = new Float32Array(n * d), k = new Float32Array(n * d), v = new Float32Array(n * d), ctx = new Float32Array(n * d);
    const tmp = new Float32Array(n * d), scores = new Float32Array(n);
    const ffn = new Float32Array(n * cfg.encoderFfn);
    for (const layer of this.weights.encoder) {
      throwIfStopped(opts.shouldStop);
      const probs = opts.capture ? new Float32Array(H * n * n) : undefined;
      this.selfAttention(layer.selfAttn, x, n, H, q, k, v, ctx, tmp, scores, probs, mask);
      this.addAndNorm(x, tmp, n, layer.selfAttnNorm);
      this.feedForwardBlock(layer, x, n, ffn, tmp);
      if (probs) result.attentions!.push(probs);
    }
    return result;
  }

  private selfAttention(
    w: AttentionWeights, x: Float32Array, n: number, heads: number,
    q: Float32Array, k: Float32Array, v: Float32Array, ctx: Float32Array, out: Float32Array, scores: Float32Array, probs?: Float32Array,
    mask?: ArrayLike<number>,
  ): void {
    const d = this.config.dModel;
    this.linear(w.q, x, n, q);
    this.linear(w.k, x, n, k);
    this.linear(w.v, x, n, v);
    multiHeadAttention(q, n, k, v, n, d, heads, ctx, scores, probs, -1, mask);
    this.linear(w.out, ctx, n, out);
  }

  /** Post-LayerNorm residual: x = LayerNorm(x + sublayerOut) over `rows` rows. */
  private addAndNorm(x: Float32Array, sublayerOut: Float32Array, rows: number, norm: LayerNormWeights): void {
    const d = this.config.dModel;
    addInPlace(x, sublayerOut, rows * d);
    layerNormInPlace(x, rows, d, norm.gamma, norm.beta, this.config.layerNormEps);
  }

  /** An attention sub-layer's output projection of `ctx`, then the residual and its LayerNorm. */
  private projectAddNorm(out: Linear, ctx: Float32Array, x: Float32Array, rows: number, tmp: Float32Array, norm: LayerNormWeights): void {
    this.linear(out, ctx, rows, tmp);
    this.addAndNorm(x, tmp, rows, norm);
  }

  /** fc2(act(fc1(x))), then the residual and the layer's final LayerNorm. */
  private feedForwardBlock(layer: EncoderLayerWeights, x: Float32Array, rows: number, hidden: Float32Array, tmp: Float32Array): void {
    this.linear(layer.fc1, x, rows, hidden);
    activateInPlace(hidden, rows * layer.fc1.outDim, this.config.activation);
    this.linear(layer.fc2, hidden, rows, tmp);
    this.addAndNorm(x, tmp, rows, layer.finalNorm);
  }

  crossMemory(enc: EncoderOutput): CrossMemory {
    const n = enc.length, d = this.config.dModel;
    const keys: Float32Array[] = [], values: Float32Array[] = [];
    for (const layer of this.weights.decoder) {
      const k = new Float32Array(n * d), v = new Float32Array(n * d);
      this.linear(layer.encoderAttn.k, enc.hidden, n, k);
      this.linear(layer.encoderAttn.v, enc.hidden, n, v);
      keys.push(k);
      values.push(v);
    }
    return { length: n, keys, values, attentionMask: enc.attentionMask };
  }

  newDecoderState(capacity: number): DecoderState {
    const d = this.config.dModel;
    const keys: Float32Array[] = [], values: Float32Array[] = [];
    for (let l = 0; l < this.config.decoderLayers; l++) {
      keys.push(new Float32Array(capacity * d));
      values.push(new Float32Array(capacity * d));
    }
    return { length: 0, capacity, keys, values };
  }

  copyDecoderState(from: DecoderState, to: DecoderState): void {
    const used = from.length * this.config.dModel;
    for (let l = 0; l < from.keys.length; l++) {
      to.keys[l].set(from.keys[l].subarray(0, used));
      to.values[l].set(from.values[l].subarray(0, used));
    }
    to.length = from.length;
  }

  /** Scratch rows for decodeStep, reused across steps (grown when B or the key count outgrows them). */
  private stepWorkspace(B: number, keys: number): StepWorkspace {
    const ws = this.workspace;
    if (ws && ws.B >= B && ws.scores.length >= keys) return ws;
    const d = this.config.dModel;
    const rows = Math.max(B, ws?.B ?? 0);
    this.workspace = {
      B: rows,
      x: new Float32Array(rows * d), q: new Float32Array(rows * d), kv: new Float32Array(rows * d),
      ctx: new Float32Array(rows * d), tmp: new Float32Array(rows * d), ffn: new Float32Array(rows * this.config.decoderFfn),
      scores: new Float32Array(Math.max(keys, 2 * (ws?.scores.length ?? 0), 64)),
    };
    return this.workspace;
  }

  /**
   * Feeds one token to each of `tokens.length` hypotheses (row b uses states[b]), appends to their caches,
   * and writes the next-token logits [B, vocab] to `logits` (when given) and/or the final hidden rows.
   * `capture` (single hypothesis only) receives that step's attention rows.
   */
  decodeStep(
    tokens: ArrayLike<number>, states: DecoderState[], mem: CrossMemory,
    logits: Float32Array | undefined, capture?: StepAttention,
  ): void {
    const cfg = this.config;
    const d = cfg.dModel, B = tokens.length, H = cfg.decoderHeads;
    const pos = states[0].length;
    for (const s of states) if (s.length !== pos || pos >= s.capacity) throw new RangeError('decoder states out of step or full');
    const ws = this.stepWorkspace(B, Math.max(pos + 1, mem.length));
    const { x, q, kv, ctx, tmp, ffn, scores } = ws;
    const embPos = this.positions(pos + 1).subarray(pos * d, (pos + 1) * d);
    const emb = this.weights.embeddings, scale = this.embedScale;
    for (let b = 0; b < B; b++) {
      const eo = tokens[b] * d;
      for (let c = 0; c < d; c++) x[b * d + c] = emb[eo + c] * scale + embPos[c];
    }
    for (let l = 0; l < this.weights.decoder.length; l++) {
      const layer = this.weights.decoder[l];
      // masked self-attention: the new key/value rows join each hypothesis's cache
      this.linear(layer.selfAttn.q, x, B, q);
      if (B === 1) {
        // one hypothesis: project straight into its cache row
        this.linear(layer.selfAttn.k, x, 1, states[0].keys[l], pos * d);
        this.linear(layer.selfAttn.v, x, 1, states[0].values[l], pos * d);
      } else {
        this.linear(layer.selfAttn.k, x, B, kv);
        for (let b = 0; b < B; b++) states[b].keys[l].set(kv.subarray(b * d, (b + 1) * d), pos * d);
        this.linear(layer.selfAttn.v, x, B, kv);
        for (let b = 0; b < B; b++) states[b].values[l].set(kv.subarray(b * d, (b + 1) * d), pos * d);
      }
      for (let b = 0; b < B; b++) {
        const probs = capture ? new Float32Array(H * (pos + 1)) : undefined;
        multiHeadAttention(q, 1, states[b].keys[l], states[b].values[l], pos + 1, d, H, ctx, scores, probs, -1, undefined, b * d);
        if (capture && probs) capture.self.push(probs);
      }
      this.projectAddNorm(layer.selfAttn.out, ctx, x, B, tmp, layer.selfAttnNorm);
      // encoder–decoder attention
      this.linear(layer.encoderAttn.q, x, B, q);
      for (let b = 0; b < B; b++) {
        const probs = capture ? new Float32Array(H * mem.length) : undefined;
        multiHeadAttention(q, 1, mem.keys[l], mem.values[l], mem.length, d, H, ctx, scores, probs, -1, mem.attentionMask, b * d);
        if (capture && probs) capture.cross.push(probs);
      }
      this.projectAddNorm(layer.encoderAttn.out, ctx, x, B, tmp, layer.encoderAttnNorm);
      this.feedForwardBlock(layer, x, B, ffn, tmp);
      if (capture?.layerOutputs) capture.layerOutputs.push(x.slice(0, d));
    }
    for (const s of states) s.length = pos + 1;
    if (logits) this.matmul(x, B, d, this.weights.lmHead, cfg.vocabSize, logits, this.weights.finalLogitsBias);
  }

  /**
   * Decoding without a self-attention cache (Hugging Face's use_cache=False): runs the decoder over the whole
   * prefix `ids` (one hypothesis) with causal self-attention and writes the last position's logits. Every row is
   * computed as decodeStep computes it, so the logits are identical; it exists for the benchmark, which compares
   * both algorithms with onnxruntime.
   */
  decodePrefix(ids: ArrayLike<number>, mem: CrossMemory, logits: Float32Array): void {
    const cfg = this.config;
    const d = cfg.dModel, T = ids.length, H = cfg.decoderHeads;
    if (T < 1) throw new RangeError('empty decoder prefix');
    const x = new Float32Array(T * d);
    this.embed(ids, 0, x);
    const q = new Float32Array(T * d), k = new Float32Array(T * d), v = new Float32Array(T * d), ctx = new Float32Array(T * d);
    const tmp = new Float32Array(T * d), scores = new Float32Array(Math.max(T, mem.length));
    const ffn = new Float32Array(T * cfg.decoderFfn);
    for (let l = 0; l < this.weights.decoder.length; l++) {
      const layer = this.weights.decoder[l];
      this.linear(layer.selfAttn.q, x, T, q);
      this.linear(layer.selfAttn.k, x, T, k);
      this.linear(layer.selfAttn.v, x, T, v);
      multiHeadAttention(q, T, k, v, T, d, H, ctx, scores, undefined, 0);
      this.projectAddNorm(layer.selfAttn.out, ctx, x, T, tmp, layer.selfAttnNorm);
      this.linear(layer.encoderAttn.q, x, T, q);
      multiHeadAttention(q, T, mem.keys[l], mem.values[l], mem.length, d, H, ctx, scores, undefined, -1, mem.attentionMask);
      this.projectAddNorm(layer.encoderAttn.out, ctx, x, T, tmp, layer.encoderAttnNorm);
      this.feedForwardBlock(layer, x, T, ffn, tmp);
    }
    this.matmul(x, 1, d, this.weights.lmHead, cfg.vocabSize, logits, this.weights.finalLogitsBias, (T - 1) * d);
  }

  private linear(w: Linear, x: Float32Array, rows: number, out: Float32Array, outOffset = 0): void {
    this.matmul(x, rows, w.inDim, w.weight, w.outDim, out, w.bias, 0, outOffset);
  }
}
