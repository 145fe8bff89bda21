/**
 * Non-finite numbers (NaN, ±∞) must never be shown as results. One NaN or ∞ in a weight, or finite weights large
 * enough to overflow float32 in the forward pass, turns logits into NaN/∞, and the probabilities shown from them
 * into nothing. Decoding checks every step's logits (one pass over the vocabulary, cheap beside the step's
 * products) and the attention rows it captures; when a value is not finite, a diagnostic pass re-runs the sentence
 * with the reference forward pass (src/model/reference/), whose records keep every layer's output, and the error
 * names the decoding step and the first place (embedding, layer and sublayer, or output projection) where a
 * non-finite value appeared.
 */
import { ModelFileError } from '../loading/errors';
import type { MarianModel } from '../marian';
import { matmulTransB } from '../kernels/matmul';
import { decoderStack, encoderStack, logits as referenceLogits, type LayerRecord, type StackRecord } from '../reference';

/** The weights file each loaded model came from, so errors about its numbers can name it. */
const weightsFiles = new WeakMap<MarianModel, string>();

export function registerWeightsFile(model: MarianModel, file: string): void {
  weightsFiles.set(model, file);
}

/** Index of the first NaN or ±∞ in `a[offset, offset + n)`, or −1 when all are finite. */
export function firstNonFinite(a: ArrayLike<number>, offset = 0, n = a.length - offset): number {
  for (let i = offset, end = offset + n; i < end; i++) {
    const v = a[i];
    // v − v is 0 for every finite v, NaN for NaN and ±∞
    if (v - v !== 0) return i - offset;
  }
  return -1;
}

export function allFinite(a: ArrayLike<number>, offset = 0, n = a.length - offset): boolean {
  return firstNonFinite(a, offset, n) < 0;
}

const describe = (v: number): string => (Number.isNaN(v) ? 'NaN' : v > 0 ? '+Infinity' : '-Infinity');

/** Where the diagnostic pass found the first non-finite value, e.g. "decoder layer 2, feed-forward". */
function firstBadUnit(stack: StackRecord, name: 'encoder' | 'decoder', rowsFrom: number, d: number): { where: string; value: number } | undefined {
  // the value of the first non-finite entry from row `rowsFrom` on, or undefined
  const found = (a: ArrayLike<number>, width: number): number | undefined => {
    const i = firstNonFinite(a, rowsFrom * width);
    return i < 0 ? undefined : a[rowsFrom * width + i];
  };
  let v = found(stack.embedding.input, d);
  if (v !== undefined) {
    const tokenBad = found(stack.embedding.token, d) !== undefined;
    return { where: `the ${name}'s input embeddings${tokenBad ? ' (an embedding row of a token it reads)' : ''}`, value: v };
  }
  const layerName = (l: number) => `${name} layer ${l + 1}`;
  for (let l = 0; l < stack.layers.length; l++) {
    const layer: LayerRecord = stack.layers[l];
    for (const a of layer.attention) {
      const label = a.kind === 'cross' ? 'encoder–decoder attention' : a.kind === 'decoder' ? 'masked self-attention' : 'self-attention';
      for (const h of a.heads) {
        const keys = h.weights.length / (a.input.length / d);
        if ((v = found(h.weights, keys)) !== undefined) return { where: `${layerName(l)}, ${label} (attention weights)`, value: v };
      }
      if ((v = found(a.output, d)) !== undefined) return { where: `${layerName(l)}, ${label} (output projection)`, value: v };
      if ((v = found(a.norm.output, d)) !== undefined) return { where: `${layerName(l)}, ${label} (residual and LayerNorm)`, value: v };
    }
    const f = layer.feedForward;
    const ffn = f.hidden.length / (f.input.length / d);
    if ((v = found(f.hidden, ffn)) !== undefined) return { where: `${layerName(l)}, feed-forward (fc1 and activation)`, value: v };
    if ((v = found(f.output, d)) !== undefined) return { where: `${layerName(l)}, feed-forward (fc2)`, value: v };
    if ((v = found(layer.output, d)) !== undefined) return { where: `${layerName(l)}, feed-forward (residual and LayerNorm)`, value: v };
  }
  return undefined;
}

