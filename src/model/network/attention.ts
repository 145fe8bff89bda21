/**
 * Multi-head attention ("Attention Is All You Need" §3.2): softmax(Q·Kᵀ/√dₕ + mask)·V per head, between a
 * projection of the input (Q, K, V) and an output projection. Tensors are row-major [tokens, dModel]; head h owns
 * the columns [h·dₕ, (h+1)·dₕ) of every row, so no tensor is reshaped.
 *
 * Arithmetic (fixed: the views show these numbers and the golden tests pin them): each score is Σₜ q·k summed in
 * doubles in increasing t from +0, times 1/√dₕ, rounded to float32; the softmax sums the unrounded doubles
 * exp(score − max); each context element starts at +0 and adds p_j·v_j[t] for increasing j, rounded to float32
 * after every addition. The two products run in kernels/attention.ts, blocked for speed without changing any of it.
 */
import type { AttentionWeights } from '../loading/weights';
import { attentionContext, attentionScores } from '../kernels/attention';
import { linear, type Network } from './linear';
import { softmaxInPlace } from './ops';

/** The sizes of one attention computation. */
export interface AttentionShape {
  /** Query rows (positions that attend). */
  queries: number;
  /** Key rows (positions attended to). */
  keys: number;
  dModel: number;
  heads: number;
}

export interface AttentionOptions {
  /** Each query sees only keys at or before its own position; the queries are the last `queries` of the `keys` positions. */
  causal?: boolean;
  /** Hugging Face's attention_mask over the keys: 0 marks padding, which gets no weight. */
  keyMask?: ArrayLike<number>;
  /** Receives the attention weights [heads, queries, keys] (what the views show); masked keys get 0. */
  probs?: Float32Array;
  /** Row where query 0 sits in q and its context row in ctx (one hypothesis of a batch); default 0. */
  row?: number;
}

/**
 * Scaled dot-product attention: for each head h and query i, ctx_h[i] = softmax(q_h[i]·k_hᵀ/√dₕ + mask)·v_h.
 * q and ctx are [queries, dModel] from row `opts.row`; k and v hold at least `keys` rows [keys, dModel];
 * `scores` is scratch for one row of weights (≥ keys).
 */
export function attention(
  q: Float32Array, k: Float32Array, v: Float32Array, ctx: Float32Array, scores: Float32Array,
  shape: AttentionShape, opts: AttentionOptions = {},
): void {
  const { queries, keys, dModel: d, heads } = shape;
  const { causal = false, keyMask, probs, row = 0 } = opts;
  const hd = d / heads;
  const scale = 1 / Math.sqrt(hd);
  for (let h = 0; h < heads; h++) {
    const ho = h * hd; // this head's first column
    for (let i = 0; i < queries; i++) {
      const qo = (row + i) * d + ho;
      // causal mask: query i is position keys − queries + i and sees keys up to it; later keys get weight 0
      const visible = causal ? Math.min(keys, keys - queries + i + 1) : keys;
      // scores[j] = q·k_j / √dₕ   [visible]
      attentionScores(q, qo, k, ho, d, hd, scale, scores, visible);
      // padding mask: padded keys get −∞, so weight 0 after the softmax
      if (keyMask) for (let j = 0; j < visible; j++) if (keyMask[j] === 0) scores[j] = -Infinity;
      // weights p = softmax(scores)   [visible]
      softmaxInPlace(scores, 0, visible);
      if (probs) {
        const po = (h * queries + i) * keys; // probs: [heads, queries, keys]
        for (let j = 0; j < visible; j++) probs[po + j] = scores[j];
        for (let j = visible; j < keys; j++) probs[po + j] = 0;
      }
      // context = Σⱼ p_j·v_j   [dₕ]
      attentionContext(scores, visible, v, ho, d, hd, ctx, (row + i) * d + ho);
    }
  }
}

/** Keys and values attended to: [positions, dModel] each. */
export interface KeyValues {
  keys: Float32Array;
  values: Float32Array;
}

/** Buffers an attention sub-layer writes before it reads them: [rows, dModel] each, `scores` [keys]. */
export interface AttentionScratch {
  q: Float32Array;
  kv: Float32Array;
  ctx: Float32Array;
  scores: Float32Array;
}

