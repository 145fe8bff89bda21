/** explain's logitLens option: off leaves everything else identical; on (the default) carries one row per step and layer. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { explain, loadModelFolder } from '../../../src/model';
import { findBundledModel } from '../../../src/model/loading/bundledModel';
import { explanationToJson } from '../../../src/shared/attention';

test('logitLens: false drops only the lens', () => {
  const lm = loadModelFolder(findBundledModel(), { name: 'bundled' });
  const on = explain(lm, 'The lion kills the tiger.');
  const off = explain(lm, 'The lion kills the tiger.', { logitLens: false });
  assert.equal(off.logitLens, undefined);
  assert.equal(on.logitLens!.layers.length, lm.config.decoderLayers);
  for (const layer of on.logitLens!.layers) assert.equal(layer.topIds.length, on.steps.length);
  const strip = (e: typeof on) => {
    const j = JSON.parse(JSON.stringify(explanationToJson(e))) as Record<string, unknown>;
    delete j.logitLens;
    delete j.timingsMs;
    return JSON.stringify(j);
  };
  assert.equal(strip(off), strip(on));
});
