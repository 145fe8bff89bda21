/**
 * Forward/backward pairs of every operation in the Marian layers, for training. Everything is float64 (the
 * gradients are checked against finite differences and PyTorch autograd). Backward functions ADD into their
 * gradient outputs (dx += …), so a tensor used twice (a residual, tied embeddings) collects both contributions.
 */
import type { Activation } from '../loading/config';
import { erf } from '../network/ops';

export type Vec = Float64Array;
/** Inputs may be float32 (the forward pass's records) or float64. */
export type Num = Float32Array | Float64Array;

/** Linear layer y = x·Wᵀ + b over `rows` rows; W is [outDim, inDim] (PyTorch layout), b may be absent. */
export function linearForward(x: Num, rows: number, inDim: number, W: ArrayLike<number>, b: ArrayLike<number> | undefined, outDim: number, y: Vec): void {
  for (let r = 0; r < rows; r++) {
    const xo = r * inDim;
    for (let o = 0; o < outDim; o++) {
      const wo = o * inDim;
      let s = b ? b[o] : 0;
      for (let i = 0; i < inDim; i++) s += x[xo + i] * W[wo + i];
      y[r * outDim + o] = s;
    }
  }
}

/** Gradients of the linear layer: dx += dy·W, dW += dyᵀ·x, db += Σ_rows dy. */
export function linearBackward(
  dy: Vec, x: Num, rows: number, inDim: number, W: Num, outDim: number,
  dx: Vec | undefined, dW: Vec, db: Vec | undefined,
): void {
  // one element type per array in the hot loops (float32 records are widened once; same values)
  const xs = x instanceof Float64Array ? x : Float64Array.from(x);
  for (let r = 0; r < rows; r++) {
    const xo = r * inDim, go = r * outDim;
    for (let o = 0; o < outDim; o++) {
      const g = dy[go + o];
      if (g === 0) continue;
      const wo = o * inDim;
      if (db) db[o] += g;
      for (let i = 0; i < inDim; i++) dW[wo + i] += g * xs[xo + i];
    }
    if (dx) {
      for (let o = 0; o < outDim; o++) {
        const g = dy[go + o];
        if (g === 0) continue;
        const wo = o * inDim;
        for (let i = 0; i < inDim; i++) dx[xo + i] += g * W[wo + i];
      }
    }
  }
}

/** Token embeddings times `scale`, plus the (constant) sinusoidal position rows. */
export function embeddingForward(ids: ArrayLike<number>, E: Num, d: number, scale: number, positions: ArrayLike<number>, out: Vec): void {
  for (let i = 0; i < ids.length; i++) {
    const eo = ids[i] * d;
    for (let c = 0; c < d; c++) out[i * d + c] = E[eo + c] * scale + positions[i * d + c];
  }
}

/** Only the looked-up rows get gradient; positions are constants. */
export function embeddingBackward(dy: Vec, ids: ArrayLike<number>, d: number, scale: number, dE: Vec): void {
  for (let i = 0; i < ids.length; i++) {
    const eo = ids[i] * d;
    for (let c = 0; c < d; c++) dE[eo + c] += dy[i * d + c] * scale;
  }
}

