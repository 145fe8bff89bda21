/** What makes an Explanation valid, whatever text produced it: consistent sizes, offsets inside the text, stochastic rows. */
import assert from 'node:assert/strict';
import { attentionRow, explanationFromJson, explanationToJson } from '../../src/shared/attention';
import type { AttentionKind, Explanation } from '../../src/shared/explanation';

const TOL = 1e-4;

/** Every row over `keysOf(row)` keys sums to 1, the rest of the row is 0, all values finite in [0, 1]. */
function assertRows(name: string, kind: AttentionKind, layers: number, keysOf: (row: number) => number): void {
  const { heads, queryLen: Q, keyLen: K } = kind;
  assert.equal(kind.layers, layers, `${name}: layer count`);
  assert.equal(kind.queryTokens.length, Q, `${name}: query tokens`);
  assert.equal(kind.keyTokens.length, K, `${name}: key tokens`);
  assert.equal(kind.weights.length, layers * heads * Q * K, `${name}: size`);
  for (let l = 0; l < layers; l++) {
    for (let h = 0; h < heads; h++) {
      for (let q = 0; q < Q; q++) {
        const row = attentionRow(kind, l, h, q);
        const live = keysOf(q);
        let sum = 0;
        for (let k = 0; k < K; k++) {
          const v = row[k];
          if (!(Number.isFinite(v) && v >= -TOL && v <= 1 + TOL)) assert.fail(`${name} layer ${l} head ${h} row ${q}: value ${v}`);
          if (k < live) sum += v;
          else if (v !== 0) assert.fail(`${name} layer ${l} head ${h} row ${q}: nonzero weight ${v} on future key ${k}`);
        }
        if (Math.abs(sum - 1) > TOL) assert.fail(`${name} layer ${l} head ${h} row ${q}: sums to ${sum}`);
      }
    }
  }
}

/**
 * Checks an explanation of `input`: the explained text is the input or (truncated) a prefix of it, every piece has
 * an offset range inside it (non-overlapping, in order), attention rows are probability distributions (causal for
 * the decoder), probabilities and positions are finite, and the whole thing survives its JSON edge (CLI, export).
 */
export function assertValidExplanation(e: Explanation, input: string): void {
  const S = e.sourceIds.length;
  assert.ok(S >= 1, 'at least </s>');
  assert.equal(e.sourcePieces.length, S);
  assert.equal(e.sourceOffsets.length, S);
  assert.equal(e.sourcePieces[S - 1], '</s>');
  if (e.truncated) assert.ok(input.startsWith(e.sourceText), 'truncated text is a prefix of the input');
  else assert.equal(e.sourceText, input);
  let prevEnd = 0;
  for (const [s, t] of e.sourceOffsets) {
    assert.ok(Number.isInteger(s) && Number.isInteger(t) && prevEnd <= s && s <= t && t <= e.sourceText.length, `offset [${s}, ${t}] in a text of ${e.sourceText.length}`);
    prevEnd = t;
  }
  const T = e.targetIds.length - 1;
  assert.ok(T >= 1, 'at least one generated token');
  assert.equal(e.targetPieces.length, e.targetIds.length);
  assert.equal(e.steps.length, T);
  for (const st of e.steps) {
    assert.ok(Number.isFinite(st.chosenProb) && st.chosenProb >= 0 && st.chosenProb <= 1 + TOL, `step probability ${st.chosenProb}`);
    for (const p of st.topProbs) assert.ok(Number.isFinite(p) && p >= 0 && p <= 1 + TOL);
    assert.equal(st.topPieces.length, st.topIds.length);
  }
  assert.equal(typeof e.translation, 'string');
  const { model } = e;
  assertRows('encoder', e.attentions.encoder, model.encoderLayers, () => S);
  assertRows('decoder', e.attentions.decoder, model.decoderLayers, (q) => q + 1);
  assertRows('cross', e.attentions.cross, model.decoderLayers, () => S);
  assert.equal(e.attentions.encoder.queryLen, S);
  assert.equal(e.attentions.cross.queryLen, T);
  assert.equal(e.positional.values.length, e.positional.positions * e.positional.dModel);
  assert.ok(e.positional.values.every(Number.isFinite));
  assert.deepEqual(explanationFromJson(JSON.parse(JSON.stringify(explanationToJson(e)))), e, 'JSON round trip (CLI --json, export)');
}
