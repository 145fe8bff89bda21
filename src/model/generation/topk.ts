/** Indices of the k largest values, largest first; ties keep the lower index first (as torch.argmax does). */
export function topK(values: ArrayLike<number>, k: number, offset = 0, n = values.length - offset): number[] {
  const idx: number[] = [];
  const val: number[] = [];
  // at most ⌊k⌋ kept (k ≤ 0: none); a NaN k never fills, so everything is kept, sorted
  const cap = k !== k ? Infinity : Math.floor(k);
  if (!(cap > 0)) return idx;
  let i = 0;
  // filling: every value but NaN goes in, after the values it does not exceed
  for (; i < n && idx.length < cap; i++) {
    const v = values[offset + i];
    if (v !== v) continue; // NaN never ranks
    let p = idx.length;
    while (p > 0 && v > val[p - 1]) p--;
    idx.splice(p, 0, i);
    val.splice(p, 0, v);
  }
  if (i >= n) return idx;
  // full: only a value above the last kept one (never NaN) gets in, and the last drops out
  const last = cap - 1;
  let bar = val[last];
  for (; i < n; i++) {
    const v = values[offset + i];
    if (!(v > bar)) continue;
    let p = last;
    while (p > 0 && v > val[p - 1]) p--;
    for (let r = last; r > p; r--) {
      idx[r] = idx[r - 1];
      val[r] = val[r - 1];
    }
    idx[p] = i;
    val[p] = v;
    bar = val[last];
  }
  return idx;
}
