/** Element-wise and row-wise operations of the Marian layers (sums in doubles, stored as float32). */
import type { Activation } from '../loading/config';

/** In place: x[r] = γ·(x[r] − mean)/√(var + eps) + β for each of `rows` rows of width `d`. */
export function layerNormInPlace(x: Float32Array, rows: number, d: number, gamma: Float32Array, beta: Float32Array, eps: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[o + i];
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) {
      const t = x[o + i] - mean;
      v += t * t;
    }
    const inv = 1 / Math.sqrt(v / d + eps);
    for (let i = 0; i < d; i++) x[o + i] = (x[o + i] - mean) * inv * gamma[i] + beta[i];
  }
}

/**
 * In place softmax over x[off, off+n): exp(x − max) stored as float32, divided by their sum taken over the unrounded
 * doubles. Attention's weights (network/attention.ts). A row that is all −∞ (every key masked) becomes all zeros
 * rather than NaN.
 */
export function softmaxInPlace(x: Float32Array, off: number, n: number): void {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (x[off + i] > max) max = x[off + i];
  if (max === -Infinity) {
    // every key masked: weight 0 everywhere; but a row of NaN scores (non-finite weights) stays NaN, so the
    // error is seen downstream instead of the row silently reading as "attends to nothing" (generation/finite.ts)
    let nan = false;
    for (let i = 0; i < n; i++) if (x[off + i] !== x[off + i]) nan = true;
    x.fill(nan ? NaN : 0, off, off + n);
    return;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(x[off + i] - max);
    x[off + i] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let i = 0; i < n; i++) x[off + i] *= inv;
}

/** log-softmax of x[off, off+n) into out[0, n) (double precision sums). */
export function logSoftmax(x: Float32Array, off: number, n: number, out: Float64Array): void {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (x[off + i] > max) max = x[off + i];
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(x[off + i] - max);
  const lse = max + Math.log(sum);
  for (let i = 0; i < n; i++) out[i] = x[off + i] - lse;
}

/** x += y over the first n elements (the residual connection). */
export function addInPlace(x: Float32Array, y: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) x[i] += y[i];
}

/** The feed-forward activation in place: relu max(0, x), swish x·σ(x), or gelu x·Φ(x) (exact erf form, as Hugging Face). */
export function activateInPlace(x: Float32Array, n: number, act: Activation): void {
  switch (act) {
    case 'relu':
      for (let i = 0; i < n; i++) if (x[i] < 0) x[i] = 0;
      return;
    case 'swish':
      for (let i = 0; i < n; i++) x[i] = x[i] / (1 + Math.exp(-x[i]));
      return;
    case 'gelu':
      for (let i = 0; i < n; i++) x[i] = 0.5 * x[i] * (1 + erf(x[i] / Math.SQRT2));
      return;
  }
}

/** erf with |error| < 1.2e-7 (Numerical Recipes' erfc Chebyshev fit), enough for float32 GELU. */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - r : r - 1;
}
