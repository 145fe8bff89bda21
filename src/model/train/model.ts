/**
 * The Marian forward pass for training, unit by unit as the checkpoint names them (embedding, self_attn,
 * self_attn_layer_norm, encoder_attn, encoder_attn_layer_norm, fc1 → activation → fc2, final_layer_norm, tied
 * output projection), each unit keeping the intermediates its backward step needs, and the backward pass that
 * walks the same units in reverse. One sentence pair at a time; a batch sums the pairs' gradients.
 */
import type { MarianConfig } from '../loading/config';
import { sinusoidalPositions } from '../network/positions';
import {
  activationBackward, activationForward, attentionBackward, attentionForward, crossEntropy, embeddingBackward,
  embeddingForward, layerNormBackward, layerNormForward, linearBackward, linearForward, residualBackward,
  residualForward, type AttentionShape, type LayerNormCache, type Vec,
} from './ops';
import type { MarianParams } from './params';

/** One attention unit's intermediates: projections, probabilities [heads, nq, nk] and context. */
export interface AttentionTape {
  xq: Vec;
  xkv: Vec;
  q: Vec;
  k: Vec;
  v: Vec;
  probs: Vec;
  ctx: Vec;
  shape: AttentionShape;
}

/** x → LayerNorm(x + sublayer(x)). */
interface AddNormTape {
  norm: LayerNormCache;
}

interface FeedForwardTape {
  x: Vec;
  /** fc1 output before the activation. */
  pre: Vec;
  /** after the activation (fc2's input). */
  act: Vec;
}

export interface EncoderLayerTape {
  selfAttn: AttentionTape;
  selfAttnNorm: AddNormTape;
  ffn: FeedForwardTape;
  finalNorm: AddNormTape;
}

export interface DecoderLayerTape extends EncoderLayerTape {
  crossAttn: AttentionTape;
  crossAttnNorm: AddNormTape;
}

export interface ForwardTape {
  sourceIds: number[];
  decoderInputIds: number[];
  encoder: EncoderLayerTape[];
  /** [sourceLen, d] encoder output (the cross-attention keys' and values' input). */
  encoderOut: Vec;
  decoder: DecoderLayerTape[];
  /** [targetLen, d] last decoder hidden state. */
  decoderOut: Vec;
  /** [targetLen, vocab] */
  logits: Vec;
}

export class TrainableMarian {
  readonly embedScale: number;
  private positionTable: Float32Array;

  constructor(readonly config: MarianConfig, readonly params: MarianParams) {
    this.embedScale = config.scaleEmbedding ? Math.sqrt(config.dModel) : 1;
    this.positionTable = sinusoidalPositions(Math.min(config.maxPositions, 64), config.dModel);
  }

  /** The sinusoid rows for positions [0, n), the same float32 values the inference engine adds. */
  positions(n: number): Float32Array {
    const d = this.config.dModel;
    if (n * d > this.positionTable.length) this.positionTable = sinusoidalPositions(n, d);
    return this.positionTable.subarray(0, n * d);
  }

  private w(name: string): Vec {
    return this.params.get(name).value;
  }

  private g(name: string): Vec {
    return this.params.get(name).grad;
  }

  // ---- units -------------------------------------------------------------------------------------------------

  private linear(name: string, x: Vec, rows: number, inDim: number, outDim: number): Vec {
    const y = new Float64Array(rows * outDim);
    linearForward(x, rows, inDim, this.w(`${name}.weight`), this.w(`${name}.bias`), outDim, y);
    return y;
  }

  private linearBack(name: string, dy: Vec, x: Vec, rows: number, inDim: number, outDim: number, dx: Vec | undefined): void {
    linearBackward(dy, x, rows, inDim, this.w(`${name}.weight`), outDim, dx, this.g(`${name}.weight`), this.g(`${name}.bias`));
  }

