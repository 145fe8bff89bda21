/** Reproducible test data: a linear congruential generator, so a failing case can be rerun from its seed. */

/** Fills `x` with values in [-1, 1) from `seed` (0 counts as 1). */
export function fillRandom(x: Float32Array, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = (s / 2 ** 32) * 2 - 1;
  }
  return x;
}

/** `n` values in [-1, 1) from `seed`. */
export const randomFloats = (n: number, seed: number): Float32Array => fillRandom(new Float32Array(n), seed);
