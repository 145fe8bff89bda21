/**
 * The WebAssembly SIMD matrix product (src/model/kernels/wasm/) gives bit-identical results to the JavaScript kernel
 * (src/model/kernels/matmul.ts) and to the textbook double-precision loop, on random shapes including every block
 * remainder, K = 1 and odd K, offsets, no bias, special values, operands inside and outside the WebAssembly memory,
 * and column ranges (a pool thread's share). The float32 kernels have their own test (float32Kernels.test.ts).
 */
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { matmulTransB } from '../../../../src/model/kernels/matmul';
import { WasmArena, WasmMemoryTooSmall } from '../../../../src/model/kernels/wasm/memory';
import { WasmMatmul, wasmSimdSupported } from '../../../../src/model/kernels/wasm/wasmMatmul';
import { randomFloats } from '../../../helpers/random';

const random = randomFloats;

/** Σₖ in doubles in increasing k from +0, then + bias, rounded to float32 on store. */
function textbook(a: Float32Array, M: number, K: number, b: Float32Array, N: number, out: Float32Array, bias: Float32Array | undefined, aOff: number, oOff: number): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[aOff + i * K + k] * b[j * K + k];
      out[oOff + i * N + j] = s + (bias ? bias[j] : 0);
    }
  }
}

function firstDifference(x: Float32Array, y: Float32Array): number {
  assert.equal(x.length, y.length);
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i;
  return -1;
}

const simd = wasmSimdSupported();
const arena = simd ? new WasmArena(1 << 20) : undefined;
const kernel = arena ? new WasmMatmul(arena) : undefined;

/** One product three ways; `inMemory` says which operands live in the WebAssembly memory. */
function check(M: number, N: number, K: number, seed: number, opts: { bias: boolean; aOff: number; oOff: number; inMemory: { a: boolean; out: boolean; bias: boolean } }): void {
  const mem = opts.inMemory;
  const place = (x: Float32Array, inside: boolean) => {
    if (!inside) return x;
    const y = arena!.float32(x.length);
    y.set(x);
    return y;
  };
  const a = place(random(opts.aOff + M * K + 3, seed), mem.a);
  const b = place(random(N * K, seed + 1), true);
  const bias = opts.bias ? place(random(N, seed + 2), mem.bias) : undefined;
  const fill = new Float32Array(opts.oOff + M * N + 2).fill(7);
  const out = place(fill, mem.out), js = fill.slice(), ref = fill.slice();
  kernel!.matmul(a, M, K, b, N, out, bias, opts.aOff, opts.oOff);
  matmulTransB(a, M, K, b, N, js, bias, opts.aOff, opts.oOff);
  textbook(a, M, K, b, N, ref, bias, opts.aOff, opts.oOff);
  const where = `M=${M} N=${N} K=${K} ${JSON.stringify(opts)}`;
  assert.equal(firstDifference(Float32Array.from(out), js), -1, `simd ≠ js kernel for ${where}`);
  assert.equal(firstDifference(js, ref), -1, `js kernel ≠ textbook loop for ${where}`);
}

