/**
 * Correctness of the speed work (no timings here: those are `npm run bench`): the K-specialised matmul kernels
 * give bit-identical results to the reference products (src/model/reference/matmul.ts: the textbook loop and the
 * previous 4×4 kernel) on every shape class (block remainders, offsets, no bias), and the decoder's reused buffers
 * and the cache-free decoding path give exactly the numbers of a fresh, cached decoding.
 */
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { loadMarianNetwork } from '../../../src/model/loading/loadNetwork';
import { kernelSource, matmulTransB } from '../../../src/model/kernels/matmul';
import { matmulNaive, matmulTransB4x4 } from '../../../src/model/reference/matmul';
import { BUNDLED_MODEL, TINY_MODEL, readJson } from '../../helpers/golden';
import { randomFloats } from '../../helpers/random';

const random = randomFloats;

function sameBits(x: Float32Array, y: Float32Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
  return true;
}

function check(M: number, N: number, K: number, seed: number, withBias: boolean, aOff: number, oOff: number): void {
  const a = random(aOff + M * K + 3, seed), b = random(N * K, seed + 1), bias = withBias ? random(N, seed + 2) : undefined;
  const fast = new Float32Array(oOff + M * N + 2).fill(7), old = fast.slice(), ref = fast.slice();
  matmulTransB(a, M, K, b, N, fast, bias, aOff, oOff);
  matmulTransB4x4(a, M, K, b, N, old, bias, aOff, oOff);
  matmulNaive(a, M, K, b, N, ref, bias, aOff, oOff);
  assert.ok(sameBits(fast, ref), `kernel ≠ reference for M=${M} N=${N} K=${K} bias=${withBias} aOff=${aOff} oOff=${oOff}`);
  assert.ok(sameBits(old, ref), `previous kernel ≠ reference for M=${M} N=${N} K=${K}`);
}

describe('matmulTransB kernels', () => {
  test('every row/column remainder of the 3×3, 2×4 and 1×8 blocks, with and without bias and offsets', () => {
    for (let M = 1; M <= 8; M++) {
      for (const N of [1, 2, 3, 4, 5, 7, 8, 9, 11, 16, 17]) {
        for (const K of [1, 2, 3, 8, 13]) check(M, N, K, M * 1000 + N * 10 + K, (M + N) % 2 === 0, (M * 7) % 5, (N * 3) % 4);
      }
    }
  });

  test('the model shapes (d 256/512, FFN 1024/2048, vocab 7,999 and 58,101 rows)', () => {
    check(1, 7999, 256, 1, true, 0, 0);
    check(4, 1024, 256, 2, true, 0, 0);
    check(20, 256, 1024, 3, true, 0, 0);
    check(1, 2048, 512, 4, true, 512, 0);
    check(2, 512, 2048, 5, false, 0, 512);
    check(1, 581, 512, 6, true, 0, 0); // a 58,101-row projection's last columns
  });

  test('random shapes (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 70 }), fc.integer(), fc.boolean(),
      fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }),
      (M, N, K, seed, withBias, aOff, oOff) => check(M, N, K, seed, withBias, aOff, oOff),
    ), { numRuns: 150 });
  });

  test('special values propagate as in the plain loop (NaN, ±Infinity, −0 inputs)', () => {
    const K = 5, N = 9, M = 4;
    const a = random(M * K, 11), b = random(N * K, 12);
    a[3] = NaN; a[7] = Infinity; b[10] = -Infinity; a[12] = -0; b[0] = -0;
    const fast = new Float32Array(M * N), ref = new Float32Array(M * N);
    matmulTransB(a, M, K, b, N, fast);
    matmulNaive(a, M, K, b, N, ref);
    assert.ok(sameBits(fast, ref));
  });

  test('operands too short for their shape are refused instead of read out of bounds', () => {
    assert.throws(() => matmulTransB(new Float32Array(5), 2, 3, new Float32Array(6), 2, new Float32Array(4)), RangeError);
    assert.throws(() => matmulTransB(new Float32Array(6), 2, 3, new Float32Array(5), 2, new Float32Array(4)), RangeError);
    assert.throws(() => matmulTransB(new Float32Array(6), 2, 3, new Float32Array(6), 2, new Float32Array(3)), RangeError);
  });

  test('the generated kernel source is self-contained (compiles with nothing in scope, as the helper threads compile it)', () => {
    const k = new Function(kernelSource(16))() as Record<string, (...args: unknown[]) => void>;
    assert.deepEqual(Object.keys(k).sort(), ['row1', 'rows2', 'rows3']);
    // and computes: one row against 8 columns, K = 16, as the reference does
    const a = random(16, 21), b = random(8 * 16, 22), bias = random(8, 23), out = new Float32Array(8), ref = new Float32Array(8);
    k.row1(a, 0, b, out, 0, bias, 0, 8);
    matmulNaive(a, 1, 16, b, 8, ref, bias);
    assert.ok(sameBits(out, ref));
    assert.throws(() => kernelSource(0), RangeError);
  });
});

