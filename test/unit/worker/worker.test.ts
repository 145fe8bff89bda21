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

const root = path.resolve(__dirname, '..', '..', '..');
const workerFile = path.join(root, 'src', 'worker', 'inferenceWorker.ts');
const bundled = { dir: path.join(root, 'media', 'model'), name: 'bundled' };

const client = new ModelClient({
  // tsx's CommonJS hook compiles the TypeScript worker inside the thread.
  createWorker: (init) => new Worker(`require('tsx/cjs'); require(${JSON.stringify(workerFile)});`, { eval: true, workerData: init }),
  cancelGraceMs: 10_000,
});
after(() => client.dispose());

describe('inference worker (bundled model)', () => {
  test('loads once and explains "The lion kills the tiger."', async () => {
    const info = await client.load(bundled);
    assert.equal(info.summary.name, 'bundled');
    assert.equal(info.maxSourceTokens, 256);
    const { explanation } = await client.explain(bundled, 'The lion kills the tiger.', { topK: 5, maxSourceTokens: 128 });
    assert.ok(explanation.translation.length > 0);
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

  test('translate returns text', async () => {
    const out = await client.translate(bundled, 'Good morning.', {});
    assert.ok(out.text.length > 0);
  });

  test('a superseded request is cancelled and the next one completes', async () => {
    const long = Array.from({ length: 20 }, () => 'The old man walks to the market every morning.').join(' ');
    const stale = client.explain(bundled, long, { numBeams: 4, maxSourceTokens: 256, maxNewTokens: 400 }, { lane: 'panel' });
    await new Promise((r) => setTimeout(r, 20));
    const fresh = client.explain(bundled, 'Hello.', {}, { lane: 'panel' });
    await assert.rejects(stale, (err: unknown) => isCancelled(err));
    assert.ok((await fresh).explanation.translation.length > 0);
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
    const { explanation } = await client.explain(bundled, 'Thank you.', {});
    assert.ok(explanation.translation.length > 0);
  });
});
