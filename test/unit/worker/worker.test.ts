/**
 * The real inference worker (src/worker/inferenceWorker.ts, run through tsx) driven by ModelClient
 * with the bundled checkpoint: load, explain, translate, cancellation and a broken model folder.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { ModelClient } from '../../../src/host/modelClient';
import { isCancelled, ModelRequestError } from '../../../src/worker/workerProtocol';
import { ATTENTION_KINDS } from '../../../src/shared/explanation';
import { layerWeights } from '../../../src/shared/attention';
import { maxAbsDiff, readJson } from '../../helpers/golden';

const root = path.resolve(__dirname, '..', '..', '..');
const workerFile = path.join(root, 'src', 'worker', 'inferenceWorker.ts');
const bundled = { dir: path.join(root, 'media', 'model'), name: 'bundled' };
/** Hugging Face's outputs for the bundled checkpoint (test/fixtures/checkpoint/golden.json). */
const golden = readJson('test', 'fixtures', 'checkpoint', 'golden.json');
const sentence = (text: string) => golden.sentences.find((s: { text: string }) => s.text === text);
const lion = sentence('The lion kills the tiger.');

const client = new ModelClient({
  // tsx's CommonJS hook compiles the TypeScript worker inside the thread.
  createWorker: (init) => new Worker(`require('tsx/cjs'); require(${JSON.stringify(workerFile)});`, { eval: true, workerData: init }),
  cancelGraceMs: 10_000,
});
after(() => client.dispose());

describe('inference worker (bundled model)', () => {
  test('loads once and explains "The lion kills the tiger." as Hugging Face does, arrays in shared memory', async () => {
    const info = await client.load(bundled);
    assert.equal(info.summary.name, 'bundled');
    assert.equal(info.maxSourceTokens, 256);
    const { explanation } = await client.explain(bundled, lion.text, { topK: 5, maxSourceTokens: 128 });
    assert.equal(explanation.translation, lion.greedy_text);
    assert.deepEqual(explanation.targetIds, lion.greedy_ids);
    assert.deepEqual(explanation.sourcePieces, lion.pieces);
    const goldenOf = { encoder: lion.encoder_attentions, decoder: lion.decoder_attentions, cross: lion.cross_attentions };
    for (const k of ATTENTION_KINDS) {
      const kind = explanation.attentions[k];
      assert.ok(kind.weights instanceof Float32Array && kind.weights.buffer instanceof SharedArrayBuffer, `${k}: shared, not copied`);
      for (let l = 0; l < kind.layers; l++) assert.ok(maxAbsDiff(layerWeights(kind, l), goldenOf[k][l]) < 1e-4, `${k} layer ${l}`);
    }
    explanation.steps.forEach((s, i) => assert.ok(maxAbsDiff(s.topProbs, lion.greedy_steps[i].top_probs) < 1e-4, `step ${i}`));
    assert.equal(explanation.sourcePieces.at(-1), '</s>');
    assert.equal(explanation.sourceOffsets.length, explanation.sourcePieces.length);
    assert.equal(explanation.truncated, false);
    assert.equal(client.workerStarts, 1);
  });

  test('truncates to the token budget', async () => {
    const long = Array.from({ length: 40 }, () => 'The lion kills the tiger.').join(' ');
    const { explanation } = await client.explain(bundled, long, { maxSourceTokens: 16 });
    assert.equal(explanation.truncated, true);
    assert.equal(explanation.sourcePieces.length, 16);
    assert.ok(long.startsWith(explanation.sourceText));
  });

  test('translate returns the golden greedy and beam-4 translations', async () => {
    const s = sentence('Where is the nearest train station?');
    assert.deepEqual(await client.translate(bundled, s.text, {}), { text: s.greedy_text, ids: s.greedy_ids });
    const beam = golden.sentences.find((x: { beam4_text: string; greedy_text: string }) => x.beam4_text !== x.greedy_text);
    assert.equal((await client.translate(bundled, beam.text, { numBeams: 4 })).text, beam.beam4_text);
  });

  test('a superseded request is cancelled and the next one completes', async () => {
    const long = Array.from({ length: 20 }, () => 'The old man walks to the market every morning.').join(' ');
    const stale = client.explain(bundled, long, { numBeams: 4, maxSourceTokens: 256, maxNewTokens: 400 }, { lane: 'panel' });
    await new Promise((r) => setTimeout(r, 20));
    const fresh = client.explain(bundled, lion.text, {}, { lane: 'panel' });
    await assert.rejects(stale, (err: unknown) => isCancelled(err));
    assert.equal((await fresh).explanation.translation, lion.greedy_text);
  });

  test('a broken folder reports the file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-bad-model-'));
    fs.writeFileSync(path.join(dir, 'config.json'), '{ not json');
    try {
      await assert.rejects(client.load({ dir }), (err: unknown) => {
        assert.ok(err instanceof ModelRequestError, String(err));
        assert.equal(err.kind, 'model');
        assert.ok(err.message.includes('config.json'), err.message);
        return true;
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // The bundled model still works afterwards (reloaded on demand).
    const { explanation } = await client.explain(bundled, lion.text, {});
    assert.equal(explanation.translation, lion.greedy_text);
  });
});
