/**
 * Every training op's backward pass against central finite differences of its forward pass (float64): the scalar
 * checked is Σ r ⊙ output for a fixed random r, so every output element contributes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Activation } from '../../../../src/model/loading/config';
import {
  activationBackward, activationForward, attentionBackward, attentionForward, crossEntropy, embeddingBackward,
  embeddingForward, layerNormBackward, layerNormForward, linearBackward, linearForward, residualBackward,
  residualForward, softmaxBackward, softmaxForward, IGNORE_INDEX, type AttentionShape, type Vec,
} from '../../../../src/model/train/ops';
import { Rng } from '../../../../src/model/train/params';

const rng = new Rng(7);
const rand = (n: number, scale = 1): Vec => Float64Array.from({ length: n }, () => rng.normal() * scale);
const dot = (a: Vec, b: Vec): number => a.reduce((s, x, i) => s + x * b[i], 0);

/** Checks `analytic` (d loss / d x) against (loss(x + h) − loss(x − h)) / 2h for every element of x. */
function checkGradient(x: Vec, loss: () => number, analytic: Vec, what: string, h = 1e-5, tol = 1e-6): void {
  assert.equal(analytic.length, x.length);
  let maxErr = 0;
  for (let i = 0; i < x.length; i++) {
    const keep = x[i];
    x[i] = keep + h;
    const up = loss();
    x[i] = keep - h;
    const down = loss();
    x[i] = keep;
    const numeric = (up - down) / (2 * h);
    const err = Math.abs(numeric - analytic[i]) / Math.max(1, Math.abs(numeric));
    maxErr = Math.max(maxErr, err);
  }
  assert.ok(maxErr < tol, `${what}: max relative error ${maxErr}`);
  // the check is not vacuous: the gradient has non-zero entries
  assert.ok(analytic.some((g) => Math.abs(g) > 1e-6), `${what}: gradient is all zero`);
}

