/**
 * Fuzzing `parseMarianConfig` and `parseGenerationSettings` with mutations of the real tiny-model config.json (which
 * also carries old-style generation keys) and the bundled model's generation_config.json: byte-level mutations and
 * JSON value swaps (edge numbers, wrong types, huge sizes, removed keys). Every configuration that parses is then
 * used: the tiny model's real weights are mapped with it (a valid network or a ModelFileError naming the weights
 * file) and, when that works, the engine explains and translates a sentence with its DEFAULT options — the values
 * the files declare (max_length, max_position_embeddings, …) must not crash it or make it allocate without bound.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeEach, describe, test } from 'node:test';
import fc from 'fast-check';
import { parseGenerationSettings, parseMarianConfig, type GenerationSettings, type MarianConfig } from '../../../src/model/loading/config';
import { explain, translate } from '../../../src/model/explain/explain';
import type { LoadedModel } from '../../../src/model/loading/loadModel';
import { MarianModel } from '../../../src/model/marian';
import { parseSafetensors } from '../../../src/model/loading/safetensors';
import { MarianTokenizer } from '../../../src/model/tokenizer/marianTokenizer';
import { buildMarianWeights } from '../../../src/model/loading/weights';
import { BUNDLED_MODEL, TINY_MODEL } from '../../helpers/golden';
import {
  FUZZ_TIMEOUT_MS, FuzzStats, applyJsonMutations, applyMutations, describeMutations, fuzzOnce, fuzzRuns, hostileJsonValueArb, jsonMutationArb, mutationsArb, runProperty,
  show,
} from '../../helpers/fuzz';

const CONFIG = path.join(TINY_MODEL, 'config.json');
const GENERATION = path.join(TINY_MODEL, 'generation_config.json'); // the tiny folder has none: the bundled one's content is used
const WEIGHTS = path.join(TINY_MODEL, 'model.safetensors');
const configText = fs.readFileSync(CONFIG, 'utf8');
const generationText = fs.readFileSync(path.join(BUNDLED_MODEL, 'generation_config.json'), 'utf8');
const config = JSON.parse(configText) as Record<string, unknown>;
const generation = JSON.parse(generationText) as Record<string, unknown>;
const tensors = parseSafetensors(WEIGHTS, new Uint8Array(fs.readFileSync(WEIGHTS)));
const tokenizer = MarianTokenizer.fromFolder(TINY_MODEL);

/** Values a config key might plausibly be fuzzed into, beyond the generic hostile ones. */
const CONFIG_VALUES = hostileJsonValueArb([
  'relu', 'gelu', 'swish', 'silu', 'tanh', 'marian', 'bart', 1, 2, 3, 4, 8, 16, 32, 63, 64, 65, 128, 7998, 7999, 8000, 0, -1, 2 ** 53 - 1,
  [[7998]], [[]], [[0, 1, 2]], [[-1]], [[2 ** 53]], 'never', true, false, null,
]);

/** The engine runs once per distinct configuration, for the first ENGINE_RUNS_PER_TEST of each test (time budget). */
const engineChecked = new Set<string>();
const ENGINE_RUNS_PER_TEST = 25;
let engineRunsLeft = 0;

/** Maps the real weights with the configuration, then runs the engine with default options. */
function useConfiguration(cfg: MarianConfig, gen: GenerationSettings): void {
  const key = show([cfg, gen], Infinity);
  if (engineChecked.has(key) || engineRunsLeft <= 0) return;
  engineChecked.add(key);
  engineRunsLeft--;
  const weights = buildMarianWeights(WEIGHTS, tensors, cfg);
  const lm: LoadedModel = {
    folder: TINY_MODEL, config: cfg, generation: gen, model: new MarianModel(cfg, weights), tokenizer,
    summary: { name: 'fuzz', dModel: cfg.dModel, encoderLayers: cfg.encoderLayers, decoderLayers: cfg.decoderLayers, encoderHeads: cfg.encoderHeads, decoderHeads: cfg.decoderHeads, vocabSize: cfg.vocabSize, activation: cfg.activation },
    maxSourceTokens: cfg.maxPositions,
  };
  const e = explain(lm, 'The lion kills the tiger.');
  assert.ok(e.sourcePieces.length >= 1 && e.sourcePieces.length <= Math.max(2, cfg.maxPositions));
  assert.ok(e.targetIds.length <= Math.max(1, gen.maxLength));
  assert.equal(typeof translate(lm, 'Good morning.', { numBeams: 2 }).text, 'string');
}

