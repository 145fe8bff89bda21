/** The public API (explain/translate) and the CLI, checked against Hugging Face's golden outputs. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { CancelledError, explain, loadModelFolder, translate } from '../../../src/model';
import { sinusoidalPositions } from '../../../src/model/network/positions';
import { attentionRow, layerWeights } from '../../../src/shared/attention';
import { BUNDLED_MODEL, ROOT, maxAbsDiff, readJson } from '../../helpers/golden';
import { CLI } from '../../helpers/cli';

const lm = loadModelFolder(BUNDLED_MODEL, { name: 'bundled' });
const golden = readJson('test', 'fixtures', 'checkpoint', 'golden.json');
const lion = golden.sentences.find((s: any) => s.text === 'The lion kills the tiger.');

describe('explain', () => {
  const e = explain(lm, lion.text, { topK: 5 });

  test('tokens and translation', () => {
    assert.deepEqual(e.sourcePieces, lion.pieces);
    assert.deepEqual(e.sourceIds, lion.input_ids);
    assert.deepEqual(e.targetIds, lion.greedy_ids);
    assert.equal(e.translation, lion.greedy_text);
    assert.equal(e.targetPieces[0], '<pad>');
    assert.equal(e.targetPieces.at(-1), '</s>');
    assert.equal(e.truncated, false);
  });

  test('every attention kind, layer and head matches the golden', () => {
    const { encoder, decoder, cross } = e.attentions;
    assert.deepEqual([encoder.heads, encoder.queryLen, encoder.keyLen, encoder.layers], [4, 8, 8, 3]);
    assert.deepEqual([decoder.queryLen, decoder.keyLen, cross.queryLen, cross.keyLen], [8, 8, 8, 8]);
    assert.deepEqual(decoder.queryTokens, e.targetPieces.slice(0, -1));
    assert.deepEqual(cross.keyTokens, lion.pieces);
    for (let l = 0; l < 3; l++) {
      assert.ok(maxAbsDiff(layerWeights(encoder, l), lion.encoder_attentions[l]) < 1e-4, `encoder ${l}`);
      assert.ok(maxAbsDiff(layerWeights(decoder, l), lion.decoder_attentions[l]) < 1e-4, `decoder ${l}`);
      assert.ok(maxAbsDiff(layerWeights(cross, l), lion.cross_attentions[l]) < 1e-4, `cross ${l}`);
    }
  });

  test('positional encodings are the sinusoids the model adds', () => {
    assert.equal(e.positional.dModel, 256);
    assert.equal(e.positional.positions, 8);
    assert.ok(maxAbsDiff(e.positional.values, sinusoidalPositions(8, 256)) < 1e-7);
    // Marian layout: position 1, dimension 0 is sin(1); dimension 128 (second half) is cos(1)
    assert.ok(Math.abs(e.positional.values[256 + 0] - Math.sin(1)) < 1e-6);
    assert.ok(Math.abs(e.positional.values[256 + 128] - Math.cos(1)) < 1e-6);
  });

  test('top-k probabilities at every step match the golden', () => {
    assert.equal(e.steps.length, lion.greedy_steps.length);
    e.steps.forEach((s, i) => {
      assert.deepEqual(s.topIds, lion.greedy_steps[i].top_ids);
      assert.ok(maxAbsDiff(s.topProbs, lion.greedy_steps[i].top_probs) < 1e-4);
      assert.equal(s.chosenPiece, e.targetPieces[i + 1]);
      assert.equal(s.position, i + 1);
    });
  });

  test('beam search explanation carries the beam translation and attentions of its tokens', () => {
    const s = golden.sentences.find((x: any) => x.beam4_text !== x.greedy_text);
    const b = explain(lm, s.text, { numBeams: 4 });
    assert.equal(b.translation, s.beam4_text);
    assert.deepEqual(b.targetIds, s.beam4_ids);
    assert.equal(b.attentions.cross.queryLen, s.beam4_ids.length - 1);
    assert.equal(b.steps.length, s.beam4_ids.length - 1);
    b.steps.forEach((st, i) => assert.equal(st.chosenId, s.beam4_ids[i + 1]));
    // each attention row is a distribution over the keys it may see
    for (const kind of [b.attentions.decoder, b.attentions.cross]) {
      const row = attentionRow(kind, 2, 0, 0);
      assert.ok(Math.abs(row.reduce((a, x) => a + x, 0) - 1) < 1e-5);
    }
  });

  test('a cancelled run stops with CancelledError', () => {
    let polls = 0;
    assert.throws(() => explain(lm, lion.text, { shouldStop: () => ++polls > 3 }), CancelledError);
  });

  test('long input is cut to the token budget with eos kept', () => {
    const long = golden.sentences.map((s: any) => s.text).join(' ');
    const t = explain(lm, long, { maxSourceTokens: 12 });
    assert.equal(t.truncated, true);
    assert.ok(t.sourceIds.length <= 12);
    assert.equal(t.sourceIds.at(-1), 0);
    assert.ok(long.startsWith(t.sourceText));
  });
});

describe('translate', () => {
  test('greedy and beam outputs equal the golden for all 12 sentences', () => {
    for (const s of golden.sentences) {
      assert.equal(translate(lm, s.text).text, s.greedy_text);
      assert.equal(translate(lm, s.text, { numBeams: 4 }).text, s.beam4_text);
    }
  });
});

describe('command line', () => {
  const cli = (args: string[], input: string) =>
    spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', cwd: ROOT });

  test('translate reads lines from stdin and writes one translation per line', () => {
    const sents = golden.sentences.slice(0, 4);
    const r = cli(['translate', '--beams', '4'], sents.map((s: any) => s.text).join('\n') + '\n');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split('\n'), sents.map((s: any) => s.beam4_text));
  });

  test('explain --json writes the inspection data', () => {
    const r = cli(['explain', '--json', lion.text], '');
    assert.equal(r.status, 0, r.stderr);
    const e = JSON.parse(r.stdout);
    assert.equal(e.translation, lion.greedy_text);
    // today's JSON layout: attention `layers` as one flat [heads, queries, keys] number array per layer
    assert.equal(e.attentions.cross.layers.length, 3);
    e.attentions.cross.layers.forEach((m: number[], l: number) => assert.ok(maxAbsDiff(m, lion.cross_attentions[l]) < 1e-4, `cross ${l}`));
    assert.equal(e.positional.values.length, e.positional.positions * e.positional.dModel);
  });

  test('a bad model folder fails with a message naming the file', () => {
    const r = cli(['translate', '--model', path.join(ROOT, 'test')], 'hi\n');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /config\.json: file not found/);
  });
});
