/**
 * `--precision` and `--kernel` of the CLI, as spawned: exact SIMD sums give the JavaScript kernels' numbers bit for bit
 * (the JSON is identical), float32 sums the same translation with numbers that differ only in the last float32 bits,
 * and a bad value is refused with a message naming the option and its choices.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { wasmSimdSupported } from '../../../src/model/kernels/wasm/wasmMatmul';
import { CLI } from '../../helpers/cli';

const SENTENCE = 'The lion kills the tiger.';

function explainJson(...flags: string[]): any {
  const r = spawnSync(process.execPath, [CLI, 'explain', '--json', ...flags, SENTENCE], { encoding: 'utf8', env: { ...process.env, ATTENTION_LENS_PRECISION: '' } });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  delete out.timingsMs;
  return out;
}

/** Largest |a − b| over every number in two JSON values of the same shape. */
function maxNumberDiff(a: unknown, b: unknown, path = '$'): number {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b);
  if (Array.isArray(a) && Array.isArray(b)) {
    assert.equal(a.length, b.length, `${path}: length`);
    return a.reduce((m: number, x, i) => Math.max(m, maxNumberDiff(x, b[i], `${path}[${i}]`)), 0);
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), `${path}: keys`);
    return Object.keys(a).reduce((m, k) => Math.max(m, maxNumberDiff((a as any)[k], (b as any)[k], `${path}.${k}`)), 0);
  }
  assert.deepEqual(a, b, path);
  return 0;
}

describe('CLI --precision', { skip: !wasmSimdSupported() && 'this runtime has no WebAssembly SIMD' }, () => {
  const js = explainJson('--kernel', 'js');
  const exact = explainJson('--kernel', 'simd', '--precision', 'exact');
  const float32 = explainJson('--kernel', 'simd', '--precision', 'float32');
  const byDefault = explainJson();

  test('exact SIMD sums: the JavaScript kernels\' explanation, every number bit for bit', () => {
    assert.deepEqual(exact, js);
  });

  test('float32 sums (the default): the same tokens and translation, numbers within 1e-5, and not all the same bits', () => {
    assert.deepEqual(byDefault, float32);
    assert.deepEqual(float32.targetIds, exact.targetIds);
    assert.equal(float32.translation, exact.translation);
    const diff = maxNumberDiff(float32, exact);
    assert.ok(diff < 1e-5, `largest difference ${diff}`);
    assert.ok(diff > 0, 'the float32 kernels really ran');
  });

  test('a bad value is refused, naming the option and its choices', () => {
    const r = spawnSync(process.execPath, [CLI, 'explain', '--precision', 'float64', SENTENCE], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--precision <sums>' argument 'float64' is invalid\. expected one of exact, float32/);
  });
});
