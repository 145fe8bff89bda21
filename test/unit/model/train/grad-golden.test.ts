/**
 * The whole model's training loss and every tensor's gradient against PyTorch autograd (golden-grad.json, made by
 * scripts/fixtures/make_grad_golden.py in float64 from the same weights; its forward pass reproduces Hugging
 * Face's logits). Tolerance 1e-4 relative: norms and sums relative to themselves, individual values relative to
 * the largest value compared for that tensor (the forward pass here is float32, PyTorch's float64). The k_proj
 * biases' gradients are exactly zero in exact arithmetic (softmax ignores a shift shared by a query's scores), so
 * both sides hold rounding noise there: an absolute floor of 1e-10 covers it (real gradients here are ≥ 1e-6).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadMarianNetwork, readWeights } from '../../../../src/model/loading/loadNetwork';
import { MarianTokenizer } from '../../../../src/model/tokenizer/marianTokenizer';
import { TrainableMarian } from '../../../../src/model/train/model';
import { MarianParams } from '../../../../src/model/train/params';
import { TINY_MODEL, readJson } from '../../../helpers/golden';

const TOL = 1e-4;
const FLOOR = 1e-10;
const golden = readJson('test', 'fixtures', 'tiny-random-swish', 'golden-grad.json');

interface GoldenGrad {
  shape: number[];
  norm: number;
  sum: number;
  head: number[];
  spread_index: number[];
  spread: number[];
}

function compare(params: MarianParams, expected: Record<string, GoldenGrad>): void {
  const names = params.list.map((p) => p.name).sort();
  assert.deepEqual(names, Object.keys(expected).sort(), 'one gradient per trainable tensor, named as stored');
  for (const p of params.list) {
    const e = expected[p.name];
    assert.deepEqual(p.shape, e.shape, p.name);
    let sq = 0, sum = 0;
    for (const g of p.grad) {
      sq += g * g;
      sum += g;
    }
    const norm = Math.sqrt(sq);
    assert.ok(Math.abs(norm - e.norm) <= TOL * e.norm + FLOOR, `${p.name}: norm ${norm} vs ${e.norm}`);
    // the sum cancels; compare it on the scale of the norm
    assert.ok(Math.abs(sum - e.sum) <= TOL * e.norm + FLOOR, `${p.name}: sum ${sum} vs ${e.sum}`);
    const values = [...e.head, ...e.spread], actual = [...p.grad.subarray(0, 16), ...e.spread_index.map((i) => p.grad[i])];
    const scale = Math.max(...values.map(Math.abs));
    values.forEach((v, i) => assert.ok(Math.abs(actual[i] - v) <= TOL * scale + FLOOR, `${p.name}[${i}]: ${actual[i]} vs ${v}`));
  }
}

describe('training gradients vs PyTorch autograd (tiny-random-swish)', () => {
  const { config } = loadMarianNetwork(TINY_MODEL);
  const tokenizer = MarianTokenizer.fromFolder(TINY_MODEL);
  const pairs: Array<{ source: string; target: string; source_ids: number[]; labels: number[] }> = golden.pairs;

  test("our tokenizer gives the fixture's ids (Hugging Face's)", () => {
    for (const p of pairs) {
      assert.deepEqual(tokenizer.encode(p.source).ids, p.source_ids);
      assert.deepEqual(tokenizer.encodeTarget(p.target).ids, p.labels);
    }
  });

  const run = (batch: typeof pairs) => {
    const params = MarianParams.fromTensors(config, readWeights(TINY_MODEL).tensors);
    const model = new TrainableMarian(config, params);
    params.zeroGrad();
    const { loss } = model.lossAndGradients(batch.map((p) => ({ sourceIds: p.source_ids, labels: p.labels })));
    return { params, loss };
  };

  test('one pair: loss and every gradient', () => {
    const { params, loss } = run(pairs.slice(0, 1));
    assert.ok(Math.abs(loss - golden.single.loss) <= TOL * golden.single.loss, `loss ${loss} vs ${golden.single.loss}`);
    compare(params, golden.single.grads);
  });

  test('two pairs (PyTorch: one padded batch with attention mask): mean over all label tokens', () => {
    const { params, loss } = run(pairs);
    assert.ok(Math.abs(loss - golden.batch.loss) <= TOL * golden.batch.loss, `loss ${loss} vs ${golden.batch.loss}`);
    compare(params, golden.batch.grads);
  });
});
