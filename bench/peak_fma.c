/*
 * The CPU's arithmetic ceiling, for the benchmark table (built by bench/bench.ts with gcc -O3 -march=native
 * into bench/.cache/). Two figures, one core each, best of several timed runs:
 *   fma_f32   — packed single-precision fused multiply-adds (AVX2 FMA: 8 lanes × 2 flops, 12 independent
 *               chains to cover latency × ports): the peak a native SIMD kernel could reach;
 *   scalar_f64 — scalar double multiply then add (no FMA, no SIMD), 12 independent chains: the shape of the
 *               code V8 emits for the TypeScript kernels, so the ceiling a JavaScript kernel is bound by
 *               before its loads, bounds checks and address arithmetic are counted.
 * Prints one JSON line.
 */
#include <stdio.h>
#include <time.h>
#if defined(__AVX__) && defined(__FMA__)
#include <immintrin.h>
#endif

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static volatile float sink_f;
static volatile double sink_d;

#if defined(__AVX__) && defined(__FMA__)
static double fma_f32(long iters) {
  __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  __m256 a0 = _mm256_set1_ps(1.0f), a1 = _mm256_set1_ps(1.1f), a2 = _mm256_set1_ps(1.2f), a3 = _mm256_set1_ps(1.3f);
  __m256 a4 = _mm256_set1_ps(1.4f), a5 = _mm256_set1_ps(1.5f), a6 = _mm256_set1_ps(1.6f), a7 = _mm256_set1_ps(1.7f);
  __m256 a8 = _mm256_set1_ps(1.8f), a9 = _mm256_set1_ps(1.9f), a10 = _mm256_set1_ps(2.0f), a11 = _mm256_set1_ps(2.1f);
  double t = now();
  for (long i = 0; i < iters; i++) {
    a0 = _mm256_fmadd_ps(a0, b, c); a1 = _mm256_fmadd_ps(a1, b, c); a2 = _mm256_fmadd_ps(a2, b, c);
    a3 = _mm256_fmadd_ps(a3, b, c); a4 = _mm256_fmadd_ps(a4, b, c); a5 = _mm256_fmadd_ps(a5, b, c);
    a6 = _mm256_fmadd_ps(a6, b, c); a7 = _mm256_fmadd_ps(a7, b, c); a8 = _mm256_fmadd_ps(a8, b, c);
    a9 = _mm256_fmadd_ps(a9, b, c); a10 = _mm256_fmadd_ps(a10, b, c); a11 = _mm256_fmadd_ps(a11, b, c);
  }
  t = now() - t;
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)), _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
  s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
  float out[8];
  _mm256_storeu_ps(out, s);
  sink_f = out[0] + out[7];
  return (double)iters * 12 * 8 * 2 / t / 1e9;
}
#endif

__attribute__((optimize("no-tree-vectorize", "fp-contract=off")))
static double scalar_f64(long iters) {
  double b = 0.999999, c = 1e-7;
  double a0 = 1.0, a1 = 1.1, a2 = 1.2, a3 = 1.3, a4 = 1.4, a5 = 1.5, a6 = 1.6, a7 = 1.7, a8 = 1.8, a9 = 1.9, a10 = 2.0, a11 = 2.1;
  double t = now();
  for (long i = 0; i < iters; i++) {
    a0 = a0 * b + c; a1 = a1 * b + c; a2 = a2 * b + c; a3 = a3 * b + c; a4 = a4 * b + c; a5 = a5 * b + c;
    a6 = a6 * b + c; a7 = a7 * b + c; a8 = a8 * b + c; a9 = a9 * b + c; a10 = a10 * b + c; a11 = a11 * b + c;
    __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5));
  }
  t = now() - t;
  sink_d = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
  return (double)iters * 12 * 2 / t / 1e9;
}

int main(void) {
  double best_fma = 0, best_scalar = 0;
  for (int r = 0; r < 5; r++) {
#if defined(__AVX__) && defined(__FMA__)
    double f = fma_f32(20000000L);
    if (f > best_fma) best_fma = f;
#endif
    double s = scalar_f64(20000000L);
    if (s > best_scalar) best_scalar = s;
  }
#if defined(__AVX__) && defined(__FMA__)
  printf("{\"fma_f32_gflops\": %.2f, \"scalar_f64_gflops\": %.2f, \"simd\": \"avx2-fma\"}\n", best_fma, best_scalar);
#else
  printf("{\"fma_f32_gflops\": null, \"scalar_f64_gflops\": %.2f, \"simd\": \"none (no AVX+FMA at -march=native)\"}\n", best_scalar);
#endif
  return 0;
}
