/**
 * The Marian layers written as plain loops, one unit per concept of "Attention Is All You Need" (post-LayerNorm, as
 * Hugging Face's MarianMTModel computes it). Read this first; src/model/marian.ts computes the same numbers fast.
 *
 * Numbers: tensors are float32 (the checkpoint's type). Every sum runs in doubles from +0 in increasing index, and
 * a value is rounded to float32 where it is stored in a Float32Array: exactly what the fast path does, so both give
 * bit-identical results (see network/attention.ts and kernels/matmul.ts).
 */
import type { Activation, MarianConfig } from '../loading/config';
import type { AttentionWeights, DecoderLayerWeights, EncoderLayerWeights, LayerNormWeights, Linear, MarianWeights } from '../loading/weights';
import { erf } from '../network/ops';
import { sinusoidalPositions } from '../network/positions';
import { matmulNaive } from './matmul';
import type {
  AddAndNormRecord, AttentionKindName, AttentionRecord, EmbeddingRecord, FeedForwardRecord, HeadRecord, LayerRecord, NormRecord,
} from './records';

/**
 * out[i, j] = Σₖ a[i, k]·b[j, k] + bias[j] for a [M, K] and b [N, K] (PyTorch's [out, in] weight layout).
 * The reference uses the textbook triple loop (./matmul.ts); a caller may pass a faster product with the same
 * arithmetic (kernels/matmul.ts's matmulTransB is one), which changes no result.
 */
export type MatrixProduct = (a: Float32Array, M: number, K: number, b: Float32Array, N: number, out: Float32Array, bias?: Float32Array) => void;

/** A Linear layer over `rows` rows: x · Wᵀ + b. */
export function linear(x: Float32Array, rows: number, w: Linear, product: MatrixProduct = matmulNaive): Float32Array {
  const out = new Float32Array(rows * w.outDim);
  product(x, rows, w.inDim, w.weight, w.outDim, out, w.bias);
  return out;
}

/** Input layer: each token's embedding row × √d_model (when the model scales) + the sinusoid at its position. */
export function embed(cfg: MarianConfig, weights: MarianWeights, ids: number[], startPosition = 0): EmbeddingRecord {
  const d = cfg.dModel, n = ids.length;
  const scale = cfg.scaleEmbedding ? Math.sqrt(d) : 1;
  const token = new Float32Array(n * d);
  const position = sinusoidalPositions(n, d, startPosition);
  const input = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < d; c++) {
      token[i * d + c] = weights.embeddings[ids[i] * d + c];
      input[i * d + c] = token[i * d + c] * scale + position[i * d + c];
    }
  }
  return { ids: [...ids], startPosition, token, scale, position, input };
}

export interface AttentionOptions {
  /** Query i sees only keys 0..i (the decoder's self-attention: no peeking at later words). */
  causal: boolean;
  /** Hugging Face attention_mask over the keys: 0 marks padding, which gets no weight. */
  keyMask?: ArrayLike<number>;
}

/** Multi-head attention of `queries` rows of x over `keys` rows of memory: projections, heads, output projection. */
function multiHeadAttention(
  kind: AttentionKindName, w: AttentionWeights, heads: number, x: Float32Array, queries: number, memory: Float32Array, keys: number,
  opts: AttentionOptions, product: MatrixProduct,
): Omit<AttentionRecord, keyof AddAndNormRecord> {
  const d = w.q.outDim, dHead = d / heads;
  // Q = x·W_Qᵀ + b_Q, K = memory·W_Kᵀ + b_K, V = memory·W_Vᵀ + b_V   [rows, d]
  const Q = linear(x, queries, w.q, product);
  const K = linear(memory, keys, w.k, product);
  const V = linear(memory, keys, w.v, product);
  const headRecords: HeadRecord[] = [];
  const concatenated = new Float32Array(queries * d);
  for (let h = 0; h < heads; h++) {
    // head h owns columns [h·dHead, (h+1)·dHead) of Q, K and V
    const q = columns(Q, queries, d, h * dHead, dHead);
    const k = columns(K, keys, d, h * dHead, dHead);
    const v = columns(V, keys, d, h * dHead, dHead);
    const head = scaledDotProductAttention(q, k, v, queries, keys, dHead, opts);
    headRecords.push(head);
    // concatenate the heads' contexts back into [queries, d]
    for (let i = 0; i < queries; i++) for (let t = 0; t < dHead; t++) concatenated[i * d + h * dHead + t] = head.context[i * dHead + t];
  }
  // output projection: concat(heads)·W_Oᵀ + b_O
  const output = linear(concatenated, queries, w.out, product);
  return { kind, input: x, memory, heads: headRecords, concatenated, output };
}