  /** q from the query rows, k and v from the key rows, scaled dot-product attention, out_proj. */
  private attention(name: string, xq: Vec, nq: number, xkv: Vec, nk: number, heads: number, causal: boolean, keyMask?: ArrayLike<number>): { tape: AttentionTape; out: Vec } {
    const d = this.config.dModel;
    const q = this.linear(`${name}.q_proj`, xq, nq, d, d);
    const k = this.linear(`${name}.k_proj`, xkv, nk, d, d);
    const v = this.linear(`${name}.v_proj`, xkv, nk, d, d);
    const shape: AttentionShape = { nq, nk, d, heads, causal, keyMask };
    const ctx = new Float64Array(nq * d);
    const probs = attentionForward(q, k, v, shape, ctx);
    const out = this.linear(`${name}.out_proj`, ctx, nq, d, d);
    return { tape: { xq, xkv, q, k, v, probs, ctx, shape }, out };
  }

  private attentionBack(name: string, t: AttentionTape, dout: Vec, dxq: Vec, dxkv: Vec): void {
    const d = this.config.dModel, { nq, nk } = t.shape;
    const dctx = new Float64Array(nq * d);
    this.linearBack(`${name}.out_proj`, dout, t.ctx, nq, d, d, dctx);
    const dq = new Float64Array(nq * d), dk = new Float64Array(nk * d), dv = new Float64Array(nk * d);
    attentionBackward(dctx, t.q, t.k, t.v, t.probs, t.shape, dq, dk, dv);
    this.linearBack(`${name}.q_proj`, dq, t.xq, nq, d, d, dxq);
    this.linearBack(`${name}.k_proj`, dk, t.xkv, nk, d, d, dxkv);
    this.linearBack(`${name}.v_proj`, dv, t.xkv, nk, d, d, dxkv);
  }

  /** Post-LayerNorm residual: LayerNorm(x + sublayer). */
  private addNorm(name: string, x: Vec, sub: Vec, rows: number): { tape: AddNormTape; y: Vec } {
    const d = this.config.dModel;
    const sum = new Float64Array(rows * d), y = new Float64Array(rows * d);
    residualForward(x, sub, sum);
    const norm = layerNormForward(sum, rows, d, this.w(`${name}.weight`), this.w(`${name}.bias`), this.config.layerNormEps, y);
    return { tape: { norm }, y };
  }

  private addNormBack(name: string, t: AddNormTape, dy: Vec, rows: number, dx: Vec, dsub: Vec): void {
    const d = this.config.dModel;
    const dsum = new Float64Array(rows * d);
    layerNormBackward(dy, t.norm, rows, d, this.w(`${name}.weight`), dsum, this.g(`${name}.weight`), this.g(`${name}.bias`));
    residualBackward(dsum, dx, dsub);
  }

  /** fc2(act(fc1(x))). */
  private feedForward(prefix: string, x: Vec, rows: number, ffn: number): { tape: FeedForwardTape; out: Vec } {
    const d = this.config.dModel;
    const pre = this.linear(`${prefix}.fc1`, x, rows, d, ffn);
    const act = new Float64Array(pre.length);
    activationForward(pre, pre.length, this.config.activation, act);
    const out = this.linear(`${prefix}.fc2`, act, rows, ffn, d);
    return { tape: { x, pre, act }, out };
  }

  private feedForwardBack(prefix: string, t: FeedForwardTape, dout: Vec, rows: number, ffn: number, dx: Vec): void {
    const d = this.config.dModel;
    const dact = new Float64Array(rows * ffn), dpre = new Float64Array(rows * ffn);
    this.linearBack(`${prefix}.fc2`, dout, t.act, rows, ffn, d, dact);
    activationBackward(dact, t.pre, dpre.length, this.config.activation, dpre);
    this.linearBack(`${prefix}.fc1`, dpre, t.x, rows, d, ffn, dx);
  }

  // ---- whole model -------------------------------------------------------------------------------------------

