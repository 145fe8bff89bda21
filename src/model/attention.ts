/** Scaled dot-product attention over row-major [tokens, dModel] tensors whose heads are contiguous column slices. */

/**
 * For each query row q (nq of them) and head h: p = softmax(q_h·k_hᵀ·scale) over the first `nk` key rows
 * (with `causal`, query i sees keys ≤ i + causalOffset; keys whose `keyMask` entry is 0 — padding — get no weight),
 * then ctx_h = p·v_h.
 * Probabilities are written to `probs` as [heads, nq, nk] when given (the numbers the views show).
 * `rowOffset` is where query row 0 starts in `q` and context row 0 in `ctx` (a hypothesis's row in a batch).
 */
export function multiHeadAttention(
  q: Float32Array, nq: number,
  k: Float32Array, v: Float32Array, nk: number,
  d: number, heads: number,
  ctx: Float32Array,
  scores: Float32Array,
  probs?: Float32Array,
  causalOffset = -1,
  keyMask?: ArrayLike<number>,
  rowOffset = 0,
): void {
  const hd = d / heads;
  const scale = 1 / Math.sqrt(hd);
  for (let h = 0; h < heads; h++) {
    const ho = h * hd;
    for (let i = 0; i < nq; i++) {
      const qo = rowOffset + i * d + ho;
      const visible = causalOffset >= 0 ? Math.min(nk, i + causalOffset + 1) : nk;
      for (let j = 0; j < visible; j++) {
        if (keyMask && keyMask[j] === 0) {
          scores[j] = -Infinity;
          continue;
        }
        const ko = j * d + ho;
        let s = 0;
        for (let t = 0; t < hd; t++) s += q[qo + t] * k[ko + t];
        scores[j] = s * scale;
      }
      let max = -Infinity;
      for (let j = 0; j < visible; j++) if (scores[j] > max) max = scores[j];
      let sum = 0;
      for (let j = 0; j < visible; j++) {
        const e = Math.exp(scores[j] - max);
        scores[j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = 0; j < visible; j++) scores[j] *= inv;
      if (probs) {
        const po = (h * nq + i) * nk;
        for (let j = 0; j < nk; j++) probs[po + j] = j < visible ? scores[j] : 0;
      }
      const co = rowOffset + i * d + ho;
      for (let t = 0; t < hd; t++) ctx[co + t] = 0;
      for (let j = 0; j < visible; j++) {
        const p = scores[j];
        const vo = j * d + ho;
        for (let t = 0; t < hd; t++) ctx[co + t] += p * v[vo + t];
      }
    }
  }
}
