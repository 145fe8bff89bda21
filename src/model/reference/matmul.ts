/**
 * Reference matrix products: C[M,N] = A[M,K] · B[N,K]ᵀ (+ bias[N]), the one product the transformer needs
 * (PyTorch stores a Linear weight as [out, in] rows).
 *
 * Both sum Σₖ A[i,k]·B[j,k] in doubles in increasing k from +0, add bias[j], and round to float32 on store: the
 * arithmetic of kernels/matmul.ts, which must match them bit for bit. They are the oracle of the kernel tests and the
 * benchmark's baselines; the engine itself never calls them.
 */

/** The textbook triple loop. */
export function matmulNaive(
  a: Float32Array, M: number, K: number,
  b: Float32Array, N: number,
  out: Float32Array,
  bias?: Float32Array,
  aOffset = 0, outOffset = 0,
): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[aOffset + i * K + k] * b[j * K + k];
      out[outOffset + i * N + j] = s + (bias ? bias[j] : 0);
    }
  }
}

/**
 * The engine's kernel before the K-specialised ones: register-blocked 4×4 (16 accumulators, 8 loads per 16
 * multiply-adds), each sum still in increasing k. The benchmark shows what the generated kernels gain over it.
 */
export function matmulTransB4x4(
  a: Float32Array, M: number, K: number,
  b: Float32Array, N: number,
  out: Float32Array,
  bias?: Float32Array,
  aOffset = 0, outOffset = 0,
): void {
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const a0 = aOffset + i * K, a1 = a0 + K, a2 = a1 + K, a3 = a2 + K;
    const o0 = outOffset + i * N, o1 = o0 + N, o2 = o1 + N, o3 = o2 + N;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const b0 = j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let k = 0; k < K; k++) {
        const x0 = a[a0 + k], x1 = a[a1 + k], x2 = a[a2 + k], x3 = a[a3 + k];
        const w0 = b[b0 + k], w1 = b[b1 + k], w2 = b[b2 + k], w3 = b[b3 + k];
        s00 += x0 * w0; s01 += x0 * w1; s02 += x0 * w2; s03 += x0 * w3;
        s10 += x1 * w0; s11 += x1 * w1; s12 += x1 * w2; s13 += x1 * w3;
        s20 += x2 * w0; s21 += x2 * w1; s22 += x2 * w2; s23 += x2 * w3;
        s30 += x3 * w0; s31 += x3 * w1; s32 += x3 * w2; s33 += x3 * w3;
      }
      const c0 = bias ? bias[j] : 0, c1 = bias ? bias[j + 1] : 0, c2 = bias ? bias[j + 2] : 0, c3 = bias ? bias[j + 3] : 0;
      out[o0 + j] = s00 + c0; out[o0 + j + 1] = s01 + c1; out[o0 + j + 2] = s02 + c2; out[o0 + j + 3] = s03 + c3;
      out[o1 + j] = s10 + c0; out[o1 + j + 1] = s11 + c1; out[o1 + j + 2] = s12 + c2; out[o1 + j + 3] = s13 + c3;
      out[o2 + j] = s20 + c0; out[o2 + j + 1] = s21 + c1; out[o2 + j + 2] = s22 + c2; out[o2 + j + 3] = s23 + c3;
      out[o3 + j] = s30 + c0; out[o3 + j + 1] = s31 + c1; out[o3 + j + 2] = s32 + c2; out[o3 + j + 3] = s33 + c3;
    }
    for (; j < N; j++) {
      for (let r = 0; r < 4; r++) out[outOffset + (i + r) * N + j] = dot(a, aOffset + (i + r) * K, b, j * K, K) + (bias ? bias[j] : 0);
    }
  }
  for (; i < M; i++) matVecRow(a, aOffset + i * K, K, b, N, out, outOffset + i * N, bias);
}

/** One row of A against all rows of B, four output columns at a time. */
function matVecRow(a: Float32Array, aOff: number, K: number, b: Float32Array, N: number, out: Float32Array, oOff: number, bias?: Float32Array): void {
  let j = 0;
  for (; j + 4 <= N; j += 4) {
    const b0 = j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let k = 0; k < K; k++) {
      const x = a[aOff + k];
      s0 += x * b[b0 + k]; s1 += x * b[b1 + k]; s2 += x * b[b2 + k]; s3 += x * b[b3 + k];
    }
    out[oOff + j] = s0 + (bias ? bias[j] : 0);
    out[oOff + j + 1] = s1 + (bias ? bias[j + 1] : 0);
    out[oOff + j + 2] = s2 + (bias ? bias[j + 2] : 0);
    out[oOff + j + 3] = s3 + (bias ? bias[j + 3] : 0);
  }
  for (; j < N; j++) out[oOff + j] = dot(a, aOff, b, j * K, K) + (bias ? bias[j] : 0);
}

function dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += a[aOff + k] * b[bOff + k];
  return s;
}
