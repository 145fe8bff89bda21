/**
 * The float32 kernels (precision float32, src/model/kernels/wasm/float32Kernels.ts) against an independent scalar
 * computation of the summation order they document: 4 partial sums by k mod 4 in float32, combined as
 * (l0 + l2) + (l1 + l3), then + bias. Bit for bit, on random shapes, column ranges, rows one at a time (the
 * key/value cache's one-row steps) and split over a pool; K that is not a multiple of 4 runs on the exact kernels
 * (bit-identical to the JavaScript product).
 */
import { strict as assert } from 'node:assert';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { matmulTransB } from '../../../../src/model/kernels/matmul';
import { MatmulPool } from '../../../../src/model/kernels/parallel/matmulPool';
import { WasmArena } from '../../../../src/model/kernels/wasm/memory';
import { WasmMatmul, wasmSimdSupported } from '../../../../src/model/kernels/wasm/wasmMatmul';
import { randomFloats } from '../../../helpers/random';

const f = Math.fround;

/** One output in the documented order, every operation rounded to float32 (Math.fround of the exact double). */
function float32Dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, K: number, bias: number): number {
  const p = [0, 0, 0, 0];
  for (let k = 0; k < K; k++) p[k % 4] = f(p[k % 4] + f(a[aOff + k] * b[bOff + k]));
  return f(f(f(p[0] + p[2]) + f(p[1] + p[3])) + bias);
}

function reference(a: Float32Array, M: number, K: number, b: Float32Array, N: number, bias?: Float32Array): Float32Array {
  const out = new Float32Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) out[i * N + j] = float32Dot(a, i * K, b, j * K, K, bias ? bias[j] : 0);
  return out;
}

function firstDifference(x: Float32Array, y: Float32Array): number {
  assert.equal(x.length, y.length);
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i;
  return -1;
}

const simd = wasmSimdSupported();

describe('float32 kernels', { skip: !simd && 'this runtime has no WebAssembly SIMD' }, () => {
  const arena = simd ? new WasmArena(4 << 20) : undefined;
  const kernel = arena ? new WasmMatmul(arena, { precision: 'float32' }) : undefined;
  const pool = simd ? new MatmulPool({ threads: 2, minWork: 1, callerClaims: false, backOff: false }) : undefined;
  after(() => pool?.close());

  test('match the documented float32 order bit for bit, whole products, column ranges and one row at a time', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 23 }), fc.integer({ min: 1, max: 40 }), fc.boolean(), fc.integer({ min: 1, max: 1e6 }),
      (M, N, k4, withBias, seed) => {
        const K = 4 * k4;
        const a = random(M * K, seed), b = arena!.float32(N * K), bias = withBias ? arena!.float32(N) : undefined;
        b.set(random(N * K, seed + 1));
        bias?.set(random(N, seed + 2));
        const want = reference(a, M, K, b, N, bias);
        const out = new Float32Array(M * N);
        kernel!.matmul(a, M, K, b, N, out, bias);
        assert.equal(firstDifference(out, want), -1, `M ${M} N ${N} K ${K}`);
        // one row at a time (as the decoder's cached steps) and a column range (as a pool thread) give the same bits
        const rows = new Float32Array(M * N);
        for (let i = 0; i < M; i++) kernel!.matmul(a, 1, K, b, N, rows, bias, i * K, i * N);
        assert.equal(firstDifference(rows, want), -1, 'row by row');
        const part = new Float32Array(M * N);
        const j0 = Math.floor(N / 3), j1 = N - Math.floor(N / 4);
        kernel!.columns(a, M, K, b, N, part, bias, 0, 0, j0, j1);
        for (let i = 0; i < M; i++) for (let j = j0; j < j1; j++) assert.ok(Object.is(part[i * N + j], want[i * N + j]), `column ${j}`);
      },
    ), { numRuns: 40, seed: 16 });
  });

  /** A [M, K] (ordinary memory) and B [N, K] (in the WebAssembly memory, as weights), the JavaScript product, and
   * the float32 kernel's. */
  function products(M: number, N: number, K: number, seed: number): { js: Float32Array; out: Float32Array } {
    const a = random(M * K, seed), b = arena!.float32(N * K), js = new Float32Array(M * N), out = new Float32Array(M * N);
    b.set(random(N * K, seed + 1));
    matmulTransB(a, M, K, b, N, js);
    kernel!.matmul(a, M, K, b, N, out);
    return { js, out };
  }

  test('differ from the exact double sums only in the last bits', () => {
    const { js: exact, out } = products(3, 40, 256, 7);
    let differ = 0;
    for (let i = 0; i < out.length; i++) {
      assert.ok(Math.abs(out[i] - exact[i]) <= 1e-5 * Math.max(1, Math.abs(exact[i])), `output ${i}: ${out[i]} vs ${exact[i]}`);
      if (out[i] !== exact[i]) differ++;
    }
    assert.ok(differ > 0, 'some outputs round differently: the float32 path really ran');
  });

  test('K not a multiple of 4 runs on the exact kernels (same bits as the JavaScript product)', () => {
    const { js, out } = products(2, 9, 18, 3);
    assert.equal(kernel!.usesFloat32(18), false);
    assert.equal(firstDifference(out, js), -1);
  });

  test('a product split over the pool gives the same bits as one thread', () => {
    const M = 4, N = 200, K = 64;
    const a = random(M * K, 11), b = arena!.float32(N * K), bias = arena!.float32(N), one = new Float32Array(M * N), two = new Float32Array(M * N);
    b.set(random(N * K, 12));
    bias.set(random(N, 13));
    kernel!.matmul(a, M, K, b, N, one, bias);
    const before = pool!.splitCount;
    pool!.matmulFor(kernel!)(a, M, K, b, N, two, bias);
    assert.equal(pool!.splitCount, before + 1, 'the pool split this product');
    assert.equal(firstDifference(two, one), -1);
    assert.equal(firstDifference(one, reference(a, M, K, b, N, bias)), -1);
  });
});

function random(n: number, seed: number): Float32Array {
  return randomFloats(n, seed);
}
