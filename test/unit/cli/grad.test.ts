/** `attention-lens grad --json`: the contract scripts rely on, checked against PyTorch autograd's golden gradients. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { ROOT, TINY_MODEL, readJson } from '../../helpers/golden';
import { CLI } from '../../helpers/cli';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8' });

describe('attention-lens grad', () => {
  test('one JSON object: ids, loss and every tensor gradient as PyTorch computes them', () => {
    const golden = readJson('test', 'fixtures', 'tiny-random-swish', 'golden-grad.json');
    const pair = golden.pairs[0];
    const r = cli('grad', '--json', '--model', TINY_MODEL, '--source', pair.source, '--target', pair.target);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(out), ['sourceIds', 'targetIds', 'loss', 'grads']);
    assert.deepEqual(out.sourceIds, pair.source_ids);
    assert.deepEqual(out.targetIds, pair.labels);
    assert.ok(Math.abs(out.loss - golden.single.loss) < 1e-4 * golden.single.loss);
    const expected = golden.single.grads;
    assert.deepEqual(Object.keys(out.grads).sort(), Object.keys(expected).sort());
    assert.ok(!('final_logits_bias' in out.grads));
    for (const [name, g] of Object.entries<{ norm: number; head: number[] }>(out.grads)) {
      const e = expected[name];
      assert.equal(g.head.length, 16);
      assert.ok(Math.abs(g.norm - e.norm) <= 1e-4 * e.norm + 1e-10, `${name} norm`);
      const scale = Math.max(...e.head.map(Math.abs));
      g.head.forEach((v, i) => assert.ok(Math.abs(v - e.head[i]) <= 1e-4 * scale + 1e-10, `${name}[${i}]`));
    }
  });

  test('a missing model folder is an error naming it', () => {
    const r = cli('grad', '--json', '--model', path.join(ROOT, 'no-such-folder'), '--source', 'a', '--target', 'b');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no-such-folder/);
  });
});
