/**
 * The trainable tensors of a Marian model, named as Hugging Face stores them (`model.shared.weight`,
 * `model.encoder.layers.0.fc1.weight`, …). The values are the float32 arrays of an ordinary `MarianWeights` (the
 * structure the reference forward pass and the inference engine read, so a trained model is used as it is);
 * each has a float64 gradient buffer. The embedding table is one tensor: the encoder and decoder inputs and the
 * output projection all use it (tied). `final_logits_bias` is a constant buffer in Hugging Face, never trained.
 */
import type { MarianConfig } from '../loading/config';
import { toFloat32, type RawTensor } from '../loading/safetensors';
import { buildMarianWeights, type MarianWeights } from '../loading/weights';

export interface Param {
  /** The name in the weight file (`model.` prefix for models made here). */
  name: string;
  shape: number[];
  /** The live weights (shared with `MarianParams.weights`). */
  value: Float32Array;
  grad: Float64Array;
  /** AdamW weight decay applies to matrices (weights and embeddings), not to biases or LayerNorm parameters. */
  decay: boolean;
}

/** Deterministic pseudo-random numbers (mulberry32) with normal samples by Box–Muller: same seed, same model. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  uniform(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  normal(): number {
    const u = 1 - this.uniform(), v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }
}

const PREFIX = 'model.';

/** The names and shapes of every trainable tensor, in the order Hugging Face lists them. */
export function parameterShapes(cfg: MarianConfig): Array<[string, number[]]> {
  const d = cfg.dModel;
  const out: Array<[string, number[]]> = [[`${PREFIX}shared.weight`, [cfg.vocabSize, d]]];
  const linear = (n: string, o: number, i: number): void => {
    out.push([`${n}.weight`, [o, i]], [`${n}.bias`, [o]]);
  };
  const norm = (n: string): void => {
    out.push([`${n}.weight`, [d]], [`${n}.bias`, [d]]);
  };
  const attention = (n: string): void => {
    for (const p of ['k_proj', 'v_proj', 'q_proj', 'out_proj']) linear(`${n}.${p}`, d, d);
  };
  for (let l = 0; l < cfg.encoderLayers; l++) {
    const p = `${PREFIX}encoder.layers.${l}`;
    attention(`${p}.self_attn`);
    norm(`${p}.self_attn_layer_norm`);
    linear(`${p}.fc1`, cfg.encoderFfn, d);
    linear(`${p}.fc2`, d, cfg.encoderFfn);
    norm(`${p}.final_layer_norm`);
  }
  for (let l = 0; l < cfg.decoderLayers; l++) {
    const p = `${PREFIX}decoder.layers.${l}`;
    attention(`${p}.self_attn`);
    norm(`${p}.self_attn_layer_norm`);
    attention(`${p}.encoder_attn`);
    norm(`${p}.encoder_attn_layer_norm`);
    linear(`${p}.fc1`, cfg.decoderFfn, d);
    linear(`${p}.fc2`, d, cfg.decoderFfn);
    norm(`${p}.final_layer_norm`);
  }
  return out;
}

export class MarianParams {
  readonly list: Param[];
  private readonly byName = new Map<string, Param>();

  /**
   * `values` gives each tensor (by its name without the `model.` prefix) as float32; the arrays are copied into
   * fresh memory that both `list` and `weights` use.
   */
  private constructor(
    readonly config: MarianConfig, values: (name: string) => Float32Array, finalLogitsBias: Float32Array | undefined,
    storedName: (name: string) => string, share = false,
  ) {
    const tensors = new Map<string, RawTensor>();
    this.list = parameterShapes(config).map(([name, shape]) => {
      const short = name.slice(PREFIX.length);
      let value = values(short);
      if (!share) {
        // shared memory, so a helper thread can read the same weights (see dataParallel.ts)
        value = new Float32Array(new SharedArrayBuffer(shape.reduce((a, b) => a * b, 1) * 4));
        value.set(values(short));
      }
      tensors.set(name, { dtype: 'F32', shape, bytes: new Uint8Array(value.buffer) });
      const decay = name.endsWith('.weight') && !name.includes('layer_norm');
      return { name: storedName(short), shape, value, grad: new Float64Array(value.length), decay };
    });
    if (finalLogitsBias) tensors.set('final_logits_bias', { dtype: 'F32', shape: [1, config.vocabSize], bytes: new Uint8Array(finalLogitsBias.slice().buffer) });
    for (const p of this.list) this.byName.set(p.name.startsWith(PREFIX) ? p.name.slice(PREFIX.length) : p.name, p);
    // the loader's own mapping from names to structure, over the same memory (float32 views are not copied)
    this.weights = buildMarianWeights('(training)', tensors, { ...config, tieWordEmbeddings: true });
  }

