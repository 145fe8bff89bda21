/**
 * Training on the reference forward pass (src/model/reference): its units (embed, self-attention, cross-attention,
 * add & norm, feed-forward, logits) keep every intermediate in named records, and the backward pass here walks
 * those records in reverse, unit by unit, with the op gradients of ./ops. The weights are an ordinary
 * `MarianWeights`, so the model being trained is the model the views explain. One sentence pair at a time;
 * a batch sums the pairs' gradients.
 */
import type { MarianConfig } from '../loading/config';
import { matmulTransB } from '../kernels/matmul';
import type { MatmulFn } from '../kernels/parallel/matmulPool';
import {
  decoderStack, encoderStack, logits as outputLayer,
  type AddAndNormRecord, type AttentionRecord, type FeedForwardRecord, type LayerRecord, type StackRecord,
} from '../reference';
import {
  activationBackward, attentionBackward, crossEntropy, embeddingBackward, layerNormBackward, linearBackward,
  residualBackward, type Vec,
} from './ops';
import type { MarianParams } from './params';

/** Everything one forward pass computed (the reference records) and its logits. */
export interface ForwardRecord {
  encoder: StackRecord;
  decoder: StackRecord;
  /** [decoder tokens, vocab] */
  logits: Float32Array;
}

export class TrainableMarian {
  readonly embedScale: number;
  /** The forward pass's matrix product: the fast kernel, or a MatmulPool's split over both cores (same numbers). */
  product: MatmulFn = matmulTransB;

  constructor(readonly config: MarianConfig, readonly params: MarianParams) {
    this.embedScale = config.scaleEmbedding ? Math.sqrt(config.dModel) : 1;
  }

  /** The reference encoder and decoder over one pair, and the tied output layer (fast product, same numbers). */
  forward(sourceIds: number[], decoderInputIds: number[], sourceMask?: ArrayLike<number>): ForwardRecord {
    const cfg = this.config, w = this.params.weights;
    for (const id of [...sourceIds, ...decoderInputIds]) {
      if (!(Number.isInteger(id) && id >= 0 && id < cfg.vocabSize)) throw new RangeError(`token id ${id} is outside the vocabulary`);
    }
    if (Math.max(sourceIds.length, decoderInputIds.length) > cfg.maxPositions) throw new RangeError(`more than the model's ${cfg.maxPositions} positions`);
    const product = this.product;
    const encoder = encoderStack(cfg, w, sourceIds, { sourceMask, product });
    const decoder = decoderStack(cfg, w, decoderInputIds, encoder.output, { sourceMask, product });
    const logits = outputLayer(w, cfg.vocabSize, decoder.output, decoderInputIds.length, product);
    return { encoder, decoder, logits };
  }

  /** Adds to every parameter's grad the gradient of a loss whose derivative by the logits is `dlogits`. */
  backward(r: ForwardRecord, dlogits: Vec): void {
    const cfg = this.config, d = cfg.dModel, V = cfg.vocabSize;
    const T = r.decoder.embedding.ids.length, n = r.encoder.embedding.ids.length;
    const E = this.params.get('shared.weight');
    // logits = h·Eᵀ + bias: the output projection is the embedding table (tied)
    let dy: Vec = new Float64Array(T * d);
    linearBackward(dlogits, r.decoder.output, T, d, E.value, V, dy, E.grad, undefined);
    // the cross-attention of every decoder layer reads the encoder output: its gradient collects here
    const dEncoderOut = new Float64Array(n * d);
    for (let l = cfg.decoderLayers - 1; l >= 0; l--) dy = this.layerBackward(`decoder.layers.${l}`, r.decoder.layers[l], dy, T, dEncoderOut);
    embeddingBackward(dy, r.decoder.embedding.ids, d, this.embedScale, E.grad);
    let dx: Vec = dEncoderOut;
    for (let l = cfg.encoderLayers - 1; l >= 0; l--) dx = this.layerBackward(`encoder.layers.${l}`, r.encoder.layers[l], dx, n);
    embeddingBackward(dx, r.encoder.embedding.ids, d, this.embedScale, E.grad);
  }