describe('training ops: backward = finite differences', () => {
  test('linear (x, W, b)', () => {
    const rows = 3, inDim = 4, outDim = 5;
    const x = rand(rows * inDim), W = rand(outDim * inDim), b = rand(outDim), r = rand(rows * outDim);
    const loss = (): number => {
      const y = new Float64Array(rows * outDim);
      linearForward(x, rows, inDim, W, b, outDim, y);
      return dot(y, r);
    };
    const dx = new Float64Array(x.length), dW = new Float64Array(W.length), db = new Float64Array(b.length);
    linearBackward(r, x, rows, inDim, W, outDim, dx, dW, db);
    checkGradient(x, loss, dx, 'dx');
    checkGradient(W, loss, dW, 'dW');
    checkGradient(b, loss, db, 'db');
  });

  test('embedding with scale and positions, tied with the output projection', () => {
    const V = 6, d = 4, ids = [2, 5, 2, 0], scale = 2;
    const E = rand(V * d), pos = rand(ids.length * d), r = rand(ids.length * d), rOut = rand(3 * V), h = rand(3 * d);
    // the same table embeds the tokens and projects hidden rows to logits
    const loss = (): number => {
      const x = new Float64Array(ids.length * d);
      embeddingForward(ids, E, d, scale, pos, x);
      const logits = new Float64Array(3 * V);
      linearForward(h, 3, d, E, undefined, V, logits);
      return dot(x, r) + dot(logits, rOut);
    };
    const dE = new Float64Array(E.length);
    embeddingBackward(r, ids, d, scale, dE);
    linearBackward(rOut, h, 3, d, E, V, undefined, dE, undefined);
    checkGradient(E, loss, dE, 'dE');
    // rows of tokens that never occur get gradient only from the output projection
    const dEmbedOnly = new Float64Array(E.length);
    embeddingBackward(r, ids, d, scale, dEmbedOnly);
    assert.ok(dEmbedOnly.subarray(1 * d, 2 * d).every((g) => g === 0));
  });

  test('softmax', () => {
    const n = 7, x = rand(n), r = rand(n);
    const loss = (): number => {
      const p = x.slice();
      softmaxForward(p, 0, n);
      return dot(p, r);
    };
    const p = x.slice();
    softmaxForward(p, 0, n);
    const dx = new Float64Array(n);
    softmaxBackward(p, r, 0, n, dx, 0);
    checkGradient(x, loss, dx, 'dx');
  });

  const attentionCases: Array<[string, Partial<AttentionShape>]> = [
    ['cross-attention, no mask', { nq: 3, nk: 5, causal: false }],
    ['causal self-attention', { nq: 4, nk: 4, causal: true }],
    ['padding mask on the keys', { nq: 3, nk: 5, causal: false, keyMask: [1, 1, 0, 1, 0] }],
  ];
  for (const [name, partial] of attentionCases) {
    test(`attention: ${name}`, () => {
      const s: AttentionShape = { nq: 0, nk: 0, d: 6, heads: 2, causal: false, ...partial };
      const q = rand(s.nq * s.d), k = rand(s.nk * s.d), v = rand(s.nk * s.d), r = rand(s.nq * s.d);
      const loss = (): number => {
        const ctx = new Float64Array(s.nq * s.d);
        attentionForward(q, k, v, s, ctx);
        return dot(ctx, r);
      };
      const ctx = new Float64Array(s.nq * s.d);
      const probs = attentionForward(q, k, v, s, ctx);
      // masked and future keys get exactly zero weight
      for (let h = 0; h < s.heads; h++) for (let i = 0; i < s.nq; i++) for (let j = 0; j < s.nk; j++) {
        const hidden = (s.causal && j > i) || (s.keyMask && s.keyMask[j] === 0);
        if (hidden) assert.equal(probs[(h * s.nq + i) * s.nk + j], 0);
      }
      const dq = new Float64Array(q.length), dk = new Float64Array(k.length), dv = new Float64Array(v.length);
      attentionBackward(r, q, k, v, probs, s, dq, dk, dv);
      checkGradient(q, loss, dq, 'dq');
      checkGradient(k, loss, dk, 'dk');
      checkGradient(v, loss, dv, 'dv');
      if (s.keyMask) {
        // padding keys and values receive no gradient
        for (let j = 0; j < s.nk; j++) if (s.keyMask[j] === 0) {
          assert.ok(dk.subarray(j * s.d, (j + 1) * s.d).every((g) => g === 0) && dv.subarray(j * s.d, (j + 1) * s.d).every((g) => g === 0));
        }
      }
    });
  }

  test('LayerNorm (x, γ, β)', () => {
    const rows = 3, d = 5;
    const x = rand(rows * d, 2), gamma = rand(d), beta = rand(d), r = rand(rows * d);
    const loss = (): number => {
      const y = new Float64Array(rows * d);
      layerNormForward(x, rows, d, gamma, beta, 1e-5, y);
      return dot(y, r);
    };
    const y = new Float64Array(rows * d);
    const cache = layerNormForward(x, rows, d, gamma, beta, 1e-5, y);
    const dx = new Float64Array(x.length), dg = new Float64Array(d), db = new Float64Array(d);
    layerNormBackward(r, cache, rows, d, gamma, dx, dg, db);
    checkGradient(x, loss, dx, 'dx');
    checkGradient(gamma, loss, dg, 'dγ');
    checkGradient(beta, loss, db, 'dβ');
  });

  for (const act of ['relu', 'swish', 'gelu'] as Activation[]) {
    test(`activation ${act}`, () => {
      const n = 12;
      // keep relu's inputs away from its kink at 0, where the difference quotient is not its derivative
      const x = rand(n, 2).map((z) => (act === 'relu' && Math.abs(z) < 0.05 ? z + 0.1 : z));
      const r = rand(n);
      const loss = (): number => {
        const y = new Float64Array(n);
        activationForward(x, n, act, y);
        return dot(y, r);
      };
      const dx = new Float64Array(n);
      activationBackward(r, x, n, act, dx);
      // gelu's erf is a float32-accurate fit (|error| < 1.2e-7), so its difference quotient is noisier
      checkGradient(x, loss, dx, 'dx', act === 'gelu' ? 1e-3 : 1e-5, act === 'gelu' ? 1e-4 : 1e-6);
    });
  }

  test('residual', () => {
    const n = 6, x = rand(n), sub = rand(n), r = rand(n);
    const loss = (): number => {
      const y = new Float64Array(n);
      residualForward(x, sub, y);
      return dot(y, r);
    };
    const dx = new Float64Array(n), dsub = new Float64Array(n);
    residualBackward(r, dx, dsub);
    checkGradient(x, loss, dx, 'dx');
    checkGradient(sub, loss, dsub, 'dsub');
  });

  for (const smoothing of [0, 0.1]) {
    test(`cross-entropy, label smoothing ${smoothing}, one ignored row`, () => {
      const rows = 4, V = 5, labels = [3, IGNORE_INDEX, 0, 4];
      const logits = rand(rows * V, 2);
      const loss = (): number => crossEntropy(logits, rows, V, labels, smoothing, 1).sum / 3;
      const dl = new Float64Array(logits.length);
      const { count } = crossEntropy(logits, rows, V, labels, smoothing, 1 / 3, dl);
      assert.equal(count, 3);
      assert.ok(dl.subarray(V, 2 * V).every((g) => g === 0), 'the ignored row has no gradient');
      checkGradient(logits, loss, dl, 'dlogits');
    });
  }

  test('cross-entropy equals −log softmax at the label (independent computation)', () => {
    const logits = Float64Array.from([1, 2, 3]);
    const expected = -Math.log(Math.exp(2) / (Math.exp(1) + Math.exp(2) + Math.exp(3)));
    assert.ok(Math.abs(crossEntropy(logits, 1, 3, [1], 0, 1).sum - expected) < 1e-12);
  });
});
