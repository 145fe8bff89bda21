/** `attention-lens trace --json`: the contract's layout on stdout, and bad input as one clear line with exit code 1. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { ROOT, readJson } from '../../helpers/golden';
import { CLI } from '../../helpers/cli';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, 'trace', ...args], { cwd: ROOT, encoding: 'utf8' });

/** The key structure of a JSON value (arrays by their first element), to compare layouts. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as any)[k])]));
  return typeof v;
}

describe('attention-lens trace', () => {
  test('--json --side target --token 1: the golden trace, same layout and numbers', () => {
    const golden = readJson('test', 'fixtures', 'checkpoint', 'golden-trace.json').traces[1];
    const r = cli('--json', '--side', 'target', '--token', '1', "Let's go.");
    assert.equal(r.status, 0, r.stderr);
    const t = JSON.parse(r.stdout);
    const { text: _text, ...expected } = golden;
    assert.deepEqual(shape(t), shape(expected));
    assert.deepEqual(t.target, expected.target);
    assert.deepEqual(t.logits.topIds, expected.logits.topIds);
    assert.ok(Math.abs(t.layers[2].attention[1].heads[3].scores[4] - expected.layers[2].attention[1].heads[3].scores[4]) < 1e-5);
  });

  for (const [args, message] of [
    [['--token', '6', "Let's go."], /token 6 is outside the source side, which has 6 tokens/],
    [['--side', 'target', '--target', ' ', "Let's go."], /the target translation is empty/],
    [['--side', 'target', '--target', '\u200b', "Let's go."], /tokenizes to nothing/],
    [['--side', 'sideways', "Let's go."], /expected "source" or "target"/],
    [['--token', 'two', "Let's go."], /expected a token index/],
  ] as const) {
    test(`bad input ${args.join(' ')}: message, exit 1, nothing on stdout`, () => {
      const r = cli('--json', ...args);
      assert.equal(r.status, 1);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    });
  }
});
