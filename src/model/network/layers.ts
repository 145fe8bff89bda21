/**
 * The layers of the Marian transformer (post-LayerNorm, as Hugging Face's MarianMTModel computes it): each
 * sub-layer's output joins the residual stream x, which is then normalised. All tensors are row-major
 * [rows, dModel] Float32Arrays, updated in place where the comment says so.
 */
import type { Activation } from '../loading/config';
import type { DecoderLayerWeights, EncoderLayerWeights, LayerNormWeights } from '../loading/weights';
import { crossAttention, selfAttention, type AttentionScratch, type EncoderKeyValues, type KeyValues } from './attention';
import { linear, type Network } from './linear';
import { activateInPlace, addInPlace, layerNormInPlace } from './ops';

/** Buffers the layers write before they read them, shared by every layer and step (see Workspace). */
export interface LayerScratch extends AttentionScratch {
  /** [rows, dModel] a sub-layer's output before it joins the residual stream. */
  sublayer: Float32Array;
  /** [rows, ffn] the feed-forward hidden layer. */
  hidden: Float32Array;
}

/** x ← LayerNorm(x + sublayer) over `rows` rows: the residual connection, then post-LayerNorm. */
export function addAndNorm(net: Network, x: Float32Array, sublayer: Float32Array, rows: number, norm: LayerNormWeights): void {
  const d = net.config.dModel;
  // residual: x + Sublayer(x)
  addInPlace(x, sublayer, rows * d);
  // LayerNorm over each row: γ·(x − mean)/√(var + ε) + β
  layerNormInPlace(x, rows, d, norm.gamma, norm.beta, net.config.layerNormEps);
}

/** FFN(x) = fc2(act(fc1(x))) over `rows` rows into out [rows, dModel]; hidden [rows, ffn] is scratch. */
export function feedForward(
  net: Network, w: Pick<EncoderLayerWeights, 'fc1' | 'fc2'>, activation: Activation,
  x: Float32Array, rows: number, hidden: Float32Array, out: Float32Array,
): void {
  // hidden = x·W₁ᵀ + b₁   [rows, ffn]
  linear(net, w.fc1, x, rows, hidden);
  // hidden = act(hidden) (relu, swish or gelu, as config.json says)
  activateInPlace(hidden, rows * w.fc1.outDim, activation);
  // out = hidden·W₂ᵀ + b₂   [rows, dModel]
  linear(net, w.fc2, hidden, rows, out);
}

/**
 * One encoder layer, in place on x [n, dModel]: self-attention over all n tokens (padding masked), add & norm,
 * feed-forward, add & norm. `selfKV` receives the layer's keys and values [n, dModel]; `probs` (when given) the
 * attention weights [heads, n, n].
 */
export function encoderLayer(
  net: Network, w: EncoderLayerWeights, x: Float32Array, n: number, keyMask: ArrayLike<number> | undefined,
  selfKV: KeyValues, s: LayerScratch, probs?: Float32Array,
): void {
  const cfg = net.config;
  selfAttention(net, w.selfAttn, cfg.encoderHeads, x, n, 0, [selfKV], s.sublayer, s, { keyMask, probs: probs && [probs] });
  addAndNorm(net, x, s.sublayer, n, w.selfAttnNorm);
  feedForward(net, w, cfg.activation, x, n, s.hidden, s.sublayer);
  addAndNorm(net, x, s.sublayer, n, w.finalNorm);
}

/** Attention weights one decoder layer captures, per hypothesis: [heads, newRows, keys]. */
export interface DecoderLayerAttention {
  self: Float32Array[];
  cross: Float32Array[];
}

/**
 * One decoder layer, in place on x [hypotheses·newRows, dModel]: each hypothesis's `newRows` positions follow the
 * `past` ones already in its key/value cache (`selfKV[b]`, this layer's). Causal self-attention over past + new
 * positions, add & norm, cross-attention over the encoder (`source`), add & norm, feed-forward, add & norm.
 * A decoding step is newRows 1 (one token per hypothesis); a whole prefix is one hypothesis with past 0.
 * `capture` receives each hypothesis's attention weights.
 */
export function decoderLayer(
  net: Network, w: DecoderLayerWeights, x: Float32Array, newRows: number, past: number,
  selfKV: readonly KeyValues[], source: EncoderKeyValues, s: LayerScratch, capture?: DecoderLayerAttention,
): void {
  const cfg = net.config, H = cfg.decoderHeads, B = selfKV.length, rows = B * newRows;
  const selfProbs = capture && selfKV.map(() => new Float32Array(H * newRows * (past + newRows)));
  const crossProbs = capture && selfKV.map(() => new Float32Array(H * newRows * source.length));
  // masked self-attention: each position sees itself and the positions before it
  selfAttention(net, w.selfAttn, H, x, newRows, past, selfKV, s.sublayer, s, { causal: true, probs: selfProbs });
  addAndNorm(net, x, s.sublayer, rows, w.selfAttnNorm);
  // encoder–decoder attention: each position reads the source sentence
  crossAttention(net, w.encoderAttn, H, x, B, newRows, source, s.sublayer, s, crossProbs);
  addAndNorm(net, x, s.sublayer, rows, w.encoderAttnNorm);
  feedForward(net, w, cfg.activation, x, rows, s.hidden, s.sublayer);
  addAndNorm(net, x, s.sublayer, rows, w.finalNorm);
  if (capture && selfProbs && crossProbs) {
    capture.self.push(...selfProbs);
    capture.cross.push(...crossProbs);
  }
}

/**
 * Next-token scores from each sequence's last row of x: logits = x·Eᵀ + final_logits_bias (E: the output
 * projection, tied to the token embeddings unless the config unties it). x holds `sequences` sequences of
 * `rowsEach` rows; out: [sequences, vocab].
 */
export function logits(net: Network, x: Float32Array, sequences: number, rowsEach: number, out: Float32Array): void {
  const { dModel: d, vocabSize: V } = net.config, w = net.weights;
  if (rowsEach === 1) {
    net.matmul(x, sequences, d, w.lmHead, V, out, w.finalLogitsBias);
    return;
  }
  for (let b = 0; b < sequences; b++) net.matmul(x, 1, d, w.lmHead, V, out, w.finalLogitsBias, (b * rowsEach + rowsEach - 1) * d, b * V);
}
