/**
 * The matmul pool (src/model/kernels/parallel): products split over helper threads are bit-identical to the single-thread
 * kernel on every shape class, the loaders put every weight in shared memory (or the pool would silently stay on
 * one thread), whole explanations do not change with the thread count, and a dead helper costs speed, not results.
 * No timings here: the speed-up is measured by `npm run bench`.
 */
import { strict as assert } from 'node:assert';
import { after, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import { explain, loadModelFolder } from '../../../src/model';
import { loadMarianNetwork, readWeights } from '../../../src/model/loading/loadNetwork';
import { buildMarianWeights } from '../../../src/model/loading/weights';
import { matmulTransB } from '../../../src/model/kernels/matmul';
import { MatmulPool, isShared, sharedFloat32 } from '../../../src/model/kernels/parallel/matmulPool';
import { SplitBackOff } from '../../../src/model/kernels/parallel/splitBackOff';
import type { Linear, MarianWeights } from '../../../src/model/loading/weights';
import { ModelClient } from '../../../src/host/modelClient';
import { BUNDLED_MODEL, ROOT, TINY_MODEL } from '../../helpers/golden';
import { fillRandom } from '../../helpers/random';

const fill = fillRandom;

function sameBits(x: Float32Array, y: Float32Array): boolean {
  return x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
}

function allLinears(w: MarianWeights): Linear[] {
  const out: Linear[] = [];
  for (const l of [...w.encoder, ...w.decoder]) out.push(l.selfAttn.q, l.selfAttn.k, l.selfAttn.v, l.selfAttn.out, l.fc1, l.fc2);
  for (const l of w.decoder) out.push(l.encoderAttn.q, l.encoderAttn.k, l.encoderAttn.v, l.encoderAttn.out);
  return out;
}

const pools: MatmulPool[] = [];
after(async () => {
  await Promise.all(pools.map((p) => p.close()));
});
/** A pool whose helpers compute every chunk of every split product (the caller only waits and copies). */
function pool(threads: number, minWork = 1): MatmulPool {
  const p = new MatmulPool({ threads, minWork, callerClaims: false });
  pools.push(p);
  return p;
}

describe('matmul pool', () => {
  test('split products are bit-identical to the single-thread kernel (2 and 3 threads, every remainder class)', () => {
    for (const threads of [2, 3]) {
      const p = pool(threads);
      let cases = 0;
      for (const M of [1, 2, 3, 4, 5, 7]) {
        for (const N of [48, 49, 50, 73, 96, 200, 257]) {
          for (const K of [1, 5, 64, 129]) {
            for (const withBias of [false, true]) {
              const aOff = (M + N) % 3, oOff = (K % 2) * 5;
              const a = fill(new Float32Array(aOff + M * K + 1), M * 1000 + N);
              const b = fill(sharedFloat32(N * K), N * 7 + K);
              const bias = withBias ? fill(sharedFloat32(N), K) : undefined;
              const want = new Float32Array(oOff + M * N + 3).fill(9), got = want.slice();
              matmulTransB(a, M, K, b, N, want, bias, aOff, oOff);
              const before = p.splitCount, helped = p.helperChunks;
              p.matmul(a, M, K, b, N, got, bias, aOff, oOff);
              assert.equal(p.splitCount, before + 1, `M=${M} N=${N} K=${K} was not split`);
              assert.ok(p.helperChunks > helped, `M=${M} N=${N} K=${K}: no chunk came from a helper`);
              assert.ok(sameBits(got, want), `threads=${threads} M=${M} N=${N} K=${K} bias=${withBias}`);
              cases++;
            }
          }
        }
      }
      assert.equal(cases, 6 * 7 * 4 * 2);
    }
  });

  test('small products, narrow ones and weights outside shared memory stay on the calling thread, with the same result', () => {
    const p = new MatmulPool({ threads: 2 }); // default threshold
    pools.push(p);
    const check = (M: number, N: number, K: number, shared: boolean, expectSplit: boolean) => {
      const a = fill(new Float32Array(M * K), 3), b = fill(shared ? sharedFloat32(N * K) : new Float32Array(N * K), 4);
      const want = new Float32Array(M * N), got = new Float32Array(M * N);
      matmulTransB(a, M, K, b, N, want);
      const before = p.splitCount;
      p.matmul(a, M, K, b, N, got);
      assert.equal(p.splitCount - before, expectSplit ? 1 : 0, `M=${M} N=${N} K=${K} shared=${shared}`);
      assert.ok(sameBits(got, want));
    };
    check(1, 64, 64, true, false); // 4k multiply-adds: not worth a hand-over
    check(200, 40, 256, true, false); // too few columns to share
    check(1, 1024, 256, false, false); // a plain ArrayBuffer cannot be shared
    check(1, 1024, 256, true, true);
  });

  test('growing operands replace the shared scratch, and clear() lets the helpers drop old tensors', () => {
    const p = pool(2);
    const b = fill(sharedFloat32(300 * 512), 5);
    for (const M of [1, 4, 16, 64]) {
      const a = fill(new Float32Array(M * 512), M);
      const want = new Float32Array(M * 300), got = new Float32Array(M * 300);
      matmulTransB(a, M, 512, b, 300, want);
      p.matmul(a, M, 512, b, 300, got);
      assert.ok(sameBits(got, want), `M=${M}`);
      if (M === 4) p.clear();
    }
    assert.equal(p.splitCount, 4);
    assert.equal(p.helperChunks, 4 * 7, 'every chunk from the helpers (300 columns: 2 threads × 6 chunks → 48 wide → 7)');
  });

  test('a helper that dies is replaced by the calling thread: same numbers, no more splitting', async () => {
    const p = new MatmulPool({ threads: 2, minWork: 1 });
    pools.push(p);
    const a = fill(new Float32Array(3 * 256), 6), b = fill(sharedFloat32(512 * 256), 7);
    const want = new Float32Array(3 * 512);
    matmulTransB(a, 3, 256, b, 512, want);
    const got = new Float32Array(3 * 512);
    p.matmul(a, 3, 256, b, 512, got);
    assert.ok(sameBits(got, want));
    const helper = (p as unknown as { helpers: Array<{ worker: Worker }> }).helpers[0].worker;
    await helper.terminate();
    const again = new Float32Array(3 * 512);
    const splits = p.splitCount;
    p.matmul(a, 3, 256, b, 512, again);
    assert.ok(sameBits(again, want));
    assert.equal(p.splitCount, splits, 'a pool with a dead helper must not split');
  });
});

describe('weights live in shared memory', () => {
  test('every tensor of the bundled model (safetensors, float32)', () => {
    const { model } = loadMarianNetwork(BUNDLED_MODEL);
    const w = model.weights;
    for (const t of [w.embeddings, w.lmHead, w.finalLogitsBias, ...allLinears(w).flatMap((l) => [l.weight, l.bias])]) assert.ok(isShared(t));
  });

  test('pytorch_model.bin tensors, widened float16 tensors and a missing final_logits_bias too', () => {
    const shared = (w: MarianWeights) => [w.embeddings, w.lmHead, w.finalLogitsBias, ...allLinears(w).flatMap((l) => [l.weight, l.bias])].every(isShared);
    for (const fixture of ['tiny-random-swish-bin', 'tiny-random-swish-f16-bin']) {
      assert.ok(shared(loadMarianNetwork(path.join(ROOT, 'test', 'fixtures', 'byo', fixture)).model.weights), fixture);
    }
    const tiny = loadMarianNetwork(TINY_MODEL);
    const { file, tensors } = readWeights(TINY_MODEL);
    assert.ok(tensors.delete('final_logits_bias'));
    assert.ok(shared(buildMarianWeights(file, tensors, tiny.config)));
  });
});

describe('whole explanations do not depend on the thread count', () => {
  const lm = loadModelFolder(BUNDLED_MODEL, { name: 'bundled' });
  const text = 'The old man walks to the market every morning, and his dog follows him.';
  const strip = (e: object) => JSON.stringify({ ...e, timingsMs: undefined });
  const reference = { greedy: strip(explain(lm, text)), beam: strip(explain(lm, text, { numBeams: 4 })) };

  test('2 threads: greedy and beam-4 explanations equal the single-thread ones', () => {
    const product = new MatmulPool({ threads: 2, backOff: false }); // the caller claims chunks too, as in the product (no back-off: it counts splits)
    pools.push(product);
    try {
      const helpersOnly = pool(2, 1 << 15);
      for (const p of [product, helpersOnly]) {
        lm.model.useMatmulPool(p);
        assert.equal(strip(explain(lm, text)), reference.greedy);
        assert.equal(strip(explain(lm, text, { numBeams: 4 })), reference.beam);
        assert.ok(p.splitCount > 100, `only ${p.splitCount} products were split`);
      }
      // the product pool's caller may claim every chunk before a sleeping helper wakes (by design: a late helper never
      // holds it up), so the helpers' share is checked where they compute every chunk
      assert.ok(helpersOnly.helperChunks > 100, `only ${helpersOnly.helperChunks} chunks came from a helper`);
    } finally {
      lm.model.useMatmulPool(undefined);
    }
  });

  test('the inference worker honours params.threads with identical results', async () => {
    const workerFile = path.join(ROOT, 'src', 'worker', 'inferenceWorker.ts');
    const client = new ModelClient({
      createWorker: (init) => new Worker(`require('tsx/cjs'); require(${JSON.stringify(workerFile)});`, { eval: true, workerData: init }),
    });
    try {
      const ref = { dir: BUNDLED_MODEL, name: 'bundled' };
      const one = await client.explain(ref, text, { threads: 1 });
      const two = await client.explain(ref, text, { threads: 2 });
      assert.equal(strip(two.explanation), strip(one.explanation));
      assert.equal(strip(one.explanation), reference.greedy);
    } finally {
      client.dispose();
    }
  });
});

describe('the pool backs off when splitting stops paying (a busy machine)', () => {
  // driven with made-up times: the policy is plain arithmetic on what the pool reports
  const windowOf = (b: SplitBackOff, ownMs: number, waitedMs: number, now: number, n = 4) => {
    for (let i = 0; i < n; i++) b.record(ownMs, waitedMs, now);
  };

  test('a window whose waits reach the work done backs off; one long wait in a good window does not', () => {
    const b = new SplitBackOff({ window: 4, firstMs: 100, maxMs: 400 });
    b.record(0.1, 0, 0); b.record(0.1, 0, 0); b.record(0.1, 0.25, 0); b.record(0.1, 0, 0); // waited 0.25 < own 0.4
    assert.equal(b.count, 0);
    assert.ok(b.allows(0));
    windowOf(b, 0.1, 0.1, 1000); // waited = own: no gain from splitting
    assert.equal(b.count, 1);
    assert.ok(!b.allows(1099.9));
    assert.ok(b.allows(1100));
  });

  test('losing again right after a back-off doubles it up to the maximum; a window that pays resets it', () => {
    const b = new SplitBackOff({ window: 4, firstMs: 100, maxMs: 400 });
    const lengths: number[] = [];
    let now = 0;
    for (let i = 0; i < 4; i++) {
      windowOf(b, 0.1, 0.3, now);
      lengths.push(b.lastBackOffMs);
      now += b.lastBackOffMs;
      assert.ok(b.allows(now));
    }
    assert.deepEqual(lengths, [100, 200, 400, 400]);
    windowOf(b, 0.1, 0, now); // paid
    windowOf(b, 0.1, 0.3, now + 10);
    assert.equal(b.lastBackOffMs, 100);
    assert.equal(b.count, 5);
  });

  test('a pool whose helpers keep the caller waiting works alone, with the same results', () => {
    // real waits depend on the machine's load, so the pool's policy is fed a losing window directly
    const p = new MatmulPool({ threads: 2, minWork: 1, backOff: { window: 8, firstMs: 60_000 } });
    pools.push(p);
    const M = 1, N = 480, K = 64;
    const a = fill(new Float32Array(M * K), 5), b = fill(sharedFloat32(N * K), 6);
    const want = new Float32Array(M * N), got = new Float32Array(M * N);
    matmulTransB(a, M, K, b, N, want);
    for (let i = 0; i < 8; i++) (p as unknown as { backOff: SplitBackOff }).backOff.record(0.01, 1, performance.now());
    assert.equal(p.backOffs, 1);
    const splits = p.splitCount;
    for (let i = 0; i < 20; i++) {
      got.fill(0);
      p.matmul(a, M, K, b, N, got);
      assert.ok(sameBits(got, want));
    }
    assert.equal(p.splitCount, splits, 'a backed-off pool must not split');
  });
});