describe('WebAssembly SIMD matmul', { skip: !simd && 'this runtime has no WebAssembly SIMD' }, () => {
  test('every row remainder (blocks of 3, 2, 1) × every column remainder (4, 2 and 1 columns), odd and even K', () => {
    for (let M = 1; M <= 7; M++) {
      for (const N of [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 16, 17]) {
        for (const K of [1, 2, 3, 4, 7, 8, 13]) {
          const s = M * 1000 + N * 10 + K;
          check(M, N, K, s, { bias: s % 2 === 0, aOff: (M * 7) % 5, oOff: (N * 3) % 4, inMemory: { a: s % 3 === 0, out: s % 5 === 0, bias: s % 7 === 0 } });
        }
      }
    }
  });

  test('random shapes and placements (fast-check)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 1e6 }),
      fc.boolean(), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }), fc.boolean(), fc.boolean(), fc.boolean(),
      (M, N, K, seed, bias, aOff, oOff, a, out, b) => {
        check(M, N, K, seed, { bias, aOff, oOff, inMemory: { a, out, bias: b } });
      },
    ), { numRuns: 150 });
  });

  test('the model shapes (d 256/512, FFN 1024/2048, vocab 7,999 rows), several panels and row chunks', () => {
    for (const [M, N, K] of [[20, 256, 256], [20, 1024, 256], [20, 256, 1024], [1, 7999, 256], [4, 7999, 256], [3, 512, 512], [1, 2048, 512], [2, 512, 2048], [40, 37, 1024], [35, 70, 2048], [130, 9, 256]]) {
      check(M, N, K, M + N + K, { bias: true, aOff: 0, oOff: 0, inMemory: { a: false, out: false, bias: true } });
    }
  });

  test('special values: NaN, ±Infinity, −0 sums (+0 once the zero bias is added, as in JavaScript)', () => {
    const M = 3, N = 5, K = 9;
    const a = random(M * K, 5), bIn = random(N * K, 6);
    a[3] = NaN; a[7] = Infinity; bIn[10] = -Infinity; a[12] = -0; bIn[0] = -0;
    const b = arena!.float32(N * K);
    b.set(bIn);
    // a row of −0 against anything non-negative gives −0 sums: the kernel must still store +0
    a.fill(-0, 2 * K, 3 * K);
    for (let j = 0; j < N; j++) b.fill(Math.abs(b[j * K]), j * K, (j + 1) * K);
    const out = new Float32Array(M * N), js = new Float32Array(M * N);
    kernel!.matmul(a, M, K, b, N, out);
    matmulTransB(a, M, K, b, N, js);
    assert.equal(firstDifference(out, js), -1);
    assert.ok(Object.is(out[2 * N], 0), 'a −0 sum plus the zero bias is +0');
  });

  test('column ranges (one pool thread\'s share) write only their columns and match the whole product', () => {
    const M = 5, N = 37, K = 19;
    const a = random(M * K, 9), b = arena!.float32(N * K), bias = arena!.float32(N);
    b.set(random(N * K, 10));
    bias.set(random(N, 11));
    const whole = new Float32Array(M * N);
    matmulTransB(a, M, K, b, N, whole, bias);
    const pieces = new Float32Array(M * N).fill(NaN);
    for (const [j0, j1] of [[0, 24], [24, 30], [30, 31], [31, 37]]) kernel!.columns(a, M, K, b, N, pieces, bias, 0, 0, j0, j1);
    assert.equal(firstDifference(pieces, whole), -1);
    const one = new Float32Array(M * N).fill(NaN);
    kernel!.columns(a, M, K, b, N, one, bias, 0, 0, 3, 8);
    for (let i = 0; i < M * N; i++) assert.ok(i % N >= 3 && i % N < 8 ? Object.is(one[i], whole[i]) : Number.isNaN(one[i]));
  });

  test('weights outside the memory run the JavaScript kernel (same numbers); bad shapes throw as matmulTransB does', () => {
    const before = kernel!.jsCalls;
    const a = random(6, 1), b = random(6, 2), out = new Float32Array(4), js = new Float32Array(4);
    kernel!.matmul(a, 2, 3, b, 2, out);
    matmulTransB(a, 2, 3, b, 2, js);
    assert.equal(kernel!.jsCalls, before + 1);
    assert.equal(firstDifference(out, js), -1);
    const bm = arena!.float32(6);
    assert.throws(() => kernel!.matmul(new Float32Array(5), 2, 3, bm, 2, new Float32Array(4)), /operand too short/);
    assert.throws(() => kernel!.matmul(a, 2, 3, bm, 2, new Float32Array(3)), /operand too short/);
    assert.throws(() => kernel!.columns(a, 2, 3, bm, 2, out, undefined, 0, 0, 1, 3), /column range/);
  });
});

describe('WasmArena', { skip: !simd && 'this runtime has no WebAssembly SIMD' }, () => {
  test('hands out aligned, zeroed views of one shared memory, and knows which arrays are its own', () => {
    const ar = new WasmArena(1000);
    const x = ar.float32(3), y = ar.bytes(5, 3);
    assert.ok(ar.buffer instanceof SharedArrayBuffer);
    assert.equal(x.byteOffset % 16, 0);
    assert.equal((y.byteOffset - 3) % 8, 0);
    assert.deepEqual([...x], [0, 0, 0]);
    assert.equal(ar.addressOf(x), x.byteOffset);
    assert.equal(ar.addressOf(new Float32Array(3)), -1);
    assert.equal(ar.addressOf(new Float32Array(new SharedArrayBuffer(12))), -1);
  });

  test('grows past its first size (arrays made before the growth stay valid)', () => {
    const ar = new WasmArena(10);
    const first = ar.float32(4);
    first.set([1, 2, 3, 4]);
    const big = ar.float32(300_000); // beyond the first pages
    big[big.length - 1] = 5;
    assert.ok(ar.addressOf(big) > 0 && ar.addressOf(first) > 0);
    assert.deepEqual([...first], [1, 2, 3, 4]);
    assert.equal(new Float32Array(ar.buffer, big.byteOffset, big.length)[big.length - 1], 5);
  });

  test('a model larger than WebAssembly memory is refused with a clear note', () => {
    assert.throws(() => new WasmArena(5 * 2 ** 30), (e: unknown) => e instanceof WasmMemoryTooSmall && /exceed WebAssembly's 4 GiB memory/.test((e as Error).message));
    const small = new WasmArena(10, 2);
    assert.throws(() => small.alloc(3 * 65536), (e: unknown) => e instanceof WasmMemoryTooSmall && /cannot grow the WebAssembly memory/.test((e as Error).message));
  });
});
