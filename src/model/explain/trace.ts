/**
 * Follows one token through the model: every named intermediate of every layer of its side, taken from the
 * reference forward pass (src/model/reference/), whose numbers are the fast path's, bit for bit.
 */
import { throwIfStopped, type ShouldStop } from '../cancel';
import { generate } from '../generation/generate';
import { applyLogitsProcessors } from '../generation/logitsProcessors';
import { topK } from '../generation/topk';
import type { LoadedModel } from '../loading/loadModel';
import type { LayerNormWeights } from '../loading/weights';
import { decoderStack, encoderStack, logits, type AttentionRecord, type LayerRecord, type MatrixProduct, type NormRecord, type StackRecord } from '../reference';
import type { Trace, TraceAttention, TraceLayer, TraceLogits, TraceNorm, TraceSide } from '../../shared/trace';
import { encodeForcedTarget } from './forced';

export interface TraceOptions {
  /** Which stack the token is on: the source sentence (encoder) or the decoder input (default: source). */
  side?: TraceSide;
  /** Index of the token on that side (default 0). */
  token?: number;
  /** A translation to feed the decoder instead of the greedy one (teacher forcing). */
  target?: string;
  /** Candidates listed for the next-token prediction (default 5). */
  topK?: number;
  /** The matrix product (default: the model's own, kernels and threads included; any product gives the same numbers). */
  product?: MatrixProduct;
  /** Adds what the walk-through shows beyond the CLI contract: LayerNorm's normalized values, γ, β, eps, fc1 before the activation, the next token. */
  details?: boolean;
  shouldStop?: ShouldStop;
}

/** Input the trace cannot follow (a token outside the sentence, an empty side or target): the message says what to change. */
export class TraceInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TraceInputError';
  }
}

/** Traces a token of `source` (tokenised here); the target is `options.target` or the greedy translation. */
export function trace(lm: LoadedModel, source: string, options: TraceOptions = {}): Trace {
  if (!source.trim()) throw new TraceInputError('the sentence is empty: there is no token to trace');
  const src = lm.tokenizer.encode(source);
  if (src.ids.length > lm.config.maxPositions) {
    throw new TraceInputError(`the sentence is ${src.ids.length} tokens long; this model reads at most ${lm.config.maxPositions}`);
  }
  let targetIds: number[] | undefined;
  if (options.target !== undefined) {
    let forced;
    try {
      // the decoder reads the start token and every target token but </s>: maxPositions positions in all
      forced = encodeForcedTarget(lm, options.target, lm.config.maxPositions);
    } catch (e) {
      throw new TraceInputError((e as Error).message);
    }
    if (forced.ids.length < 2) throw new TraceInputError(`the target translation "${options.target}" tokenizes to nothing: give a translation with at least one token`);
    targetIds = [lm.config.decoderStartTokenId, ...forced.ids];
  }
  return traceIds(lm, src.ids, targetIds, options);
}

/**
 * Traces a token given the source ids and, optionally, the target ids (decoder start token first, as
 * Explanation.targetIds; a final </s> is dropped from the decoder input). Without them the target is greedy.
 */
export function traceIds(lm: LoadedModel, sourceIds: number[], targetIds: number[] | undefined, options: TraceOptions = {}): Trace {
  const cfg = lm.config, weights = lm.model.weights, tok = lm.tokenizer;
  const side = options.side ?? 'source';
  const token = options.token ?? 0;
  if (side !== 'source' && side !== 'target') throw new TraceInputError(`side must be "source" or "target", not "${String(side)}"`);
  if (sourceIds.length === 0) throw new TraceInputError('the source side has no tokens: there is nothing to trace');
  // the model's kernels: the same arithmetic as the reference's plain loops, faster
  const product = options.product ?? lm.model.matmul;
  const enc = encoderStack(cfg, weights, sourceIds, { product });
  throwIfStopped(options.shouldStop);

  // the target: given, or the greedy translation (decoded by the fast path from the same encoder output)
  let full = targetIds;
  if (!full) {
    const mem = lm.model.crossMemory({ length: sourceIds.length, hidden: enc.output });
    full = generate(lm.model, mem, { ...generation(lm), numBeams: 1, topK: 1, shouldStop: options.shouldStop }).ids;
  }
  if (full.length === 0 || full[0] !== cfg.decoderStartTokenId) throw new TraceInputError('the target must start with the decoder start token');
  // the decoder input: start token + target tokens without the final </s> (Hugging Face's shift-right)
  const decoderIds = full.length > 1 && full[full.length - 1] === cfg.eosTokenId ? full.slice(0, -1) : full.slice();
  const sidePieces = (ids: number[]) => ids.map((id) => tok.idToPiece(id));
  const source = { pieces: sidePieces(sourceIds), ids: sourceIds.slice() };
  const target = { pieces: sidePieces(decoderIds), ids: decoderIds };

  const count = side === 'source' ? sourceIds.length : decoderIds.length;
  if (!(Number.isInteger(token) && token >= 0 && token < count)) {
    const tokens = side === 'source' ? source.pieces : target.pieces;
    throw new TraceInputError(`token ${token} is outside the ${side} side, which has ${count} tokens (0–${count - 1}: ${tokens.join(' ')})`);
  }

  const details = options.details === true;
  let stack: StackRecord;
  let logitsJson: TraceLogits | undefined;
  if (side === 'source') {
    stack = enc;
  } else {
    // the decoder over tokens 0..token: the causal mask means later tokens change nothing for this one
    stack = decoderStack(cfg, weights, decoderIds.slice(0, token + 1), enc.output, { product });
    throwIfStopped(options.shouldStop);
    const row = stack.output.subarray(token * cfg.dModel, (token + 1) * cfg.dModel);
    const scores = logits(weights, cfg.vocabSize, row, 1, product);
    logitsJson = prediction(lm, scores, decoderIds.slice(0, token + 1), options.topK ?? 5, details ? full[token + 1] : undefined);
  }
  const d = cfg.dModel;
  const e = stack.embedding;
  const layerWeights = side === 'source' ? weights.encoder : weights.decoder;
  const result: Trace = {
    source, target, side, token,
    embedding: { token: row(e.token, token, d), scale: e.scale, position: row(e.position, token, d), input: row(e.input, token, d) },
    layers: stack.layers.map((layer, l) => traceLayer(layer, token, d, details ? layerWeights[l] : undefined, cfg.layerNormEps, cfg.activation)),
  };
  if (logitsJson) result.logits = logitsJson;
  return result;
}

