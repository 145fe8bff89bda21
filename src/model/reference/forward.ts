/** The reference encoder and decoder stacks: the input layer, then every layer in turn, each returning its record. */
import type { MarianConfig } from '../loading/config';
import type { MarianWeights } from '../loading/weights';
import { decoderLayer, embed, encoderLayer, type MatrixProduct } from './layers';
import { matmulNaive } from './matmul';
import type { LayerRecord, StackRecord } from './records';

export interface StackOptions {
  /** Hugging Face attention_mask of the source (1 = token, 0 = padding); absent = all tokens. */
  sourceMask?: ArrayLike<number>;
  /** The matrix product (default: plain loops; any product with the same arithmetic gives the same records). */
  product?: MatrixProduct;
}

/** The encoder: embed the source tokens, then each encoder layer reads the previous one's output. */
export function encoderStack(cfg: MarianConfig, weights: MarianWeights, ids: number[], opts: StackOptions = {}): StackRecord {
  const product = opts.product ?? matmulNaive;
  const embedding = embed(cfg, weights, ids);
  const layers: LayerRecord[] = [];
  let x = embedding.input;
  for (const w of weights.encoder) {
    const layer = encoderLayer(cfg, w, x, ids.length, opts.sourceMask, product);
    layers.push(layer);
    x = layer.output;
  }
  return { embedding, layers, output: x };
}

/**
 * The decoder over a whole prefix (decoder start token first): row t sees target rows 0..t (causal mask) and the
 * whole encoder output. Row t's numbers equal those of decoding step t with a cache, so one pass serves every step.
 */
export function decoderStack(
  cfg: MarianConfig, weights: MarianWeights, ids: number[], encoderOutput: Float32Array, opts: StackOptions = {},
): StackRecord {
  const product = opts.product ?? matmulNaive;
  const sourceLength = encoderOutput.length / cfg.dModel;
  const embedding = embed(cfg, weights, ids);
  const layers: LayerRecord[] = [];
  let x = embedding.input;
  for (const w of weights.decoder) {
    const layer = decoderLayer(cfg, w, x, ids.length, encoderOutput, sourceLength, opts.sourceMask, product);
    layers.push(layer);
    x = layer.output;
  }
  return { embedding, layers, output: x };
}