  /** Embedding ×scale + positions, the encoder layers, the decoder layers, logits = h·Eᵀ + final_logits_bias. */
  forward(sourceIds: number[], decoderInputIds: number[], sourceMask?: ArrayLike<number>): ForwardTape {
    const cfg = this.config, d = cfg.dModel, n = sourceIds.length, T = decoderInputIds.length, V = cfg.vocabSize;
    for (const id of [...sourceIds, ...decoderInputIds]) if (!(Number.isInteger(id) && id >= 0 && id < V)) throw new RangeError(`token id ${id} is outside the vocabulary`);
    if (Math.max(n, T) > cfg.maxPositions) throw new RangeError(`more than the model's ${cfg.maxPositions} positions`);
    const E = this.w('shared.weight');
    let x: Vec = new Float64Array(n * d);
    embeddingForward(sourceIds, E, d, this.embedScale, this.positions(n), x);
    const encoder: EncoderLayerTape[] = [];
    for (let l = 0; l < cfg.encoderLayers; l++) {
      const p = `encoder.layers.${l}`;
      const sa = this.attention(`${p}.self_attn`, x, n, x, n, cfg.encoderHeads, false, sourceMask);
      const n1 = this.addNorm(`${p}.self_attn_layer_norm`, x, sa.out, n);
      const ff = this.feedForward(p, n1.y, n, cfg.encoderFfn);
      const n2 = this.addNorm(`${p}.final_layer_norm`, n1.y, ff.out, n);
      encoder.push({ selfAttn: sa.tape, selfAttnNorm: n1.tape, ffn: ff.tape, finalNorm: n2.tape });
      x = n2.y;
    }
    const encoderOut = x;
    let y: Vec = new Float64Array(T * d);
    embeddingForward(decoderInputIds, E, d, this.embedScale, this.positions(T), y);
    const decoder: DecoderLayerTape[] = [];
    for (let l = 0; l < cfg.decoderLayers; l++) {
      const p = `decoder.layers.${l}`;
      const sa = this.attention(`${p}.self_attn`, y, T, y, T, cfg.decoderHeads, true);
      const n1 = this.addNorm(`${p}.self_attn_layer_norm`, y, sa.out, T);
      const ca = this.attention(`${p}.encoder_attn`, n1.y, T, encoderOut, n, cfg.decoderHeads, false, sourceMask);
      const n2 = this.addNorm(`${p}.encoder_attn_layer_norm`, n1.y, ca.out, T);
      const ff = this.feedForward(p, n2.y, T, cfg.decoderFfn);
      const n3 = this.addNorm(`${p}.final_layer_norm`, n2.y, ff.out, T);
      decoder.push({ selfAttn: sa.tape, selfAttnNorm: n1.tape, crossAttn: ca.tape, crossAttnNorm: n2.tape, ffn: ff.tape, finalNorm: n3.tape });
      y = n3.y;
    }
    // output projection tied to the embeddings
    const logits = new Float64Array(T * V);
    linearForward(y, T, d, E, this.params.finalLogitsBias, V, logits);
    return { sourceIds, decoderInputIds, encoder, encoderOut, decoder, decoderOut: y, logits };
  }

