/**
 * The matmul pool on the SIMD path: helper threads instantiate the same compiled kernels over the same WebAssembly
 * memory (the weights are not copied) and their columns are bit-identical to the single-thread JavaScript kernel;
 * a product whose weights are outside the memory still comes out right.
 */
import { strict as assert } from 'node:assert';
import { after, describe, test } from 'node:test';
import { matmulTransB } from '../../../../src/model/kernels/matmul';
import { MatmulPool } from '../../../../src/model/kernels/parallel/matmulPool';
import { WasmArena } from '../../../../src/model/kernels/wasm/memory';
import { WasmMatmul, wasmSimdSupported } from '../../../../src/model/kernels/wasm/wasmMatmul';
import { fillRandom } from '../../../helpers/random';

const fill = fillRandom;
const sameBits = (x: Float32Array, y: Float32Array) => x.length === y.length && x.every((v, i) => Object.is(v, y[i]));

const pools: MatmulPool[] = [];
after(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

describe('matmul pool with the SIMD kernels', { skip: !wasmSimdSupported() && 'this runtime has no WebAssembly SIMD' }, () => {
  test('helpers compute every chunk over the shared WebAssembly memory, bit-identical to the JavaScript kernel', () => {
    const arena = new WasmArena(1 << 20);
    const simd = new WasmMatmul(arena);
    const p = new MatmulPool({ threads: 3, minWork: 1, callerClaims: false, backOff: false });
    pools.push(p);
    const run = p.matmulFor(simd);
    assert.equal(p.matmulFor(simd), run, 'one product function per kernel');
    let cases = 0;
    for (const M of [1, 2, 3, 4, 7]) {
      for (const N of [48, 49, 73, 200, 257]) {
        for (const K of [1, 5, 64, 129]) {
          const b = fill(arena.float32(N * K), M + N + K), bias = (M + N) % 2 ? fill(arena.float32(N), K) : undefined;
          const a = fill(new Float32Array(M * K + 4), N * K);
          const want = new Float32Array(M * N + 3).fill(9), got = want.slice();
          matmulTransB(a, M, K, b, N, want, bias, 4, 3);
          run(a, M, K, b, N, got, bias, 4, 3);
          assert.ok(sameBits(got, want), `M=${M} N=${N} K=${K}`);
          cases++;
        }
      }
    }
    assert.ok(p.splitCount === cases && p.helperChunks > 0, `split ${p.splitCount} of ${cases}, helper chunks ${p.helperChunks}`);
    // weights outside the memory: the product runs on this thread, still exact
    const b = fill(new Float32Array(96 * 8), 3), a = fill(new Float32Array(2 * 8), 4);
    const want = new Float32Array(2 * 96), got = new Float32Array(2 * 96);
    matmulTransB(a, 2, 8, b, 96, want);
    run(a, 2, 8, b, 96, got);
    assert.ok(sameBits(got, want));
    assert.equal(p.usable, true);
  });
});