export interface NonFiniteContext {
  /** 1-based decoding step whose logits (or attention) held the value. */
  step: number;
  /** Decoder tokens fed so far (start token first), the last one fed at `step`. */
  prefix: readonly number[];
  /** The source ids, when the caller has them (the encoder is then re-run too). */
  sourceIds?: readonly number[];
  /** The non-finite value seen in the step's output. */
  value: number;
  /** What held it: "logits" or a captured attention row. */
  seenIn: string;
}

/**
 * The error for a non-finite value at a decoding step, after a diagnostic pass that locates its first appearance.
 * A ModelFileError naming the weights file: the numbers come from the model, not from the text.
 */
export function nonFiniteError(model: MarianModel, ctx: NonFiniteContext): ModelFileError {
  const file = weightsFiles.get(model) ?? 'model weights';
  let where: string | undefined;
  let value = ctx.value;
  try {
    const found = locate(model, ctx);
    if (found) ({ where, value } = found);
  } catch {
    // the diagnosis is best effort: the step alone is still reported
  }
  const place = where ? `; it first appears in ${where}` : '';
  return new ModelFileError(
    file,
    `gives ${describe(value)} at decoding step ${ctx.step} (in the ${ctx.seenIn})${place}. ` +
      'The weights contain NaN or infinite values, or values so large that the computation overflows float32; no result is shown from such numbers',
  );
}

function locate(model: MarianModel, ctx: NonFiniteContext): { where: string; value: number } | undefined {
  const cfg = model.config, w = model.weights, d = cfg.dModel;
  const product = matmulTransB;
  const memory = ctx.sourceIds ? encoderStack(cfg, w, [...ctx.sourceIds], { product }) : undefined;
  if (memory) {
    const enc = firstBadUnit(memory, 'encoder', 0, d);
    if (enc) return enc;
  }
  if (!memory) return undefined;
  const dec = decoderStack(cfg, w, [...ctx.prefix], memory.output, { product });
  const last = ctx.prefix.length - 1;
  // rows before the step were finite when their own steps ran, so the step's own row is the one to examine
  const found = firstBadUnit(dec, 'decoder', last, d);
  if (found) return found;
  const out = referenceLogits(w, cfg.vocabSize, dec.output.subarray(last * d), 1, product);
  const i = firstNonFinite(out);
  if (i < 0) return undefined;
  const biasBad = !Number.isFinite(w.finalLogitsBias[i]);
  const rowBad = firstNonFinite(w.lmHead, i * d, d) >= 0;
  const why = biasBad ? `final_logits_bias[${i}]` : rowBad ? `its weight row for token ${i}` : `the score of token ${i}`;
  return { where: `the output projection (${why})`, value: out[i] };
}

/**
 * Checks one decoding step's logits (rows × vocab from `offset`) and, when captured, its attention rows. `prefixOf(r)`
 * gives row r's decoder tokens (start token first, the one just fed last). Throws nonFiniteError on the first
 * non-finite value.
 */
export function checkStepFinite(
  model: MarianModel, sourceIds: readonly number[] | undefined, logits: Float32Array, rows: number,
  prefixOf: (row: number) => readonly number[], capture?: { self: Float32Array[]; cross: Float32Array[] },
): void {
  const V = model.config.vocabSize;
  for (let r = 0; r < rows; r++) {
    const i = firstNonFinite(logits, r * V, V);
    if (i >= 0) {
      const prefix = prefixOf(r);
      throw nonFiniteError(model, { step: prefix.length, prefix, sourceIds, value: logits[r * V + i], seenIn: 'next-token scores' });
    }
  }
  if (!capture) return;
  for (const [kind, list] of [['masked self-attention', capture.self], ['encoder–decoder attention', capture.cross]] as const) {
    for (const row of list) {
      const i = firstNonFinite(row);
      if (i >= 0) {
        const prefix = prefixOf(0);
        throw nonFiniteError(model, { step: prefix.length, prefix, sourceIds, value: row[i], seenIn: `${kind} weights` });
      }
    }
  }
}

/** When the logits processors (bad_words_ids, forced eos) leave no token with a finite score at a step. */
export function noTokenAllowedError(step: number): Error {
  return new Error(
    `no token is allowed at decoding step ${step}: the generation settings (bad_words_ids in generation_config.json or config.json) ban every candidate, so there is nothing to choose`,
  );
}
