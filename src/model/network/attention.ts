/** Scaled dot-product attention over row-major [tokens, dModel] tensors whose heads are contiguous column slices. */
import { attentionContext, attentionScores } from '../kernels/attention';

/**
 * For each query row q (nq of them) and head h: p = softmax(q_h·k_hᵀ·scale) over the first `nk` key rows
 * (with `causal`, query i sees keys ≤ i + causalOffset; keys whose `keyMask` entry is 0 — padding — get no weight),
 * then ctx_h = p·v_h.
 * Probabilities are written to `probs` as [heads, nq, nk] when given (the numbers the views show).
 * `rowOffset` is where query row 0 starts in `q` and context row 0 in `ctx` (a hypothesis's row in a batch).
 *
 * Arithmetic (fixed: the views show these numbers and the golden tests pin them): each score is Σₜ q·k summed in
 * doubles in increasing t from +0, times scale, rounded to float32; the softmax sums the unrounded doubles
 * exp(score − max); each context element starts at +0 and adds p_j·v_j[t] for increasing j, rounded to float32
 * after every addition. The loops below are blocked for speed (several keys' dot products, several context
 * elements at a time, each in its own accumulator), which changes none of those operations or their order.
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
      attentionScores(q, qo, k, ho, d, hd, scale, scores, visible);
      // masked keys were scored like the others (harmless) and get no weight
      if (keyMask) for (let j = 0; j < visible; j++) if (keyMask[j] === 0) scores[j] = -Infinity;
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
        for (let j = 0; j < visible; j++) probs[po + j] = scores[j];
        for (let j = visible; j < nk; j++) probs[po + j] = 0;
      }
      attentionContext(scores, visible, v, ho, d, hd, ctx, rowOffset + i * d + ho);
    }
  }
}