/** Generation settings as explain uses them (the decoder has maxPositions positions). */
function generation(lm: LoadedModel) {
  return { ...lm.generation, maxLength: Math.min(lm.generation.maxLength, lm.config.maxPositions + 1) };
}

/** Next-token prediction with generation's logits processors: top-k ids, pieces, processed logits, softmax probabilities. */
function prediction(lm: LoadedModel, raw: Float32Array, prefix: number[], k: number, next: number | undefined): TraceLogits {
  const scores = raw.slice();
  applyLogitsProcessors(scores, prefix, generation(lm), lm.config.eosTokenId);
  const ids = topK(scores, k);
  const max = scores[ids[0]];
  let sum = 0;
  for (let i = 0; i < scores.length; i++) sum += Math.exp(scores[i] - max);
  const prob = (id: number) => Math.exp(scores[id] - max) / sum;
  const out: TraceLogits = {
    topIds: ids,
    topPieces: ids.map((id) => lm.tokenizer.idToPiece(id)),
    topLogits: ids.map((id) => scores[id]),
    topProbs: ids.map(prob),
  };
  if (next !== undefined) Object.assign(out, { nextId: next, nextPiece: lm.tokenizer.idToPiece(next), nextLogit: scores[next], nextProb: prob(next) });
  return out;
}

type LayerWeightsForDetails = { selfAttnNorm: LayerNormWeights; finalNorm: LayerNormWeights; encoderAttnNorm?: LayerNormWeights };

function traceLayer(layer: LayerRecord, token: number, d: number, w: LayerWeightsForDetails | undefined, eps: number, activation: string): TraceLayer {
  const norms = w ? [w.selfAttnNorm, w.encoderAttnNorm] : [];
  const ffn = layer.feedForward;
  const ffnWidth = ffn.hidden.length / (ffn.input.length / d);
  return {
    attention: layer.attention.map((a, i) => traceAttention(a, token, d, norms[i], eps)),
    feedForward: {
      input: row(ffn.input, token, d),
      hidden: row(ffn.hidden, token, ffnWidth),
      output: row(ffn.output, token, d),
      residual: row(ffn.residual, token, d),
      norm: traceNorm(ffn.norm, token, d, w?.finalNorm, eps),
      ...(w ? { preActivation: row(ffn.preActivation, token, ffnWidth), activation } : {}),
    },
  };
}

function traceAttention(a: AttentionRecord, token: number, d: number, norm: LayerNormWeights | undefined, eps: number): TraceAttention {
  const keys = a.memory.length / d;
  // the decoder's self-attention sees keys 0..token only
  const visible = a.kind === 'decoder' ? token + 1 : keys;
  return {
    kind: a.kind,
    input: row(a.input, token, d),
    heads: a.heads.map((h) => {
      const dHead = h.q.length / (a.input.length / d);
      return {
        q: row(h.q, token, dHead),
        keys: Array.from({ length: visible }, (_, j) => row(h.k, j, dHead)),
        values: Array.from({ length: visible }, (_, j) => row(h.v, j, dHead)),
        scores: row(h.scores, token, keys).slice(0, visible),
        scaled: row(h.scaled, token, keys).slice(0, visible),
        weights: row(h.weights, token, keys).slice(0, visible),
        context: row(h.context, token, dHead),
      };
    }),
    output: row(a.output, token, d),
    residual: row(a.residual, token, d),
    norm: traceNorm(a.norm, token, d, norm, eps),
  };
}

function traceNorm(n: NormRecord, token: number, d: number, w: LayerNormWeights | undefined, eps: number): TraceNorm {
  const out: TraceNorm = { mean: n.mean[token], variance: n.variance[token], output: row(n.output, token, d) };
  if (w) Object.assign(out, { normalized: row(n.normalized, token, d), gamma: Array.from(w.gamma), beta: Array.from(w.beta), eps });
  return out;
}

/** Row r of a row-major matrix of width `width`, as plain numbers. */
function row(m: Float32Array | Float64Array, r: number, width: number): number[] {
  const out = new Array<number>(width);
  for (let i = 0; i < width; i++) out[i] = m[r * width + i];
  return out;
}
