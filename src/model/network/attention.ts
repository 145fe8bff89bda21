/** Scaled dot-product attention over row-major [tokens, dModel] tensors whose heads are contiguous column slices. */

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

/** scores[j] = fround((Σₜ q[qo + t]·k[j·d + ho + t]) · scale) for j < n, eight keys (eight accumulators) at a time. */
function attentionScores(q: Float32Array, qo: number, k: Float32Array, ho: number, d: number, hd: number, scale: number, scores: Float32Array, n: number): void {
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    const k0 = j * d + ho, k1 = k0 + d, k2 = k1 + d, k3 = k2 + d, k4 = k3 + d, k5 = k4 + d, k6 = k5 + d, k7 = k6 + d;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    for (let t = 0; t < hd; t++) {
      const x = q[qo + t];
      s0 += x * k[k0 + t]; s1 += x * k[k1 + t]; s2 += x * k[k2 + t]; s3 += x * k[k3 + t];
      s4 += x * k[k4 + t]; s5 += x * k[k5 + t]; s6 += x * k[k6 + t]; s7 += x * k[k7 + t];
    }
    scores[j] = s0 * scale; scores[j + 1] = s1 * scale; scores[j + 2] = s2 * scale; scores[j + 3] = s3 * scale;
    scores[j + 4] = s4 * scale; scores[j + 5] = s5 * scale; scores[j + 6] = s6 * scale; scores[j + 7] = s7 * scale;
  }
  for (; j + 4 <= n; j += 4) {
    const k0 = j * d + ho, k1 = k0 + d, k2 = k1 + d, k3 = k2 + d;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let t = 0; t < hd; t++) {
      const x = q[qo + t];
      s0 += x * k[k0 + t]; s1 += x * k[k1 + t]; s2 += x * k[k2 + t]; s3 += x * k[k3 + t];
    }
    scores[j] = s0 * scale; scores[j + 1] = s1 * scale; scores[j + 2] = s2 * scale; scores[j + 3] = s3 * scale;
  }
  for (; j < n; j++) {
    const ko = j * d + ho;
    let s = 0;
    for (let t = 0; t < hd; t++) s += q[qo + t] * k[ko + t];
    scores[j] = s * scale;
  }
}

/**
 * ctx[co + t] = Σⱼ p[j]·v[j·d + ho + t] for t < hd, summed over j < n in increasing j from +0 and rounded to
 * float32 after every addition (what `ctx[co + t] += p·v` did through the float32 array), eight columns at a time.
 */
function attentionContext(p: Float32Array, n: number, v: Float32Array, ho: number, d: number, hd: number, ctx: Float32Array, co: number): void {
  const fround = Math.fround;
  let t = 0;
  for (; t + 8 <= hd; t += 8) {
    let c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0;
    for (let j = 0, vo = ho + t; j < n; j++, vo += d) {
      const w = p[j];
      c0 = fround(c0 + w * v[vo]); c1 = fround(c1 + w * v[vo + 1]); c2 = fround(c2 + w * v[vo + 2]); c3 = fround(c3 + w * v[vo + 3]);
      c4 = fround(c4 + w * v[vo + 4]); c5 = fround(c5 + w * v[vo + 5]); c6 = fround(c6 + w * v[vo + 6]); c7 = fround(c7 + w * v[vo + 7]);
    }
    const o = co + t;
    ctx[o] = c0; ctx[o + 1] = c1; ctx[o + 2] = c2; ctx[o + 3] = c3; ctx[o + 4] = c4; ctx[o + 5] = c5; ctx[o + 6] = c6; ctx[o + 7] = c7;
  }
  for (; t < hd; t++) {
    let c = 0;
    for (let j = 0, vo = ho + t; j < n; j++, vo += d) c = fround(c + p[j] * v[vo]);
    ctx[co + t] = c;
  }
}