describe('decoder buffers and the cache-free path', () => {
  const golden = readJson('test', 'fixtures', 'checkpoint', 'golden.json');

  for (const folder of [BUNDLED_MODEL, TINY_MODEL]) {
    test(`reused step buffers: beams 4 → 1 → 4 give the logits of fresh models (${folder.split('/').pop()})`, () => {
      const shared = loadMarianNetwork(folder).model;
      const cfg = shared.config, V = cfg.vocabSize;
      const src = golden.sentences[1].input_ids.filter((id: number) => id < V) as number[];
      const run = (model: typeof shared, B: number, steps: number[]) => {
        const mem = model.crossMemory(model.encode(src));
        const states = Array.from({ length: B }, () => model.newDecoderState(steps.length + 1));
        const logits = new Float32Array(B * V);
        const out: Float32Array[] = [];
        for (const t of steps) {
          model.decodeStep(Array.from({ length: B }, (_, b) => (t + 3 * b) % V), states, mem, logits);
          out.push(logits.slice());
        }
        return out;
      };
      const steps = [cfg.decoderStartTokenId, 5, 9, 2];
      const a1 = run(shared, 4, steps), b1 = run(shared, 1, steps), c1 = run(shared, 4, steps);
      const a2 = run(loadMarianNetwork(folder).model, 4, steps), b2 = run(loadMarianNetwork(folder).model, 1, steps);
      a1.forEach((x, i) => assert.ok(sameBits(x, a2[i]), `beam-4 step ${i}`));
      c1.forEach((x, i) => assert.ok(sameBits(x, a2[i]), `beam-4 again, step ${i}`));
      b1.forEach((x, i) => assert.ok(sameBits(x, b2[i]), `beam-1 step ${i}`));
      // row b of a batch equals that hypothesis decoded alone
      const alone = run(loadMarianNetwork(folder).model, 1, steps);
      a1.forEach((x, i) => assert.ok(sameBits(x.subarray(0, V), alone[i]), `row 0 of step ${i}`));
    });
  }

  test('decodePrefix (no key/value cache) gives exactly the cached logits, on every golden sentence', () => {
    const { model } = loadMarianNetwork(BUNDLED_MODEL);
    const V = model.config.vocabSize;
    for (const s of golden.sentences as Array<{ input_ids: number[]; decoder_input_ids: number[] }>) {
      const mem = model.crossMemory(model.encode(s.input_ids));
      const state = model.newDecoderState(s.decoder_input_ids.length);
      const cached = new Float32Array(V), full = new Float32Array(V);
      s.decoder_input_ids.forEach((id, t) => {
        model.decodeStep([id], [state], mem, cached);
        model.decodePrefix(s.decoder_input_ids.slice(0, t + 1), mem, full);
        assert.ok(sameBits(cached, full), `step ${t}`);
      });
    }
  });

  test('the key/value cache grows as a long translation does (past its first 64 positions, twice), logits unchanged', () => {
    const { model } = loadMarianNetwork(BUNDLED_MODEL);
    const V = model.config.vocabSize, s = golden.sentences[0] as { input_ids: number[]; decoder_input_ids: number[] };
    const ids = Array.from({ length: 200 }, (_, t) => s.decoder_input_ids[t % s.decoder_input_ids.length]);
    const mem = model.crossMemory(model.encode(s.input_ids));
    const state = model.newDecoderState(256), copy = model.newDecoderState(256);
    assert.equal(state.rows, 64, 'starts small');
    const cached = new Float32Array(V), full = new Float32Array(V), fromCopy = new Float32Array(V);
    ids.forEach((id, t) => {
      model.decodeStep([id], [state], mem, cached);
      if (t === 63 || t === 64 || t === 130 || t === ids.length - 1) {
        model.decodePrefix(ids.slice(0, t + 1), mem, full);
        assert.ok(sameBits(cached, full), `step ${t}`);
      }
    });
    assert.equal(state.rows, 256, 'grew 64 → 128 → 256');
    // a copy into a smaller cache (beam search) grows it first, and continues identically
    model.copyDecoderState(state, copy);
    model.decodeStep([ids[5]], [state], mem, cached);
    model.decodeStep([ids[5]], [copy], mem, fromCopy);
    assert.ok(sameBits(cached, fromCopy), 'continued from the copy');
  });
});