  /** Adds the gradients of a loss whose derivative by the logits is `dlogits` to every parameter's grad. */
  backward(t: ForwardTape, dlogits: Vec): void {
    const cfg = this.config, d = cfg.dModel, n = t.sourceIds.length, T = t.decoderInputIds.length, V = cfg.vocabSize;
    const E = this.w('shared.weight'), dE = this.g('shared.weight');
    let dy: Vec = new Float64Array(T * d);
    linearBackward(dlogits, t.decoderOut, T, d, E, V, dy, dE, undefined);
    const dEnc = new Float64Array(n * d);
    for (let l = cfg.decoderLayers - 1; l >= 0; l--) {
      const p = `decoder.layers.${l}`, lt = t.decoder[l];
      // final_layer_norm(x2 + ffn(x2))
      const dx2 = new Float64Array(T * d), dff = new Float64Array(T * d);
      this.addNormBack(`${p}.final_layer_norm`, lt.finalNorm, dy, T, dx2, dff);
      this.feedForwardBack(p, lt.ffn, dff, T, cfg.decoderFfn, dx2);
      // encoder_attn_layer_norm(x1 + cross(x1, encoder output))
      const dx1 = new Float64Array(T * d), dca = new Float64Array(T * d);
      this.addNormBack(`${p}.encoder_attn_layer_norm`, lt.crossAttnNorm, dx2, T, dx1, dca);
      this.attentionBack(`${p}.encoder_attn`, lt.crossAttn, dca, dx1, dEnc);
      // self_attn_layer_norm(x0 + self(x0))
      const dx0 = new Float64Array(T * d), dsa = new Float64Array(T * d);
      this.addNormBack(`${p}.self_attn_layer_norm`, lt.selfAttnNorm, dx1, T, dx0, dsa);
      this.attentionBack(`${p}.self_attn`, lt.selfAttn, dsa, dx0, dx0);
      dy = dx0;
    }
    embeddingBackward(dy, t.decoderInputIds, d, this.embedScale, dE);
    let dx: Vec = dEnc;
    for (let l = cfg.encoderLayers - 1; l >= 0; l--) {
      const p = `encoder.layers.${l}`, lt = t.encoder[l];
      const dx1 = new Float64Array(n * d), dff = new Float64Array(n * d);
      this.addNormBack(`${p}.final_layer_norm`, lt.finalNorm, dx, n, dx1, dff);
      this.feedForwardBack(p, lt.ffn, dff, n, cfg.encoderFfn, dx1);
      const dx0 = new Float64Array(n * d), dsa = new Float64Array(n * d);
      this.addNormBack(`${p}.self_attn_layer_norm`, lt.selfAttnNorm, dx1, n, dx0, dsa);
      this.attentionBack(`${p}.self_attn`, lt.selfAttn, dsa, dx0, dx0);
      dx = dx0;
    }
    embeddingBackward(dx, t.sourceIds, d, this.embedScale, dE);
  }

  /**
   * Hugging Face's training loss for a batch of pairs: labels = target ids + </s>, decoder input = start token +
   * labels without the last; mean cross-entropy over every label token of the batch. Accumulates the gradients
   * (call params.zeroGrad() first) and returns the mean loss.
   */
  lossAndGradients(batch: Array<{ sourceIds: number[]; labels: number[] }>, opts: { labelSmoothing?: number; gradients?: boolean } = {}): { loss: number; tokens: number; tapes: ForwardTape[] } {
    const V = this.config.vocabSize;
    const tokens = batch.reduce((a, p) => a + p.labels.length, 0);
    let sum = 0;
    const tapes: ForwardTape[] = [];
    for (const pair of batch) {
      const tape = this.forward(pair.sourceIds, decoderInput(pair.labels, this.config.decoderStartTokenId));
      const dlogits = opts.gradients === false ? undefined : new Float64Array(tape.logits.length);
      sum += crossEntropy(tape.logits, pair.labels.length, V, pair.labels, opts.labelSmoothing ?? 0, 1 / tokens, dlogits).sum;
      if (dlogits) this.backward(tape, dlogits);
      tapes.push(tape);
    }
    return { loss: sum / tokens, tokens, tapes };
  }

  /** Greedy decoding (recomputing the whole prefix each step: these models are tiny). */
  greedy(sourceIds: number[], maxNewTokens: number): number[] {
    const out = [this.config.decoderStartTokenId];
    const V = this.config.vocabSize;
    for (let s = 0; s < maxNewTokens; s++) {
      const { logits } = this.forward(sourceIds, out);
      const o = (out.length - 1) * V;
      let best = 0;
      for (let v = 1; v < V; v++) if (logits[o + v] > logits[o + best]) best = v;
      if (best === this.config.padTokenId) {
        // never emit the pad token (Hugging Face's bad_words_ids for Marian): take the runner-up
        best = best === 0 ? 1 : 0;
        for (let v = 0; v < V; v++) if (v !== this.config.padTokenId && logits[o + v] > logits[o + best]) best = v;
      }
      out.push(best);
      if (best === this.config.eosTokenId) break;
    }
    return out.slice(1);
  }
}

/** Hugging Face's shift_tokens_right: the decoder reads the start token and then every label but the last. */
export function decoderInput(labels: number[], startId: number): number[] {
  return [startId, ...labels.slice(0, -1)];
}