/** In place softmax of x[off, off+n); −∞ entries get probability 0. */
export function softmaxForward(x: Vec, off: number, n: number): void {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (x[off + i] > max) max = x[off + i];
  if (max === -Infinity) {
    x.fill(0, off, off + n); // every key masked: no weight anywhere rather than NaN
    return;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += x[off + i] = Math.exp(x[off + i] - max);
  for (let i = 0; i < n; i++) x[off + i] /= sum;
}

/** Softmax Jacobian-vector product: dx += p ⊙ (dp − Σ p·dp). */
export function softmaxBackward(p: Num, dp: Vec, off: number, n: number, dx: Vec, dxOff: number): void {
  let dot = 0;
  for (let i = 0; i < n; i++) dot += p[off + i] * dp[off + i];
  for (let i = 0; i < n; i++) dx[dxOff + i] += p[off + i] * (dp[off + i] - dot);
}

export interface AttentionShape {
  nq: number;
  nk: number;
  d: number;
  heads: number;
  /** Decoder self-attention: query i sees keys ≤ i. */
  causal: boolean;
  /** Hugging Face attention_mask over the keys: 0 = padding, which gets no weight. */
  keyMask?: ArrayLike<number>;
}

/**
 * Scaled dot-product attention over [tokens, d] rows whose heads are contiguous column slices:
 * p = softmax(q_h·k_hᵀ/√(d/heads)) with masked keys at −∞, ctx_h = p·v_h. Returns the probabilities [heads, nq, nk].
 */
export function attentionForward(q: Vec, k: Vec, v: Vec, s: AttentionShape, ctx: Vec): Vec {
  const { nq, nk, d, heads } = s;
  const hd = d / heads, scale = 1 / Math.sqrt(hd);
  const probs = new Float64Array(heads * nq * nk);
  for (let h = 0; h < heads; h++) {
    const ho = h * hd;
    for (let i = 0; i < nq; i++) {
      const po = (h * nq + i) * nk;
      // scores of the keys this query may see; the rest are −∞ (probability 0)
      for (let j = 0; j < nk; j++) {
        if ((s.causal && j > i) || (s.keyMask && s.keyMask[j] === 0)) {
          probs[po + j] = -Infinity;
          continue;
        }
        let dot = 0;
        for (let t = 0; t < hd; t++) dot += q[i * d + ho + t] * k[j * d + ho + t];
        probs[po + j] = dot * scale;
      }
      softmaxForward(probs, po, nk);
      // the context is the probability-weighted sum of the value rows
      for (let t = 0; t < hd; t++) {
        let c = 0;
        for (let j = 0; j < nk; j++) c += probs[po + j] * v[j * d + ho + t];
        ctx[i * d + ho + t] = c;
      }
    }
  }
  return probs;
}

/** Gradients of attentionForward: dq, dk, dv += …, through the context sum, the softmax and the scaled scores. */
export function attentionBackward(dctx: Vec, q: Num, k: Num, v: Num, probs: Num, s: AttentionShape, dq: Vec, dk: Vec, dv: Vec): void {
  const { nq, nk, d, heads } = s;
  const hd = d / heads, scale = 1 / Math.sqrt(hd);
  const dp = new Float64Array(nk), dscore = new Float64Array(nk);
  for (let h = 0; h < heads; h++) {
    const ho = h * hd;
    for (let i = 0; i < nq; i++) {
      const po = (h * nq + i) * nk;
      // ctx = Σ_j p_j v_j: dp_j = dctx·v_j, dv_j += p_j·dctx
      for (let j = 0; j < nk; j++) {
        let g = 0;
        const pj = probs[po + j];
        for (let t = 0; t < hd; t++) {
          const dc = dctx[i * d + ho + t];
          g += dc * v[j * d + ho + t];
          dv[j * d + ho + t] += pj * dc;
        }
        dp[j] = g;
      }
      dscore.fill(0);
      softmaxBackward(probs.subarray(po, po + nk), dp, 0, nk, dscore, 0);
      // score_j = scale·q·k_j
      for (let j = 0; j < nk; j++) {
        const g = dscore[j] * scale;
        if (g === 0) continue;
        for (let t = 0; t < hd; t++) {
          dq[i * d + ho + t] += g * k[j * d + ho + t];
          dk[j * d + ho + t] += g * q[i * d + ho + t];
        }
      }
    }
  }
}

export interface LayerNormCache {
  /** (x − mean)/σ per row, before γ and β. */
  xhat: Num;
  /** 1/σ per row. */
  invStd: Num;
}

/** y = γ·(x − mean)/√(var + eps) + β per row of width d (biased variance, as PyTorch). */
export function layerNormForward(x: Vec, rows: number, d: number, gamma: Vec, beta: Vec, eps: number, y: Vec): LayerNormCache {
  const xhat = new Float64Array(rows * d), invStd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[o + i];
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (x[o + i] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / d + eps);
    invStd[r] = inv;
    for (let i = 0; i < d; i++) {
      xhat[o + i] = (x[o + i] - mean) * inv;
      y[o + i] = xhat[o + i] * gamma[i] + beta[i];
    }
  }
  return { xhat, invStd };
}