/** softmax(q·kᵀ / √d_k, masked) · v for one head. */
export function scaledDotProductAttention(
  q: Float32Array, k: Float32Array, v: Float32Array, queries: number, keys: number, dHead: number, opts: AttentionOptions,
): HeadRecord {
  const scores = new Float64Array(queries * keys);
  const scaled = new Float32Array(queries * keys);
  const weights = new Float32Array(queries * keys);
  const context = new Float32Array(queries * dHead);
  // the fast path multiplies by 1/√d_k (not divides): same here, for the same float32 values
  const invSqrtDk = 1 / Math.sqrt(dHead);
  for (let i = 0; i < queries; i++) {
    const row = i * keys;
    for (let j = 0; j < keys; j++) {
      // similarity score: q_i · k_j
      let s = 0;
      for (let t = 0; t < dHead; t++) s += q[i * dHead + t] * k[j * dHead + t];
      scores[row + j] = s;
      // scaled by 1/√d_k so the softmax does not saturate as d_k grows
      scaled[row + j] = s * invSqrtDk;
      // the mask: a later word (causal) or padding gets −∞, so softmax gives it weight 0
      const hidden = (opts.causal && j > i) || (opts.keyMask !== undefined && opts.keyMask[j] === 0);
      if (hidden) scaled[row + j] = -Infinity;
    }
    softmaxRow(scaled, weights, row, keys);
    // context: Σⱼ weightⱼ · vⱼ, each partial sum rounded to float32
    for (let t = 0; t < dHead; t++) {
      let c = 0;
      for (let j = 0; j < keys; j++) c = Math.fround(c + weights[row + j] * v[j * dHead + t]);
      context[i * dHead + t] = c;
    }
  }
  return { q, k, v, scores, scaled, weights, context };
}

/**
 * weights[o + j] = exp(x_j − max) / Σ exp(x − max) over n entries. As in the fast path: each exp is rounded to
 * float32, the sum adds the unrounded exps in doubles, and each rounded exp is multiplied by 1/sum.
 */
function softmaxRow(x: Float32Array, weights: Float32Array, o: number, n: number): void {
  // subtract the max so exp never overflows (softmax is unchanged by a shift)
  let max = -Infinity;
  for (let j = 0; j < n; j++) if (x[o + j] > max) max = x[o + j];
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const e = Math.exp(x[o + j] - max);
    weights[o + j] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let j = 0; j < n; j++) weights[o + j] = weights[o + j] * inv;
}

/** Columns [c0, c0 + width) of a [rows, d] matrix, as a fresh [rows, width] one. */
function columns(m: Float32Array, rows: number, d: number, c0: number, width: number): Float32Array {
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) for (let t = 0; t < width; t++) out[r * width + t] = m[r * d + c0 + t];
  return out;
}

/** Self-attention: queries, keys and values all come from the same rows x. */
export function selfAttention(
  kind: 'encoder' | 'decoder', w: AttentionWeights, heads: number, x: Float32Array, rows: number, opts: AttentionOptions,
  product: MatrixProduct = matmulNaive,
): Omit<AttentionRecord, keyof AddAndNormRecord> {
  return multiHeadAttention(kind, w, heads, x, rows, x, rows, opts, product);
}

/** Encoder–decoder attention: the decoder's rows ask, the encoder's output rows answer (keys and values). */
export function crossAttention(
  w: AttentionWeights, heads: number, x: Float32Array, rows: number, encoderOutput: Float32Array, sourceLength: number,
  keyMask: ArrayLike<number> | undefined, product: MatrixProduct = matmulNaive,
): Omit<AttentionRecord, keyof AddAndNormRecord> {
  return multiHeadAttention('cross', w, heads, x, rows, encoderOutput, sourceLength, { causal: false, keyMask }, product);
}

/** Residual connection then LayerNorm: LayerNorm(input + sublayer output). */
export function addAndNorm(input: Float32Array, output: Float32Array, rows: number, norm: LayerNormWeights, eps: number): AddAndNormRecord {
  const d = norm.gamma.length;
  // residual: the sublayer adds to its input rather than replacing it
  const residual = new Float32Array(rows * d);
  for (let i = 0; i < rows * d; i++) residual[i] = input[i] + output[i];
  return { residual, norm: layerNorm(residual, rows, norm, eps) };
}

