/**
 * The two products inside attention, blocked for speed: the scores q·kᵀ of one query against n keys, and the
 * context Σⱼ pⱼ·vⱼ. Each result is the sum the plain loop computes, in the same order (see network/attention.ts for
 * the arithmetic); only how many sums run side by side changes.
 */

/** scores[j] = fround((Σₜ q[qo + t]·k[j·d + ho + t]) · scale) for j < n, eight keys (eight accumulators) at a time. */
export function attentionScores(q: Float32Array, qo: number, k: Float32Array, ho: number, d: number, hd: number, scale: number, scores: Float32Array, n: number): void {
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
export function attentionContext(p: Float32Array, n: number, v: Float32Array, ho: number, d: number, hd: number, ctx: Float32Array, co: number): void {
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
