/**
 * Marian's sinusoidal positions: for pair index j < d/2 the angle is pos / 10000^(2j/d);
 * sin of it fills dimension j (first half) and cos fills dimension d/2 + j (second half).
 */
export function sinusoidalPositions(positions: number, d: number, offset = 0): Float32Array {
  const out = new Float32Array(positions * d);
  const half = d % 2 === 0 ? d / 2 : (d + 1) / 2;
  for (let p = 0; p < positions; p++) {
    const pos = p + offset;
    for (let j = 0; j < half; j++) {
      const angle = pos / Math.pow(10000, (2 * j) / d);
      out[p * d + j] = Math.sin(angle);
      if (half + j < d) out[p * d + half + j] = Math.cos(angle);
    }
  }
  return out;
}