/** LayerNorm of each row: centre on the mean, divide by the standard deviation, then scale by γ and shift by β. */
export function layerNorm(x: Float32Array, rows: number, w: LayerNormWeights, eps: number): NormRecord {
  const d = w.gamma.length;
  const mean = new Float64Array(rows), variance = new Float64Array(rows);
  const normalized = new Float64Array(rows * d), output = new Float32Array(rows * d);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    // mean of the row
    let m = 0;
    for (let i = 0; i < d; i++) m += x[o + i];
    m /= d;
    // population variance: mean squared distance from the mean
    let s = 0;
    for (let i = 0; i < d; i++) s += (x[o + i] - m) * (x[o + i] - m);
    const v = s / d;
    const invStd = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < d; i++) {
      // normalized to mean 0, variance 1, then the learned scale γ and shift β
      normalized[o + i] = (x[o + i] - m) * invStd;
      output[o + i] = normalized[o + i] * w.gamma[i] + w.beta[i];
    }
    mean[r] = m;
    variance[r] = v;
  }
  return { mean, variance, normalized, output };
}

/** The activation between the feed-forward network's two layers. */
export function activation(x: number, act: Activation): number {
  switch (act) {
    case 'relu':
      return x < 0 ? 0 : x;
    case 'swish':
      return x / (1 + Math.exp(-x));
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
  }
}

/** Position-wise feed-forward network: fc2(activation(fc1(x))), the same for every row. */
export function feedForward(
  w: Pick<EncoderLayerWeights, 'fc1' | 'fc2'>, x: Float32Array, rows: number, act: Activation, product: MatrixProduct = matmulNaive,
): Omit<FeedForwardRecord, keyof AddAndNormRecord> {
  // expand to the wider hidden size
  const preActivation = linear(x, rows, w.fc1, product);
  // the non-linearity (rounded to float32 as stored)
  const hidden = new Float32Array(preActivation.length);
  for (let i = 0; i < hidden.length; i++) hidden[i] = activation(preActivation[i], act);
  // back to d_model
  const output = linear(hidden, rows, w.fc2, product);
  return { input: x, preActivation, hidden, output };
}

/** One encoder layer: self-attention → add & norm → feed-forward → add & norm. */
export function encoderLayer(
  cfg: MarianConfig, w: EncoderLayerWeights, x: Float32Array, rows: number, keyMask?: ArrayLike<number>,
  product: MatrixProduct = matmulNaive,
): LayerRecord {
  const attn = selfAttention('encoder', w.selfAttn, cfg.encoderHeads, x, rows, { causal: false, keyMask }, product);
  const self: AttentionRecord = { ...attn, ...addAndNorm(x, attn.output, rows, w.selfAttnNorm, cfg.layerNormEps) };
  const ffn = feedForward(w, self.norm.output, rows, cfg.activation, product);
  const feedForwardRecord: FeedForwardRecord = { ...ffn, ...addAndNorm(ffn.input, ffn.output, rows, w.finalNorm, cfg.layerNormEps) };
  return { attention: [self], feedForward: feedForwardRecord, output: feedForwardRecord.norm.output };
}

/**
 * One decoder layer over `rows` target rows: masked self-attention → add & norm → encoder–decoder attention →
 * add & norm → feed-forward → add & norm.
 */
export function decoderLayer(
  cfg: MarianConfig, w: DecoderLayerWeights, x: Float32Array, rows: number,
  encoderOutput: Float32Array, sourceLength: number, sourceMask?: ArrayLike<number>, product: MatrixProduct = matmulNaive,
): LayerRecord {
  const eps = cfg.layerNormEps;
  const selfAttn = selfAttention('decoder', w.selfAttn, cfg.decoderHeads, x, rows, { causal: true }, product);
  const self: AttentionRecord = { ...selfAttn, ...addAndNorm(x, selfAttn.output, rows, w.selfAttnNorm, eps) };
  const crossAttn = crossAttention(w.encoderAttn, cfg.decoderHeads, self.norm.output, rows, encoderOutput, sourceLength, sourceMask, product);
  const cross: AttentionRecord = { ...crossAttn, ...addAndNorm(crossAttn.input, crossAttn.output, rows, w.encoderAttnNorm, eps) };
  const ffn = feedForward(w, cross.norm.output, rows, cfg.activation, product);
  const feedForwardRecord: FeedForwardRecord = { ...ffn, ...addAndNorm(ffn.input, ffn.output, rows, w.finalNorm, eps) };
  return { attention: [self, cross], feedForward: feedForwardRecord, output: feedForwardRecord.norm.output };
}

/** Output layer: h · Eᵀ + final_logits_bias, one score per vocabulary entry (softmax of them = next-token probabilities). */
export function logits(weights: MarianWeights, vocab: number, h: Float32Array, rows: number, product: MatrixProduct = matmulNaive): Float32Array {
  const d = h.length / rows;
  const out = new Float32Array(rows * vocab);
  product(h, rows, d, weights.lmHead, vocab, out, weights.finalLogitsBias);
  return out;
}