  /** The structure the forward passes read; its arrays are the parameters' values. */
  readonly weights: MarianWeights;

  /**
   * A fresh model for `seed`: weights and embeddings ~ N(0, std²) (Hugging Face's init_std scheme; the pad row of
   * the embeddings zero), biases 0, LayerNorm γ = 1 and β = 0.
   */
  static init(cfg: MarianConfig, seed: number, std = 0.02): MarianParams {
    const rng = new Rng(seed);
    const shapes = new Map(parameterShapes(cfg));
    return new MarianParams(cfg, (name) => {
      const v = new Float32Array(shapes.get(PREFIX + name)!.reduce((a, b) => a * b, 1));
      if (name.includes('layer_norm')) {
        if (name.endsWith('.weight')) v.fill(1);
      } else if (name.endsWith('.weight')) {
        for (let i = 0; i < v.length; i++) v[i] = rng.normal() * std;
        if (name === 'shared.weight') v.fill(0, cfg.padTokenId * cfg.dModel, (cfg.padTokenId + 1) * cfg.dModel);
      }
      return v;
    }, undefined, (n) => PREFIX + n);
  }

  /**
   * Trainable copies of the tensors of a weight file (`readWeights`), keeping their stored names. The embedding
   * may be stored as `shared.weight` or one of its tied copies; the output projection must be tied.
   */
  static fromTensors(cfg: MarianConfig, tensors: Map<string, RawTensor>): MarianParams {
    if (cfg.tieWordEmbeddings === false) throw new Error('training needs the output projection tied to the embeddings (config.json sets "tie_word_embeddings": false)');
    const loaded = buildMarianWeights('(weights)', tensors, cfg);
    const stored = (name: string): string => {
      const alts = name === 'shared.weight' ? ['shared.weight', 'encoder.embed_tokens.weight', 'decoder.embed_tokens.weight'] : [name];
      for (const a of alts) for (const n of [PREFIX + a, a]) if (tensors.has(n)) return n;
      return PREFIX + name;
    };
    // buildMarianWeights checked every shape; read each tensor by its stored name
    return new MarianParams(cfg, (n) => toFloat32(tensors.get(stored(n))!), loaded.finalLogitsBias, stored);
  }

  /**
   * Another thread's view of the same model: `values` are the shared-memory arrays of `list` (in order), used in
   * place; `grads` (shared too) become the gradient buffers, so the owner can add them up.
   */
  static sharedView(cfg: MarianConfig, values: Float32Array[], grads: Float64Array[]): MarianParams {
    const order = parameterShapes(cfg).map(([n]) => n.slice(PREFIX.length));
    const byName = new Map(order.map((n, i) => [n, values[i]]));
    const p = new MarianParams(cfg, (n) => byName.get(n)!, undefined, (n) => PREFIX + n, true);
    p.list.forEach((param, i) => (param.grad = grads[i]));
    return p;
  }

  /** A tensor by its name without the `model.` prefix, e.g. `encoder.layers.0.fc1.weight`. */
  get(name: string): Param {
    const p = this.byName.get(name);
    if (!p) throw new Error(`no parameter ${name}`);
    return p;
  }

  zeroGrad(): void {
    for (const p of this.list) p.grad.fill(0);
  }

  /** A copy of the values (the last good weights kept when a step goes wrong). */
  snapshot(): Float32Array[] {
    return this.list.map((p) => p.value.slice());
  }

  restore(values: Float32Array[]): void {
    this.list.forEach((p, i) => p.value.set(values[i]));
  }
}