/** LayerNorm gradients: dγ += Σ dy·x̂, dβ += Σ dy, dx += (1/σ)·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·γ. */
export function layerNormBackward(dy: Vec, c: LayerNormCache, rows: number, d: number, gamma: Num, dx: Vec, dgamma: Vec, dbeta: Vec): void {
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let gMean = 0, gxMean = 0;
    for (let i = 0; i < d; i++) {
      const g = dy[o + i] * gamma[i];
      gMean += g;
      gxMean += g * c.xhat[o + i];
      dgamma[i] += dy[o + i] * c.xhat[o + i];
      dbeta[i] += dy[o + i];
    }
    gMean /= d;
    gxMean /= d;
    for (let i = 0; i < d; i++) dx[o + i] += c.invStd[r] * (dy[o + i] * gamma[i] - gMean - c.xhat[o + i] * gxMean);
  }
}

/** The feed-forward activation, element-wise: relu, swish (x·σ(x)) or gelu (x·Φ(x), exact erf form as Hugging Face). */
export function activationForward(x: Vec, n: number, act: Activation, y: Vec): void {
  for (let i = 0; i < n; i++) {
    const z = x[i];
    y[i] = act === 'relu' ? (z > 0 ? z : 0) : act === 'swish' ? z / (1 + Math.exp(-z)) : 0.5 * z * (1 + erf(z / Math.SQRT2));
  }
}

/** dx += dy·act′(x). */
export function activationBackward(dy: Vec, x: Num, n: number, act: Activation, dx: Vec): void {
  for (let i = 0; i < n; i++) {
    const z = x[i];
    let g: number;
    if (act === 'relu') g = z > 0 ? 1 : 0;
    else if (act === 'swish') {
      const s = 1 / (1 + Math.exp(-z));
      g = s * (1 + z * (1 - s));
    } else g = 0.5 * (1 + erf(z / Math.SQRT2)) + (z * Math.exp(-0.5 * z * z)) / Math.sqrt(2 * Math.PI);
    dx[i] += dy[i] * g;
  }
}

/** Residual connection: y = x + sublayer(x). */
export function residualForward(x: Vec, sub: Vec, y: Vec): void {
  for (let i = 0; i < y.length; i++) y[i] = x[i] + sub[i];
}

/** The residual passes its gradient unchanged to both branches. */
export function residualBackward(dy: Vec, dx: Vec, dsub: Vec): void {
  for (let i = 0; i < dy.length; i++) {
    dx[i] += dy[i];
    dsub[i] += dy[i];
  }
}

/** Label id that takes no part in the loss (PyTorch's ignore_index). */
export const IGNORE_INDEX = -100;

/**
 * Cross-entropy of `rows` logit rows against `labels`, with optional label smoothing ε (PyTorch's definition:
 * (1 − ε)·(−log p_label) + ε·mean_v(−log p_v)). Returns the summed loss and the count of labelled rows;
 * dlogits += (softmax − target)·gradScale, where gradScale is 1/(tokens in the batch) for a mean.
 */
export function crossEntropy(
  logits: Num, rows: number, V: number, labels: ArrayLike<number>, smoothing: number, gradScale: number, dlogits?: Vec,
): { sum: number; count: number } {
  let sum = 0, count = 0;
  for (let r = 0; r < rows; r++) {
    const label = labels[r];
    if (label === IGNORE_INDEX) continue;
    const o = r * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (logits[o + v] > max) max = logits[o + v];
    let z = 0, logitSum = 0;
    for (let v = 0; v < V; v++) {
      z += Math.exp(logits[o + v] - max);
      logitSum += logits[o + v];
    }
    const lse = max + Math.log(z);
    // −log p_label, and the mean of −log p_v over the vocabulary for the smoothing term
    sum += (1 - smoothing) * (lse - logits[o + label]) + smoothing * (lse - logitSum / V);
    count++;
    if (dlogits) {
      for (let v = 0; v < V; v++) dlogits[o + v] += (Math.exp(logits[o + v] - lse) - smoothing / V) * gradScale;
      dlogits[o + label] -= (1 - smoothing) * gradScale;
    }
  }
  return { sum, count };
}