  /** One layer in reverse: feed-forward sublayer, then its attention sublayers last to first. Returns d(input). */
  private layerBackward(prefix: string, rec: LayerRecord, dOut: Vec, rows: number, dEncoderOut?: Vec): Vec {
    const d = this.config.dModel;
    const ff = rec.feedForward;
    // output = LayerNorm(input + ffn(input))
    let dIn = new Float64Array(rows * d);
    const dSub = new Float64Array(rows * d);
    this.addNormBackward(`${prefix}.final_layer_norm`, ff, dOut, rows, dIn, dSub);
    this.feedForwardBackward(prefix, ff, dSub, rows, dIn);
    for (let a = rec.attention.length - 1; a >= 0; a--) {
      const att = rec.attention[a];
      const name = att.kind === 'cross' ? 'encoder_attn' : 'self_attn';
      // output = LayerNorm(input + attention(input, memory))
      const dAttnIn = new Float64Array(rows * d), dAttnOut = new Float64Array(rows * d);
      this.addNormBackward(`${prefix}.${name}_layer_norm`, att, dIn, rows, dAttnIn, dAttnOut);
      this.attentionBackward(`${prefix}.${name}`, att, dAttnOut, dAttnIn, att.kind === 'cross' ? dEncoderOut! : dAttnIn);
      dIn = dAttnIn;
    }
    return dIn;
  }

  /** LayerNorm(input + sublayer) in reverse: dx and dsub both receive d(residual). */
  private addNormBackward(name: string, rec: AddAndNormRecord, dy: Vec, rows: number, dx: Vec, dsub: Vec): void {
    const d = this.config.dModel, eps = this.config.layerNormEps;
    const g = this.params.get(`${name}.weight`), b = this.params.get(`${name}.bias`);
    const invStd = rec.norm.variance.map((v) => 1 / Math.sqrt(v + eps));
    const dResidual = new Float64Array(rows * d);
    layerNormBackward(dy, { xhat: rec.norm.normalized, invStd }, rows, d, g.value, dResidual, g.grad, b.grad);
    residualBackward(dResidual, dx, dsub);
  }

  private linearBackward(name: string, dy: Vec, x: Float32Array, rows: number, inDim: number, outDim: number, dx: Vec | undefined): void {
    const w = this.params.get(`${name}.weight`), b = this.params.get(`${name}.bias`);
    linearBackward(dy, x, rows, inDim, w.value, outDim, dx, w.grad, b.grad);
  }

  /** fc2(act(fc1(x))) in reverse. */
  private feedForwardBackward(prefix: string, ff: FeedForwardRecord, dOut: Vec, rows: number, dx: Vec): void {
    const d = this.config.dModel, ffn = ff.preActivation.length / rows;
    const dHidden = new Float64Array(rows * ffn), dPre = new Float64Array(rows * ffn);
    this.linearBackward(`${prefix}.fc2`, dOut, ff.hidden, rows, ffn, d, dHidden);
    activationBackward(dHidden, ff.preActivation, dPre.length, this.config.activation, dPre);
    this.linearBackward(`${prefix}.fc1`, dPre, ff.input, rows, d, ffn, dx);
  }

