/**
 * network/attention.ts's `attention` on cases small enough to work by hand (two tokens, the causal mask, the
 * padding mask), then against a plain-loops computation of the documented arithmetic on random shapes (the
 * blocked kernels in kernels/attention.ts must not change a bit).
 */
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { attention, type AttentionOptions, type AttentionShape } from '../../../src/model/network/attention';

/** Runs attention on plain number rows; returns the context rows and the weights [heads, queries, keys]. */
function run(q: number[][], k: number[][], v: number[][], heads: number, opts: Omit<AttentionOptions, 'probs' | 'row'> = {}) {
  const d = q[0].length;
  const shape: AttentionShape = { queries: q.length, keys: k.length, dModel: d, heads };
  const ctx = new Float32Array(q.length * d), probs = new Float32Array(heads * q.length * k.length);
  attention(Float32Array.from(q.flat()), Float32Array.from(k.flat()), Float32Array.from(v.flat()), ctx, new Float32Array(k.length), shape, { ...opts, probs });
  return { ctx: Array.from({ length: q.length }, (_, i) => Array.from(ctx.subarray(i * d, (i + 1) * d))), probs: Array.from(probs) };
}

function near(actual: number[], expected: number[], what: string, tol = 1e-6): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= tol, `${what}[${i}]: ${a} ≠ ${expected[i]}`));
}

// Two tokens, one head of width dₕ = 2, so the scale is 1/√2.
//   keys    k0 = [1, 0]   k1 = [0, 1]
//   values  v0 = [1, 2]   v1 = [3, 4]
//   query 0 q0 = [1, 1]: q0·k0 = 1, q0·k1 = 1 → scores [1/√2, 1/√2] → softmax [½, ½] → context ½v0 + ½v1 = [2, 3]
//   query 1 q1 = [2, 0]: q1·k0 = 2, q1·k1 = 0 → scores [√2, 0] → softmax [e^√2, 1]/(e^√2 + 1);
//     e^√2 = 4.1132504 so p = [4.1132504/5.1132504, 1/5.1132504] = [0.8044297, 0.1955703]
//     context 0.8044297·[1, 2] + 0.1955703·[3, 4] = [1 + 2·0.1955703, 2 + 2·0.1955703] = [1.3911406, 2.3911406]
const Q = [[1, 1], [2, 0]], K = [[1, 0], [0, 1]], V = [[1, 2], [3, 4]];
const P1 = [0.8044297, 0.1955703];

describe('attention, worked by hand', () => {
  test('two tokens, one head: scaled scores, softmax, weighted sum of the values', () => {
    const { ctx, probs } = run(Q, K, V, 1);
    near(probs, [0.5, 0.5, ...P1], 'weights [heads, queries, keys]');
    near(ctx[0], [2, 3], 'context of query 0');
    near(ctx[1], [1.3911406, 2.3911406], 'context of query 1');
  });

  test('causal mask: query 0 sees only key 0, query 1 sees both', () => {
    const { ctx, probs } = run(Q, K, V, 1, { causal: true });
    // query 0: one visible key gets weight 1, so its context is v0; the hidden key gets 0
    near(probs, [1, 0, ...P1], 'weights');
    near(ctx[0], [1, 2], 'context of query 0');
    near(ctx[1], [1.3911406, 2.3911406], 'context of query 1 (unchanged: both keys are at or before it)');
  });

  test('causal mask with fewer queries than keys (a cached decoder step): the query is the last position and sees every key', () => {
    const { ctx, probs } = run([Q[1]], K, V, 1, { causal: true });
    near(probs, P1, 'weights');
    near(ctx[0], [1.3911406, 2.3911406], 'context');
  });

  test('padding mask: a key whose mask entry is 0 gets no weight', () => {
    const { ctx, probs } = run(Q, K, V, 1, { keyMask: [1, 0] });
    // only k0 is left, so both queries put weight 1 on it and read v0
    near(probs, [1, 0, 1, 0], 'weights');
    near(ctx[0], [1, 2], 'context of query 0');
    near(ctx[1], [1, 2], 'context of query 1');
    // masking the other key instead leaves only v1
    const other = run(Q, K, V, 1, { keyMask: [0, 1] });
    near(other.probs, [0, 1, 0, 1], 'weights, key 0 masked');
    near(other.ctx[1], [3, 4], 'context, key 0 masked');
  });

  test('a query whose every key is masked gets zero weights and a zero context (not NaN)', () => {
    const { ctx, probs } = run(Q, K, V, 1, { keyMask: [0, 0] });
    near(probs, [0, 0, 0, 0], 'weights');
    near(ctx.flat(), [0, 0, 0, 0], 'context');
  });

  test('two heads read their own column slices and fill their own block of the weights', () => {
    // head 0 (columns 0–1) is the case above; head 1 (columns 2–3) has zero queries, so its scores are equal,
    // its weights ½ each, and its context the mean of its values: ½[10, 0] + ½[0, 10] = [5, 5]
    const q = Q.map((r) => [...r, 0, 0]), k = K.map((r) => [...r, 7, -3]), v = [[1, 2, 10, 0], [3, 4, 0, 10]];
    const { ctx, probs } = run(q, k, v, 2);
    near(probs, [0.5, 0.5, ...P1, 0.5, 0.5, 0.5, 0.5], 'weights [heads, queries, keys]');
    near(ctx[0], [2, 3, 5, 5], 'context of query 0');
    near(ctx[1], [1.3911406, 2.3911406, 5, 5], 'context of query 1');
  });

  test('`row` places the queries and their context rows inside larger tensors (one hypothesis of a batch)', () => {
    const d = 2, q = new Float32Array([9, 9, ...Q[1]]), ctx = new Float32Array(4).fill(-1);
    attention(q, Float32Array.from(K.flat()), Float32Array.from(V.flat()), ctx, new Float32Array(2), { queries: 1, keys: 2, dModel: d, heads: 1 }, { row: 1 });
    near(Array.from(ctx), [-1, -1, 1.3911406, 2.3911406], 'row 0 untouched, row 1 = context of q1');
  });
});

