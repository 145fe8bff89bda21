/** Indices of the k largest values, largest first; ties keep the lower index first (as torch.argmax does). */
export function topK(values: ArrayLike<number>, k: number, offset = 0, n = values.length - offset): number[] {
  const idx: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = values[offset + i];
    if (v !== v) continue; // NaN never ranks
    if (idx.length === k && !(v > val[k - 1])) continue;
    let p = idx.length;
    while (p > 0 && v > val[p - 1]) p--;
    idx.splice(p, 0, i);
    val.splice(p, 0, v);
    if (idx.length > k) {
      idx.pop();
      val.pop();
    }
  }
  return idx;
}
