/**
 * The trainable tensors of a Marian model, named as Hugging Face stores them (`model.shared.weight`,
 * `model.encoder.layers.0.fc1.weight`, …), in float64 with a gradient buffer each. The embedding table is one
 * tensor: the encoder and decoder inputs and the output projection all use it (tied). `final_logits_bias` is a
 * constant buffer in Hugging Face, so it is kept apart and never trained.
 */
import type { MarianConfig } from '../loading/config';
import type { Linear, MarianWeights } from '../loading/weights';

export interface Param {
  name: string;
  shape: number[];
  value: Float64Array;
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
  /** [vocab] added to the logits; a constant (zeros for a fresh model). */
  readonly finalLogitsBias: Float64Array;

  private constructor(readonly config: MarianConfig, values: Map<string, Float64Array>, finalLogitsBias: Float64Array) {
    this.list = parameterShapes(config).map(([name, shape]) => {
      const value = values.get(name)!;
      const isNorm = name.includes('layer_norm');
      return { name, shape, value, grad: new Float64Array(value.length), decay: name.endsWith('.weight') && !isNorm };
    });
    for (const p of this.list) this.byName.set(p.name, p);
    this.finalLogitsBias = finalLogitsBias;
  }

  /**
   * A fresh model for `seed`: weights and embeddings ~ N(0, std²) (Hugging Face's init_std scheme; the pad row of
   * the embeddings zero), biases 0, LayerNorm γ = 1 and β = 0.
   */
  static init(cfg: MarianConfig, seed: number, std = 0.02): MarianParams {
    const rng = new Rng(seed);
    const values = new Map<string, Float64Array>();
    for (const [name, shape] of parameterShapes(cfg)) {
      const v = new Float64Array(shape.reduce((a, b) => a * b, 1));
      if (name.includes('layer_norm')) {
        if (name.endsWith('.weight')) v.fill(1);
      } else if (name.endsWith('.weight')) {
        for (let i = 0; i < v.length; i++) v[i] = rng.normal() * std;
        if (name === `${PREFIX}shared.weight`) v.fill(0, cfg.padTokenId * cfg.dModel, (cfg.padTokenId + 1) * cfg.dModel);
      }
      values.set(name, v);
    }
    return new MarianParams(cfg, values, new Float64Array(cfg.vocabSize));
  }

  /** Trainable copies of a loaded model's weights (for fine-tuning and the gradient check). */
  static fromWeights(cfg: MarianConfig, w: MarianWeights): MarianParams {
    const values = new Map<string, Float64Array>();
    const f64 = (a: Float32Array): Float64Array => Float64Array.from(a);
    const linear = (n: string, l: Linear): void => {
      values.set(`${n}.weight`, f64(l.weight));
      values.set(`${n}.bias`, f64(l.bias));
    };
    const norm = (n: string, g: Float32Array, b: Float32Array): void => {
      values.set(`${n}.weight`, f64(g));
      values.set(`${n}.bias`, f64(b));
    };
    const names = { q: 'q_proj', k: 'k_proj', v: 'v_proj', out: 'out_proj' } as const;
    const attention = (n: string, a: MarianWeights['encoder'][number]['selfAttn']): void => {
      for (const [key, hf] of Object.entries(names)) linear(`${n}.${hf}`, a[key as keyof typeof names]);
    };
    if (w.lmHead !== w.embeddings) throw new Error('training needs the output projection tied to the embeddings');
    values.set(`${PREFIX}shared.weight`, f64(w.embeddings));
    w.encoder.forEach((l, i) => {
      const p = `${PREFIX}encoder.layers.${i}`;
      attention(`${p}.self_attn`, l.selfAttn);
      norm(`${p}.self_attn_layer_norm`, l.selfAttnNorm.gamma, l.selfAttnNorm.beta);
      linear(`${p}.fc1`, l.fc1);
      linear(`${p}.fc2`, l.fc2);
      norm(`${p}.final_layer_norm`, l.finalNorm.gamma, l.finalNorm.beta);
    });
    w.decoder.forEach((l, i) => {
      const p = `${PREFIX}decoder.layers.${i}`;
      attention(`${p}.self_attn`, l.selfAttn);
      norm(`${p}.self_attn_layer_norm`, l.selfAttnNorm.gamma, l.selfAttnNorm.beta);
      attention(`${p}.encoder_attn`, l.encoderAttn);
      norm(`${p}.encoder_attn_layer_norm`, l.encoderAttnNorm.gamma, l.encoderAttnNorm.beta);
      linear(`${p}.fc1`, l.fc1);
      linear(`${p}.fc2`, l.fc2);
      norm(`${p}.final_layer_norm`, l.finalNorm.gamma, l.finalNorm.beta);
    });
    return new MarianParams(cfg, values, f64(w.finalLogitsBias));
  }

  /** A tensor by its name without the `model.` prefix, e.g. `encoder.layers.0.fc1.weight`. */
  get(name: string): Param {
    const p = this.byName.get(PREFIX + name);
    if (!p) throw new Error(`no parameter ${PREFIX}${name}`);
    return p;
  }

  zeroGrad(): void {
    for (const p of this.list) p.grad.fill(0);
  }

  /** A deep copy of the values (the last good weights kept when a step goes wrong). */
  snapshot(): Float64Array[] {
    return this.list.map((p) => p.value.slice());
  }

  restore(values: Float64Array[]): void {
    this.list.forEach((p, i) => p.value.set(values[i]));
  }
}
