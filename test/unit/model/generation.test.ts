/** Small pieces of generation with hand-computed expectations. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyLogitsProcessors } from '../../../src/model/generation/logitsProcessors';
import { topK } from '../../../src/model/generation/topk';
import type { GenerationSettings } from '../../../src/model/loading/config';

const gen = (patch: Partial<GenerationSettings>): GenerationSettings => ({
  numBeams: 1, maxLength: 10, badWordsIds: [], forcedEosTokenId: undefined, lengthPenalty: 1, earlyStopping: false, ...patch,
});

test('topK orders by value and keeps the lower index first on ties', () => {
  assert.deepEqual(topK([0.1, 0.5, 0.5, 0.9, -1], 3), [3, 1, 2]);
  assert.deepEqual(topK([2, 2, 2], 2), [0, 1]);
  assert.deepEqual(topK([NaN, 1, -Infinity], 2), [1, 2]);
  assert.deepEqual(topK([5, 4, 3, 2, 1], 10), [0, 1, 2, 3, 4]);
});

test('single-token bad words are always banned', () => {
  const s = new Float64Array([1, 2, 3, 4]);
  applyLogitsProcessors(s, [0], gen({ badWordsIds: [[3]] }), 0);
  assert.deepEqual(Array.from(s), [1, 2, 3, -Infinity]);
});

test('multi-token bad words ban the last token only after the prefix', () => {
  const s = new Float64Array([1, 2, 3, 4]);
  applyLogitsProcessors(s, [0, 1, 2], gen({ badWordsIds: [[1, 2, 3]] }), 0);
  assert.equal(s[3], -Infinity);
  const t = new Float64Array([1, 2, 3, 4]);
  applyLogitsProcessors(t, [0, 2, 1], gen({ badWordsIds: [[1, 2, 3]] }), 0);
  assert.deepEqual(Array.from(t), [1, 2, 3, 4]);
});

test('eos is forced at the last position and only there', () => {
  const s = new Float64Array([-5, 2, 3, 4]);
  applyLogitsProcessors(s, new Array(9).fill(1), gen({ forcedEosTokenId: 0 }), 0);
  assert.deepEqual(Array.from(s), [0, -Infinity, -Infinity, -Infinity]);
  const t = new Float64Array([-5, 2, 3, 4]);
  applyLogitsProcessors(t, new Array(8).fill(1), gen({ forcedEosTokenId: 0 }), 0);
  assert.deepEqual(Array.from(t), [-5, 2, 3, 4]);
});
