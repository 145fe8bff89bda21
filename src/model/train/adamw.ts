/** AdamW (Loshchilov & Hutter: Adam with decoupled weight decay) with a linear learning-rate warm-up. */
import type { Param } from './params';

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay, applied only to parameters marked `decay`. */
  weightDecay?: number;
  /** Steps over which the learning rate rises linearly from lr/warmup to lr. */
  warmupSteps?: number;
  /** Gradients are scaled down so their global L2 norm is at most this (0 = off). */
  clipNorm?: number;
}

export class AdamW {
  step = 0;
  private readonly m: Float64Array[];
  private readonly v: Float64Array[];
  readonly opts: Required<AdamWOptions>;

  constructor(private readonly params: Param[], opts: AdamWOptions) {
    this.opts = { beta1: 0.9, beta2: 0.98, eps: 1e-9, weightDecay: 0.01, warmupSteps: 0, clipNorm: 0, ...opts };
    this.m = params.map((p) => new Float64Array(p.value.length));
    this.v = params.map((p) => new Float64Array(p.value.length));
  }

  /** Learning rate of step `t` (1-based): linear warm-up, then constant. */
  learningRate(t: number): number {
    const { lr, warmupSteps } = this.opts;
    return warmupSteps > 0 && t < warmupSteps ? (lr * t) / warmupSteps : lr;
  }

  /** Global gradient L2 norm. */
  gradNorm(): number {
    let s = 0;
    for (const p of this.params) for (let i = 0; i < p.grad.length; i++) s += p.grad[i] * p.grad[i];
    return Math.sqrt(s);
  }

  /** One update from the parameters' current gradients. */
  update(): void {
    const { beta1, beta2, eps, weightDecay, clipNorm } = this.opts;
    const t = ++this.step;
    const lr = this.learningRate(t);
    const norm = clipNorm > 0 ? this.gradNorm() : 0;
    const clip = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1;
    // bias corrections for the zero-initialised moment estimates
    const c1 = 1 - beta1 ** t, c2 = 1 - beta2 ** t;
    this.params.forEach((p, k) => {
      const m = this.m[k], v = this.v[k], w = p.value, g = p.grad;
      const decay = p.decay ? lr * weightDecay : 0;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i] * clip;
        m[i] = beta1 * m[i] + (1 - beta1) * gi;
        v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
        // decoupled decay shrinks the weight directly, not through the gradient
        w[i] -= decay * w[i] + (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
      }
    });
  }
}