/**
 * The arithmetic network/attention.ts documents, as plain loops: scores Σₜ q·k in doubles from +0 in increasing t,
 * times 1/√dₕ, stored as float32; softmax: e = exp(s − max) stored as float32, the sum over the unrounded doubles,
 * each e times 1/sum stored as float32; context c = fround(c + p·v) for increasing j.
 */
function plainAttention(q: Float32Array, k: Float32Array, v: Float32Array, nq: number, nk: number, d: number, heads: number, causal: boolean, mask?: number[]) {
  const hd = d / heads, scale = 1 / Math.sqrt(hd);
  const ctx = new Float32Array(nq * d), probs = new Float32Array(heads * nq * nk);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < nq; i++) {
      const visible = causal ? Math.min(nk, nk - nq + i + 1) : nk;
      const p = new Float32Array(visible);
      for (let j = 0; j < visible; j++) {
        let s = 0;
        for (let t = 0; t < hd; t++) s += q[i * d + h * hd + t] * k[j * d + h * hd + t];
        p[j] = mask && mask[j] === 0 ? -Infinity : s * scale;
      }
      const max = Math.max(...p);
      let sum = 0;
      for (let j = 0; j < visible; j++) {
        const e = Math.exp(p[j] - max);
        p[j] = e;
        sum += e;
      }
      for (let j = 0; j < visible; j++) p[j] = p[j] * (1 / sum);
      probs.set(p, (h * nq + i) * nk);
      for (let t = 0; t < hd; t++) {
        let c = 0;
        for (let j = 0; j < visible; j++) c = Math.fround(c + p[j] * v[j * d + h * hd + t]);
        ctx[i * d + h * hd + t] = c;
      }
    }
  }
  return { ctx, probs };
}

describe('attention against plain loops (bit-identical)', () => {
  test('random shapes, heads, causal and padding masks (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 19 }), fc.integer({ min: 1, max: 21 }), fc.integer({ min: 1, max: 12 }),
      fc.boolean(), fc.boolean(), fc.integer(),
      (heads, hd, nk, nqWanted, causal, masked, seed) => {
        const d = heads * hd, nq = causal ? Math.min(nqWanted, nk) : nqWanted;
        let x = seed >>> 0 || 1;
        const rnd = (n: number) => Float32Array.from({ length: n }, () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 4 - 2);
        const q = rnd(nq * d), k = rnd(nk * d), v = rnd(nk * d);
        // mask some keys but never the first, so no row is fully masked
        const mask = masked ? Array.from({ length: nk }, (_, j) => (j > 0 && (j * 7 + seed) % 3 === 0 ? 0 : 1)) : undefined;
        const ctx = new Float32Array(nq * d), probs = new Float32Array(heads * nq * nk);
        attention(q, k, v, ctx, new Float32Array(nk), { queries: nq, keys: nk, dModel: d, heads }, { causal, keyMask: mask, probs });
        const ref = plainAttention(q, k, v, nq, nk, d, heads, causal, mask);
        for (let i = 0; i < ctx.length; i++) if (!Object.is(ctx[i], ref.ctx[i])) return false;
        for (let i = 0; i < probs.length; i++) if (!Object.is(probs[i], ref.probs[i])) return false;
        return true;
      },
    ), { numRuns: 200 });
  });
});