function parseBoth(configJson: string, generationJson: string | undefined): void {
  const cfg = parseMarianConfig(CONFIG, configJson);
  assert.ok(cfg.dModel % cfg.encoderHeads === 0 && cfg.dModel % cfg.decoderHeads === 0);
  assert.ok(cfg.padTokenId < cfg.vocabSize && cfg.eosTokenId < cfg.vocabSize && cfg.decoderStartTokenId < cfg.vocabSize);
  const gen = parseGenerationSettings(generationJson === undefined ? { file: CONFIG, text: configJson } : { file: GENERATION, text: generationJson }, cfg);
  assert.ok(Number.isSafeInteger(gen.maxLength) && gen.maxLength >= 1 && Number.isFinite(gen.lengthPenalty));
  useConfiguration(cfg, gen);
}

describe('fuzz: config.json and generation_config.json', { timeout: FUZZ_TIMEOUT_MS }, () => {
  beforeEach(() => {
    engineRunsLeft = ENGINE_RUNS_PER_TEST;
  });

  test('byte-level mutations of config.json (generation keys read from it too)', (t) => {
    const stats = new FuzzStats('config.json bytes');
    const bytes = new Uint8Array(Buffer.from(configText));
    runProperty(mutationsArb(bytes.length, [], 4), fuzzRuns(1000), (muts) => {
      const text = Buffer.from(applyMutations(bytes, muts)).toString('utf8');
      fuzzOnce(stats, [CONFIG, WEIGHTS], () => describeMutations(muts), () => parseBoth(text, undefined));
    });
    t.diagnostic(`${stats.summary()}\n  engine runs (explain + beam translate, default options) on distinct valid configurations so far: ${engineChecked.size}`);
    assert.ok(stats.valid > 0 && stats.cleanErrors > 0, 'both outcomes reached');
  });

  test('JSON value swaps in config.json', (t) => {
    const stats = new FuzzStats('config.json values');
    runProperty(fc.array(jsonMutationArb(CONFIG_VALUES), { minLength: 1, maxLength: 3 }), fuzzRuns(1000), (muts) => {
      const text = JSON.stringify(applyJsonMutations(config, muts)) ?? '';
      fuzzOnce(stats, [CONFIG, WEIGHTS], () => show(muts), () => parseBoth(text, undefined));
    });
    t.diagnostic(`${stats.summary()}\n  engine runs (explain + beam translate, default options) on distinct valid configurations so far: ${engineChecked.size}`);
    assert.ok(stats.valid > 0 && stats.cleanErrors > 0, 'both outcomes reached');
  });

  test('byte-level mutations and JSON value swaps in generation_config.json', (t) => {
    const stats = new FuzzStats('generation_config.json');
    const bytes = new Uint8Array(Buffer.from(generationText));
    const arb = fc.oneof(
      mutationsArb(bytes.length, [], 4).map((muts) => ({ muts: describeMutations(muts), text: Buffer.from(applyMutations(bytes, muts)).toString('utf8') })),
      fc.array(jsonMutationArb(CONFIG_VALUES), { minLength: 1, maxLength: 3 }).map((muts) => ({ muts: show(muts), text: JSON.stringify(applyJsonMutations(generation, muts)) ?? '' })),
    );
    runProperty(arb, fuzzRuns(1000), ({ muts, text }) => {
      fuzzOnce(stats, [GENERATION, WEIGHTS], () => muts, () => parseBoth(configText, text));
    });
    t.diagnostic(`${stats.summary()}\n  engine runs (explain + beam translate, default options) on distinct valid configurations so far: ${engineChecked.size}`);
    assert.ok(stats.valid > 0 && stats.cleanErrors > 0, 'both outcomes reached');
  });
});
