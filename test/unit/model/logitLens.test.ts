/** The decoder logit lens against golden-forced.json (independent numpy Marian), plain loops, and the real steps. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { explain, loadModelFolder } from '../../../src/model';
import { BUNDLED_MODEL, readJson } from '../../helpers/golden';
import { plainDecoderLayers, plainProbabilities, ranked } from '../../helpers/plainMarian';

const TOL = 1e-5;
const lm = loadModelFolder(BUNDLED_MODEL, { name: 'bundled' });
const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= TOL, `${what}: ${a} vs ${b}`);

describe('logit lens vs golden-forced.json', () => {
  const cases: any[] = readJson('test', 'fixtures', 'checkpoint', 'golden-forced.json').cases;
  for (const c of cases) {
    test(`${c.text} → ${c.target}`, () => {
      // the "matón" case lists the greedy output's ids, not the text's tokens (see forced.test.ts)
      const byIds = c.target === 'El gato se sentó en el matón.';
      const e = explain(lm, c.text, byIds ? { forcedPrefix: c.targetIds.slice(1), topK: 5 } : { target: c.target, topK: 5 });
      const lens = e.logitLens!;
      assert.equal(lens.layers.length, c.logitLens.layers.length);
      lens.layers.forEach((layer, l) => {
        const g = c.logitLens.layers[l];
        assert.equal(layer.topIds.length, e.steps.length);
        assert.deepEqual(layer.topIds, g.topIds, `layer ${l} top ids`);
        layer.topProbs.forEach((row, p) => row.forEach((v, i) => near(v, g.topProbs[p][i], `layer ${l} position ${p} top ${i}`)));
        layer.topPieces.forEach((row, p) => assert.deepEqual(row, row.map((_, i) => lm.tokenizer.idToPiece(layer.topIds[p][i]))));
      });
    });
  }
});

describe('logit lens vs plain loops over the weights', () => {
  test('every layer of a generated translation', () => {
    const e = explain(lm, 'The cat sat on the mat.', { topK: 4 });
    const layers = plainDecoderLayers(lm.config, lm.model.weights, e.sourceIds, e.targetIds.slice(0, -1));
    e.logitLens!.layers.forEach((layer, l) => {
      e.steps.forEach((_, p) => {
        const probs = plainProbabilities(lm.config, lm.model.weights, layers[l][p], [lm.tokenizer.padId]);
        const order = ranked(probs);
        assert.deepEqual(layer.topIds[p], order.slice(0, 4), `layer ${l} position ${p}`);
        layer.topProbs[p].forEach((v, i) => near(v, probs[order[i]], `layer ${l} position ${p} top ${i}`));
      });
    });
  });
});

describe('the last lens layer is the real prediction', () => {
  for (const [text, numBeams] of [['Where is the nearest train station?', 1], ['My name is Vicky and I play cricket.', 4]] as const) {
    test(`${text} (beams ${numBeams})`, () => {
      const e = explain(lm, text, { numBeams, topK: 7 });
      const lens = e.logitLens!;
      assert.equal(lens.layers.length, lm.config.decoderLayers);
      const last = lens.layers[lens.layers.length - 1];
      assert.deepEqual(last.topIds, e.steps.map((s) => s.topIds));
      last.topProbs.forEach((row, p) => row.forEach((v, i) => near(v, e.steps[p].topProbs[i], `position ${p} top ${i}`)));
      assert.ok(last.topIds.every((row) => row.length === 7));
    });
  }

  test('greedy: bit-identical to the steps', () => {
    const e = explain(lm, 'I ate the pizza because it was hot.');
    const last = e.logitLens!.layers[lm.config.decoderLayers - 1];
    assert.deepEqual(last.topProbs, e.steps.map((s) => s.topProbs));
  });
});
