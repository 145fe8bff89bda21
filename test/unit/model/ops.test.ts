/**
 * network/ops.ts against numbers worked by hand or written from the textbook formulas with Math: LayerNorm, the
 * three feed-forward activations, softmax and log-softmax, the residual addition.
 */
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { activateInPlace, addInPlace, erf, layerNormInPlace, logSoftmax, softmaxInPlace } from '../../../src/model/network/ops';

function near(actual: ArrayLike<number>, expected: number[], what: string, tol = 1e-6): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} ≠ ${expected[i]}`);
}

describe('LayerNorm', () => {
  test('one row by hand: mean, variance, then γ·(x − mean)/√(var + ε) + β', () => {
    // x = [1, 2, 3, 4]: mean 2.5; deviations −1.5, −0.5, 0.5, 1.5; variance (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25
    // (divided by d, not d − 1, as PyTorch's LayerNorm); with ε = 0 the normalised row is deviation/√1.25:
    // [−1.3416408, −0.4472136, 0.4472136, 1.3416408]; then γ = [1, 1, 2, 1] and β = [0, 0, 0, 1]
    const x = new Float32Array([1, 2, 3, 4]);
    layerNormInPlace(x, 1, 4, new Float32Array([1, 1, 2, 1]), new Float32Array([0, 0, 0, 1]), 0);
    near(x, [-1.3416408, -0.4472136, 2 * 0.4472136, 1.3416408 + 1], 'normalised row');
  });

  test('rows are normalised independently, and ε keeps a constant row finite', () => {
    // row 0 constant: variance 0, so (x − mean)/√ε = 0 and the output is β; row 1 = [0, 2, 0, 2]: mean 1,
    // variance 1, so with ε = 1e-5 the row is ±1/√1.00001 = ±0.999995, plus β
    const x = new Float32Array([5, 5, 5, 5, 0, 2, 0, 2]);
    const beta = new Float32Array([0.5, -0.5, 0, 1]);
    layerNormInPlace(x, 2, 4, new Float32Array([1, 1, 1, 1]), beta, 1e-5);
    near(x.subarray(0, 4), [0.5, -0.5, 0, 1], 'constant row');
    near(x.subarray(4), [-0.999995 + 0.5, 0.999995 - 0.5, -0.999995, 0.999995 + 1], 'second row');
  });

  test('with γ = 1 and β = 0 any row comes out with mean 0 and variance ≈ 1 (property)', () => {
    fc.assert(fc.property(fc.array(fc.float({ min: -100, max: 100, noNaN: true }), { minLength: 2, maxLength: 64 }), (values) => {
      const x = Float32Array.from(values), d = x.length;
      const spread = Math.max(...x) - Math.min(...x);
      fc.pre(spread > 1); // variance ≫ ε
      layerNormInPlace(x, 1, d, new Float32Array(d).fill(1), new Float32Array(d), 1e-5);
      const mean = x.reduce((a, b) => a + b, 0) / d;
      const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / d;
      return Math.abs(mean) < 1e-4 && Math.abs(variance - 1) < 1e-2;
    }), { numRuns: 200 });
  });
});

describe('activations', () => {
  const xs = [-3, -1, -0.5, 0, 0.25, 1, 2, 7.5];

  test('relu is max(0, x)', () => {
    const x = Float32Array.from(xs);
    activateInPlace(x, x.length, 'relu');
    near(x, xs.map((v) => Math.max(0, v)), 'relu', 0);
  });

  test('swish is x·σ(x) = x/(1 + e^−x)', () => {
    const x = Float32Array.from(xs);
    activateInPlace(x, x.length, 'swish');
    near(x, xs.map((v) => v * (1 / (1 + Math.exp(-v)))), 'swish');
  });

  test('gelu is x·Φ(x), Φ the standard normal CDF (values from the normal table)', () => {
    // Φ(−2) = 0.0227501, Φ(−1) = 0.1586553, Φ(0.5) = 0.6914625, Φ(1) = 0.8413447, Φ(2) = 0.9772499
    const x = new Float32Array([-2, -1, 0, 0.5, 1, 2]);
    activateInPlace(x, x.length, 'gelu');
    near(x, [-2 * 0.0227501, -0.1586553, 0, 0.5 * 0.6914625, 0.8413447, 2 * 0.9772499], 'gelu');
  });

  test('only the first n elements are activated', () => {
    const x = new Float32Array([-1, -2, -3]);
    activateInPlace(x, 2, 'relu');
    near(x, [0, 0, -3], 'prefix', 0);
  });

  test('erf matches its table values within the documented 1.2e-7, and is odd', () => {
    const table: Array<[number, number]> = [[0, 0], [0.1, 0.1124629160], [0.5, 0.5204998778], [1, 0.8427007929], [2, 0.9953222650], [3, 0.9999779095]];
    for (const [x, e] of table) {
      assert.ok(Math.abs(erf(x) - e) < 1.2e-7, `erf(${x}) = ${erf(x)}, table ${e}`);
      assert.ok(Math.abs(erf(-x) + e) < 1.2e-7, `erf(${-x})`);
    }
  });
});

describe('softmax and log-softmax', () => {
  test('softmax([1, 2, 3]) = [e⁻², e⁻¹, 1]/(e⁻² + e⁻¹ + 1)', () => {
    // e⁻² = 0.1353353, e⁻¹ = 0.3678794, sum 1.5032147 → [0.0900306, 0.2447285, 0.6652410]
    const x = new Float32Array([9, 1, 2, 3, 9]);
    softmaxInPlace(x, 1, 3);
    near(x, [9, 0.0900306, 0.2447285, 0.6652410, 9], 'softmax of x[1..4), the rest untouched');
  });

  test('large inputs do not overflow (the max is subtracted first); −∞ gets weight 0; all −∞ gives zeros, not NaN', () => {
    const big = new Float32Array([1000, 1001]);
    softmaxInPlace(big, 0, 2);
    // e^−1/(e^−1 + 1) = 0.2689414
    near(big, [0.2689414, 0.7310586], 'shifted');
    const some = new Float32Array([-Infinity, 0, 0]);
    softmaxInPlace(some, 0, 3);
    near(some, [0, 0.5, 0.5], 'one −∞', 0);
    const none = new Float32Array([-Infinity, -Infinity]);
    softmaxInPlace(none, 0, 2);
    near(none, [0, 0], 'all −∞', 0);
  });

  test('softmax sums to 1 and keeps the order of its inputs (property)', () => {
    fc.assert(fc.property(fc.array(fc.float({ min: -50, max: 50, noNaN: true }), { minLength: 1, maxLength: 40 }), (values) => {
      const x = Float32Array.from(values);
      softmaxInPlace(x, 0, x.length);
      const sum = x.reduce((a, b) => a + b, 0);
      for (let i = 0; i < x.length; i++) for (let j = 0; j < x.length; j++) if (values[i] < values[j] && x[i] > x[j]) return false;
      return Math.abs(sum - 1) < 1e-5;
    }), { numRuns: 200 });
  });

  test('logSoftmax([1, 2, 3]) = x − log(e¹ + e² + e³) = x − 3.4076060', () => {
    const out = new Float64Array(3);
    logSoftmax(new Float32Array([0, 1, 2, 3]), 1, 3, out);
    near(out, [1 - 3.4076060, 2 - 3.4076060, 3 - 3.4076060], 'log-probabilities');
  });
});

test('addInPlace adds the first n elements (the residual connection)', () => {
  const x = new Float32Array([1, 2, 3]);
  addInPlace(x, new Float32Array([0.5, -2, 10]), 2);
  near(x, [1.5, 0, 3], 'sum', 0);
});