  /** Multi-head attention in reverse: out_proj, each head's softmax attention, then the q, k, v projections. */
  private attentionBackward(name: string, a: AttentionRecord, dOut: Vec, dQueryRows: Vec, dMemoryRows: Vec): void {
    const d = this.config.dModel, H = a.heads.length, dh = d / H;
    const nq = a.input.length / d, nk = a.memory.length / d;
    const dConcat = new Float64Array(nq * d);
    this.linearBackward(`${name}.out_proj`, dOut, a.concatenated, nq, d, d, dConcat);
    const dQ = new Float64Array(nq * d), dK = new Float64Array(nk * d), dV = new Float64Array(nk * d);
    for (let h = 0; h < H; h++) {
      const head = a.heads[h];
      // head h owns columns [h·dh, (h+1)·dh)
      const dCtx = new Float64Array(nq * dh);
      for (let i = 0; i < nq; i++) for (let t = 0; t < dh; t++) dCtx[i * dh + t] = dConcat[i * d + h * dh + t];
      const dq = new Float64Array(nq * dh), dk = new Float64Array(nk * dh), dv = new Float64Array(nk * dh);
      // hidden keys have weight 0, so they receive no gradient: the mask needs no second look
      attentionBackward(dCtx, head.q, head.k, head.v, head.weights, { nq, nk, d: dh, heads: 1, causal: false }, dq, dk, dv);
      for (let i = 0; i < nq; i++) for (let t = 0; t < dh; t++) dQ[i * d + h * dh + t] = dq[i * dh + t];
      for (let j = 0; j < nk; j++) for (let t = 0; t < dh; t++) {
        dK[j * d + h * dh + t] = dk[j * dh + t];
        dV[j * d + h * dh + t] = dv[j * dh + t];
      }
    }
    this.linearBackward(`${name}.q_proj`, dQ, a.input, nq, d, d, dQueryRows);
    this.linearBackward(`${name}.k_proj`, dK, a.memory, nk, d, d, dMemoryRows);
    this.linearBackward(`${name}.v_proj`, dV, a.memory, nk, d, d, dMemoryRows);
  }

  /**
   * Hugging Face's training loss for a batch of pairs: labels = target ids + </s>, decoder input = start token +
   * labels without the last; mean cross-entropy over every label token of the batch. Adds the gradients to the
   * parameters' grads (call params.zeroGrad() first) unless `gradients` is false, and returns the mean loss
   * (with `totalTokens`, this part's share of the mean over a batch split between threads).
   */
  lossAndGradients(
    batch: Array<{ sourceIds: number[]; labels: number[] }>,
    opts: { labelSmoothing?: number; gradients?: boolean; totalTokens?: number } = {},
  ): { loss: number; tokens: number; records: ForwardRecord[] } {
    const V = this.config.vocabSize;
    // part of a larger batch (another thread has the rest): the mean is over all of its tokens
    const tokens = opts.totalTokens ?? batch.reduce((a, p) => a + p.labels.length, 0);
    let sum = 0;
    const records: ForwardRecord[] = [];
    for (const pair of batch) {
      const rec = this.forward(pair.sourceIds, decoderInput(pair.labels, this.config.decoderStartTokenId));
      const dlogits = opts.gradients === false ? undefined : new Float64Array(rec.logits.length);
      sum += crossEntropy(rec.logits, pair.labels.length, V, pair.labels, opts.labelSmoothing ?? 0, 1 / tokens, dlogits).sum;
      if (dlogits) this.backward(rec, dlogits);
      records.push(rec);
    }
    return { loss: sum / tokens, tokens, records };
  }

  /** Greedy decoding, rerunning the reference pass over the whole prefix each step (the models trained here are tiny). */
  greedy(sourceIds: number[], maxNewTokens: number): number[] {
    const cfg = this.config, V = cfg.vocabSize;
    const out = [cfg.decoderStartTokenId];
    for (let s = 0; s < maxNewTokens; s++) {
      const { logits } = this.forward(sourceIds, out);
      const o = (out.length - 1) * V;
      // the pad token is never generated (Marian's bad_words_ids)
      let best = -1;
      for (let v = 0; v < V; v++) if (v !== cfg.padTokenId && (best < 0 || logits[o + v] > logits[o + best])) best = v;
      out.push(best);
      if (best === cfg.eosTokenId) break;
    }
    return out.slice(1);
  }
}

/** Hugging Face's shift_tokens_right: the decoder reads the start token and then every label but the last. */
export function decoderInput(labels: number[], startId: number): number[] {
  return [startId, ...labels.slice(0, -1)];
}