/**
 * Self-attention of `sequences` sequences of `newRows` new positions each (x: [sequences·newRows, dModel]):
 * sequence b's new keys and values are appended to cache[b] after its `past` rows, then its queries attend over all
 * past + newRows of them. The encoder passes one sequence with past 0 (and its padding mask), the decoder one per
 * hypothesis with its key/value cache (causal). Writes the output projection [sequences·newRows, dModel] to `out`;
 * `probs[b]` receives sequence b's weights [heads, newRows, past + newRows].
 */
export function selfAttention(
  net: Network, w: AttentionWeights, heads: number,
  x: Float32Array, newRows: number, past: number, cache: readonly KeyValues[],
  out: Float32Array, s: AttentionScratch,
  opts: { causal?: boolean; keyMask?: ArrayLike<number>; probs?: readonly Float32Array[] } = {},
): void {
  const d = net.config.dModel, B = cache.length, rows = B * newRows, keys = past + newRows;
  // Q = x·W_Qᵀ + b_Q   [rows, dModel]
  linear(net, w.q, x, rows, s.q);
  // K, V = x·W_Kᵀ + b_K, x·W_Vᵀ + b_V, appended to each sequence's keys and values
  if (B === 1) {
    linear(net, w.k, x, rows, cache[0].keys, past);
    linear(net, w.v, x, rows, cache[0].values, past);
  } else {
    linear(net, w.k, x, rows, s.kv);
    for (let b = 0; b < B; b++) cache[b].keys.set(s.kv.subarray(b * newRows * d, (b + 1) * newRows * d), past * d);
    linear(net, w.v, x, rows, s.kv);
    for (let b = 0; b < B; b++) cache[b].values.set(s.kv.subarray(b * newRows * d, (b + 1) * newRows * d), past * d);
  }
  // context = softmax(Q·Kᵀ/√dₕ + mask)·V, sequence by sequence   [rows, dModel]
  const shape = { queries: newRows, keys, dModel: d, heads };
  for (let b = 0; b < B; b++) {
    attention(s.q, cache[b].keys, cache[b].values, s.ctx, s.scores, shape, { causal: opts.causal, keyMask: opts.keyMask, probs: opts.probs?.[b], row: b * newRows });
  }
  // output = context·W_Oᵀ + b_O   [rows, dModel]
  linear(net, w.out, s.ctx, rows, out);
}

/** One decoder layer's cross-attention keys and values: the encoder output projected, [length, dModel] each. */
export interface EncoderKeyValues extends KeyValues {
  length: number;
  /** Hugging Face attention_mask of the source: 0 marks padding. */
  attentionMask?: ArrayLike<number>;
}

/** Projects the encoder output [length, dModel] to one decoder layer's cross-attention keys and values. */
export function encoderKeyValues(
  net: Network, w: AttentionWeights, encoderHidden: Float32Array, length: number, attentionMask?: ArrayLike<number>,
): EncoderKeyValues {
  const d = net.config.dModel;
  const keys = new Float32Array(length * d), values = new Float32Array(length * d);
  // K = h_enc·W_Kᵀ + b_K, V = h_enc·W_Vᵀ + b_V   [length, dModel]
  linear(net, w.k, encoderHidden, length, keys);
  linear(net, w.v, encoderHidden, length, values);
  return { keys, values, length, attentionMask };
}

/**
 * Cross-attention (encoder–decoder attention) of `sequences` sequences of `newRows` positions each: their queries
 * attend over the encoder's keys and values (`source`) with the source's padding mask.
 * Writes the output projection [sequences·newRows, dModel] to `out`; `probs[b]` receives sequence b's weights
 * [heads, newRows, sourceLength].
 */
export function crossAttention(
  net: Network, w: AttentionWeights, heads: number,
  x: Float32Array, sequences: number, newRows: number,
  source: EncoderKeyValues,
  out: Float32Array, s: AttentionScratch, probs?: readonly Float32Array[],
): void {
  const rows = sequences * newRows;
  // Q = x·W_Qᵀ + b_Q   [rows, dModel]
  linear(net, w.q, x, rows, s.q);
  // context = softmax(Q·K_encᵀ/√dₕ + padding mask)·V_enc   [rows, dModel]
  const shape = { queries: newRows, keys: source.length, dModel: net.config.dModel, heads };
  for (let b = 0; b < sequences; b++) {
    attention(s.q, source.keys, source.values, s.ctx, s.scores, shape, { keyMask: source.attentionMask, probs: probs?.[b], row: b * newRows });
  }
  // output = context·W_Oᵀ + b_O   [rows, dModel]
  linear(net, w.out, s.ctx, rows, out);
}
