/**
 * The interleaved SIMD kernels (src/model/kernels/wasm/matmulModule.ts): once a weight matrix has its interleaved
 * float32 copy, every product with it reads the copy, and the results stay bit-identical to the JavaScript kernel
 * (src/model/kernels/matmul.ts) — on every row count (1, 2, groups of 4 and the 1–3 left), every column remainder of
 * the 8-column blocks, odd K and K = 1, several panels and row chunks, column ranges, special values, pool helpers.
 * The copy is made by a product of at most COPY_MAX_ROWS rows, only for arrays below `weightsEnd` and within the
 * budget; otherwise B is read where it lies.
 */
import { strict as assert } from 'node:assert';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { matmulTransB } from '../../../../src/model/kernels/matmul';
import { MatmulPool } from '../../../../src/model/kernels/parallel/matmulPool';
import { WasmArena } from '../../../../src/model/kernels/wasm/memory';
import { COPY_MAX_ROWS, WasmMatmul, wasmSimdSupported } from '../../../../src/model/kernels/wasm/wasmMatmul';
import { fillRandom, randomFloats } from '../../../helpers/random';

const simd = wasmSimdSupported();

function firstDifference(x: Float32Array, y: Float32Array): number {
  assert.equal(x.length, y.length);
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i;
  return -1;
}

/** An arena holding weights B [N, K] (and a bias), then a kernel made after them: B gets an interleaved copy. */
function withWeights(N: number, K: number, seed: number, opts: { interleavedBudget?: number } = {}) {
  const arena = new WasmArena(8 * N * K + 4096);
  const b = fillRandom(arena.float32(N * K), seed), bias = fillRandom(arena.float32(N), seed + 1);
  const kernel = new WasmMatmul(arena, opts);
  return { arena, b, bias, kernel };
}

/** The copy's address (0: none), without making one. */
const copyOf = (kernel: WasmMatmul, b: Float32Array, N: number, K: number) => kernel.interleavedAt(b.byteOffset, N, K, Infinity);

/**
 * kernel.matmul against matmulTransB, bit for bit, after a one-row product made B's copy (so M > COPY_MAX_ROWS
 * reads it too); returns the interleaved copy's address (0: none).
 */
function check(M: number, N: number, K: number, seed: number, opts: { bias?: boolean; aOff?: number; oOff?: number } = {}): number {
  const { b, bias, kernel } = withWeights(N, K, seed);
  kernel.matmul(new Float32Array(K), 1, K, b, N, new Float32Array(N));
  const aOff = opts.aOff ?? 0, oOff = opts.oOff ?? 0, withBias = opts.bias ?? true;
  const a = randomFloats(aOff + M * K + 2, seed + 2);
  const out = new Float32Array(oOff + M * N + 3).fill(7), js = out.slice();
  kernel.matmul(a, M, K, b, N, out, withBias ? bias : undefined, aOff, oOff);
  matmulTransB(a, M, K, b, N, js, withBias ? bias : undefined, aOff, oOff);
  assert.equal(firstDifference(out, js), -1, `interleaved ≠ js kernel for M=${M} N=${N} K=${K} seed ${seed}`);
  return copyOf(kernel, b, N, K);
}

