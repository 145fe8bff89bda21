/** `attention-lens explain --json --target`: the forced-target contract, checked against golden-forced.json. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { ROOT, readJson } from '../../helpers/golden';
import { CLI } from '../../helpers/cli';

const cli = (args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT });

describe('explain --json --target', () => {
  const golden = (readJson('test', 'fixtures', 'checkpoint', 'golden-forced.json').cases as any[])
    .find((c) => c.text === 'The tiger kills the lion.' && c.target === 'El tigre mata al león.');

  test('forced: true, targetIds = start + target + </s>, one step per predicted token, and the logit lens', () => {
    const r = cli(['explain', '--json', '--threads', '1', '--target', golden.target, golden.text]);
    assert.equal(r.status, 0, r.stderr);
    const e = JSON.parse(r.stdout);
    assert.equal(e.forced, true);
    assert.deepEqual(e.targetIds, golden.targetIds);
    assert.equal(e.steps.length, golden.targetIds.length - 1);
    e.steps.forEach((s: any, p: number) => {
      assert.equal(s.chosenId, golden.targetIds[p + 1]);
      assert.equal(s.chosenRank, golden.steps[p].chosenRank);
      assert.ok(Math.abs(s.chosenProb - golden.steps[p].chosenProb) < 1e-5);
      assert.deepEqual(s.topIds, golden.steps[p].topIds);
      assert.equal(s.topProbs.length, 5);
    });
    assert.equal(e.logitLens.layers.length, golden.logitLens.layers.length);
    e.logitLens.layers.forEach((l: any, i: number) => assert.deepEqual(l.topIds, golden.logitLens.layers[i].topIds));
  });

  test('without --target: no "forced", but the logit lens is always there', () => {
    const r = cli(['explain', '--json', '--threads', '1', '--top-k', '3', golden.text]);
    assert.equal(r.status, 0, r.stderr);
    const e = JSON.parse(r.stdout);
    assert.equal(e.forced, undefined);
    assert.equal(e.logitLens.layers[0].topIds.length, e.steps.length);
    assert.ok(e.logitLens.layers.every((l: any) => l.topIds.every((row: number[]) => row.length === 3)));
  });

  test('bad targets: clear messages, exit 1', () => {
    for (const [target, message] of [
      ['   ', 'the target translation is empty'],
      ['hola '.repeat(200), 'the target is 401 tokens long with </s>; this model\'s decoder reads at most 256'],
    ]) {
      const r = cli(['explain', '--json', '--threads', '1', '--target', target, 'Hello.']);
      assert.equal(r.status, 1);
      assert.equal(r.stdout, '');
      assert.ok(r.stderr.includes(`attention-lens: ${message}`), r.stderr);
    }
  });
});
