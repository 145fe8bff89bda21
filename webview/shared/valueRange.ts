/** Colour ranges of the values a heatmap shows. */

/** Smallest and largest finite values (0…1 when there are none, and a non-empty span always). */
export function valueRange(values: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === Infinity) return { min: 0, max: 1 };
  if (max === min) return min === 0 ? { min: 0, max: 1 } : { min: Math.min(0, min), max: Math.max(0, max) };
  return { min, max };
}

/** Colour range for attention weights: from 0 to the largest weight shown. */
export function attentionRange(values: ArrayLike<number>): { min: number; max: number } {
  const r = valueRange(values);
  return { min: 0, max: r.max > 0 ? r.max : 1 };
}