const pools: MatmulPool[] = [];
after(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

describe('interleaved SIMD kernels', { skip: !simd && 'this runtime has no WebAssembly SIMD' }, () => {
  test('every row count and remainder × every column remainder of the 8-column blocks, odd and even K', () => {
    for (let M = 1; M <= 9; M++) {
      for (const N of [1, 7, 8, 9, 15, 16, 17, 25, 33]) {
        for (const K of [1, 2, 3, 5, 8, 13]) {
          const s = M * 1000 + N * 10 + K;
          const il = check(M, N, K, s, { bias: s % 2 === 0, aOff: s % 3, oOff: s % 4 });
          assert.equal(il > 0, N >= 8, `a copy exactly when there is a whole block (N=${N})`);
        }
      }
    }
  });

  test('random shapes (fast-check)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 14 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 1e6 }), fc.boolean(),
      (M, N, K, seed, bias) => { check(M, N, K, seed, { bias }); },
    ), { numRuns: 120 });
  });

  test('the model shapes: decoder steps, beams, the encoder, several panels and row chunks', () => {
    for (const [M, N, K] of [[1, 256, 256], [1, 1024, 256], [1, 256, 1024], [1, 7999, 256], [2, 7999, 256], [4, 7999, 256], [20, 256, 256], [20, 1024, 256], [40, 520, 256], [70, 24, 1024], [5, 2048, 512]]) {
      assert.ok(check(M, N, K, M + N + K) > 0);
    }
  });

  test('special values: NaN, ±Infinity, −0 sums (+0 once the zero bias is added)', () => {
    const M = 5, N = 16, K = 9;
    const arena = new WasmArena(1 << 16);
    const b = fillRandom(arena.float32(N * K), 6);
    b[10] = -Infinity; b[0] = -0;
    for (let j = 8; j < N; j++) b.fill(Math.abs(b[j * K + 1]), j * K, (j + 1) * K); // columns 8–15 non-negative
    const kernel = new WasmMatmul(arena);
    const a = randomFloats(M * K, 5);
    a[3] = NaN; a[K + 7] = Infinity; a[2 * K + 1] = -0;
    a.fill(-0, 4 * K, 5 * K); // row 4: −0 · (non-negative) sums to −0
    const out = new Float32Array(M * N), js = new Float32Array(M * N);
    kernel.matmul(a, M, K, b, N, out);
    matmulTransB(a, M, K, b, N, js);
    assert.ok(copyOf(kernel, b, N, K) > 0);
    assert.equal(firstDifference(out, js), -1);
    assert.ok(Object.is(out[4 * N + 9], 0), 'a −0 sum plus the zero bias is +0');
  });

  test('column ranges (one pool thread\'s share), aligned to the blocks or not, match the whole product', () => {
    const M = 5, N = 61, K = 19;
    const { b, bias, kernel } = withWeights(N, K, 9);
    const a = randomFloats(M * K, 10);
    const whole = new Float32Array(M * N);
    matmulTransB(a, M, K, b, N, whole, bias);
    for (const cuts of [[0, 24, 48, 61], [0, 3, 16, 21, 40, 61], [0, 61]]) {
      const pieces = new Float32Array(M * N).fill(NaN);
      for (let c = 0; c + 1 < cuts.length; c++) kernel.columns(a, M, K, b, N, pieces, bias, 0, 0, cuts[c], cuts[c + 1]);
      assert.equal(firstDifference(pieces, whole), -1, `cuts ${cuts}`);
    }
    const one = new Float32Array(M * N).fill(NaN);
    kernel.columns(a, 1, K, b, N, one, bias, 0, 0, 8, 24);
    for (let i = 0; i < N; i++) assert.ok(i >= 8 && i < 24 ? Object.is(one[i], whole[i]) : Number.isNaN(one[i]));
  });

  test('copies only of weights (below weightsEnd), within the budget, one per matrix and shape', () => {
    const K = 16;
    const arena = new WasmArena(1 << 16);
    const w1 = fillRandom(arena.float32(32 * K), 1), w2 = fillRandom(arena.float32(32 * K), 2), w3 = fillRandom(arena.float32(16 * K), 3);
    const kernel = new WasmMatmul(arena, { interleavedBudget: 4 * 32 * K + 4 * 16 * K }); // w1 and w3, not w2 too
    const later = fillRandom(arena.float32(32 * K), 4); // above weightsEnd: an activation, may change, never copied
    const a = randomFloats(3 * K, 5);
    for (const [w, N, copied] of [[w1, 32, true], [w2, 32, false], [w3, 16, true], [later, 32, false]] as const) {
      const out = new Float32Array(3 * N), js = new Float32Array(3 * N);
      kernel.matmul(a, 3, K, w, N, out);
      matmulTransB(a, 3, K, w, N, js);
      assert.equal(firstDifference(out, js), -1);
      assert.equal(copyOf(kernel, w, N, K) > 0, copied, `N=${N} at ${w.byteOffset}`);
    }
    assert.equal(kernel.interleavedBudget, 0, 'w1 and w3 took the whole budget');
    assert.equal(kernel.interleavedAt(w1.byteOffset, 16, 2 * K, 1), 0, 'the same address with another shape has no copy');
    // the activation changes: still exact (it is read where it lies)
    fillRandom(later, 6);
    const out = new Float32Array(3 * 32), js = new Float32Array(3 * 32);
    kernel.matmul(a, 3, K, later, 32, out);
    matmulTransB(a, 3, K, later, 32, js);
    assert.equal(firstDifference(out, js), -1);
  });

  test('a product of more than COPY_MAX_ROWS rows makes no copy (exact all the same); a short one does, the long one then reads it', () => {
    const M = COPY_MAX_ROWS + 1, N = 24, K = 10;
    const { b, bias, kernel } = withWeights(N, K, 77);
    const a = randomFloats(M * K, 78);
    const out = new Float32Array(M * N), js = new Float32Array(M * N);
    matmulTransB(a, M, K, b, N, js, bias);
    kernel.matmul(a, M, K, b, N, out, bias);
    assert.equal(firstDifference(out, js), -1);
    assert.equal(copyOf(kernel, b, N, K), 0);
    kernel.matmul(a, COPY_MAX_ROWS, K, b, N, out, bias);
    assert.ok(copyOf(kernel, b, N, K) > 0);
    out.fill(NaN);
    kernel.matmul(a, M, K, b, N, out, bias);
    assert.equal(firstDifference(out, js), -1);
  });

  test('a memory that cannot grow stops the copies; products stay exact', () => {
    const K = 256, N = 256;
    const arena = new WasmArena(10, 8); // at most 8 pages (512 KB)
    const b = fillRandom(arena.float32(N * K), 1); // 256 KB: no room left for its 256 KB copy, enough for scratch
    const kernel = new WasmMatmul(arena);
    const a = randomFloats(K, 3), out = new Float32Array(N), js = new Float32Array(N);
    kernel.matmul(a, 1, K, b, N, out);
    matmulTransB(a, 1, K, b, N, js);
    assert.equal(firstDifference(out, js), -1);
    assert.equal(copyOf(kernel, b, N, K), 0);
    assert.equal(kernel.interleavedBudget, 0);
  });

  test('pool helpers read the same interleaved copy: bit-identical to the JavaScript kernel', () => {
    const p = new MatmulPool({ threads: 3, minWork: 1, callerClaims: false, backOff: false });
    pools.push(p);
    let cases = 0;
    for (const M of [1, 2, 3, 5]) {
      for (const N of [48, 73, 200]) {
        for (const K of [1, 7, 64]) {
          const { b, bias, kernel } = withWeights(N, K, M + N + K);
          const run = p.matmulFor(kernel);
          const a = fillRandom(new Float32Array(M * K + 4), N * K);
          const want = new Float32Array(M * N + 3).fill(9), got = want.slice();
          matmulTransB(a, M, K, b, N, want, bias, 4, 3);
          run(a, M, K, b, N, got, bias, 4, 3);
          assert.equal(firstDifference(got, want), -1, `M=${M} N=${N} K=${K}`);
          assert.ok(copyOf(kernel, b, N, K) > 0);
          cases++;
        }
      }
    }
    assert.ok(p.splitCount === cases && p.helperChunks > 0, `split ${p.splitCount} of ${cases}, helper chunks ${p.helperChunks}`);
  });
});
