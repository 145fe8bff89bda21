/**
 * Issue 18, class 8: the extension host is never the one that dies. The inference worker runs with V8 resource
 * limits: heap exhaustion ends only the worker, the request fails with a clear message and the next request gets a
 * fresh worker. The real worker (through tsx, with the same limits) answers the worst files of classes 1, 3 and 4
 * with model errors and stays usable. A model folder named by the workspace's settings needs the user's consent,
 * and package.json declares limited support for untrusted workspaces with modelPath restricted.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { ModelClient } from '../../../src/host/modelClient';
import { WORKER_RESOURCE_LIMITS, modelPathFromWorkspace, startInferenceWorker, workspaceModelDecision } from '../../../src/host/workspaceModel';
import { ModelRequestError } from '../../../src/worker/workerProtocol';
import { ROOT, TINY_MODEL } from '../../helpers/golden';
import { fifoIn, hugeVocab, sparseFile, symlinkIn, tinyCopy } from '../../helpers/hostileFiles';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-lens-worker-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const workerFile = path.join(ROOT, 'src', 'worker', 'inferenceWorker.ts');
const realWorker = `require('tsx/cjs'); require(${JSON.stringify(workerFile)});`;
/**
 * A worker that answers every request by filling its heap step by step (what a file that makes the loader build too
 * much does). Node ends such a worker with ERR_WORKER_OUT_OF_MEMORY. (One single allocation larger than the heap's
 * remaining room is a V8 fatal error that aborts the whole process instead, worker or not: that is why sizes are
 * checked before parsing, and no allocation a file can cause comes near the limit.)
 */
const greedyWorker = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', () => { const keep = []; for (;;) keep.push(new Array(1e6).fill(0.5)); });`;

describe('the worker runs with resource limits (class 8)', () => {
  test('heap exhaustion ends only the worker; the request fails clearly and the next one gets a fresh worker', async (t) => {
    let spawned = 0;
    const client = new ModelClient({
      createWorker: (init) => startInferenceWorker(spawned++ === 0 ? greedyWorker : realWorker, init, { eval: true }),
    });
    try {
      const heap0 = process.memoryUsage().heapUsed;
      const t0 = performance.now();
      await assert.rejects(client.load({ dir: TINY_MODEL, name: 'tiny' }), (e: unknown) => {
        assert.ok(e instanceof ModelRequestError && e.kind === 'crashed', String(e));
        assert.match(e.message, new RegExp(`the model ran out of memory \\(the worker's limit is ${WORKER_RESOURCE_LIMITS.maxOldGenerationSizeMb} MB\\)`));
        return true;
      });
      const crashedMs = performance.now() - t0;
      assert.ok(process.memoryUsage().heapUsed - heap0 < 256 * 1024 * 1024, 'this thread did not hold the worker\'s heap');
      const info = await client.load({ dir: TINY_MODEL, name: 'tiny' });
      t.diagnostic(`worker heap exhausted and reported in ${crashedMs.toFixed(0)} ms; replacement loaded the tiny model ${(performance.now() - t0 - crashedMs).toFixed(0)} ms later; host heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MB, process peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
      assert.equal(info.summary.vocabSize, 7999);
      assert.equal(client.workerStarts, 2);
    } finally {
      client.dispose();
    }
  });

  test('the real worker answers the worst files with model errors and stays usable; a FIFO never blocks it', async (t) => {
    const client = new ModelClient({ createWorker: (init) => startInferenceWorker(realWorker, init, { eval: true }) });
    try {
      const cases: Array<[string, (dir: string) => void, RegExp]> = [
        ['zero', (d) => symlinkIn(d, 'config.json', '/dev/zero'), /config\.json: is a character device, not a file/],
        ['urandom', (d) => symlinkIn(d, 'vocab.json', '/dev/urandom'), /vocab\.json: is a character device, not a file/],
        ['fifo', (d) => fifoIn(d, 'source.spm'), /source\.spm: is a FIFO/],
        ['vocab', (d) => hugeVocab(path.join(d, 'vocab.json'), 5_000_000), /vocab\.json: is 98\.0 MB/],
      ];
      for (const [name, make, expected] of cases) {
        const dir = tinyCopy(tmp, name);
        make(dir);
        const t0 = performance.now();
        await assert.rejects(client.load({ dir, name }), (e: unknown) => e instanceof ModelRequestError && e.kind === 'model' && expected.test(e.message));
        t.diagnostic(`worker, ${name}: model error in ${(performance.now() - t0).toFixed(0)} ms`);
      }
      const sparse = tinyCopy(tmp, 'sparse');
      sparseFile(path.join(sparse, 'model.safetensors'), fs.readFileSync(path.join(TINY_MODEL, 'model.safetensors')), 2.2e9);
      const out = await client.translate({ dir: sparse, name: 'sparse' }, 'The lion kills the tiger.', { numBeams: 1 });
      assert.ok(out.ids.length > 1);
      assert.equal(client.workerStarts, 1, 'no crash, no restart');
    } finally {
      client.dispose();
    }
  });
});

describe('a model folder set by the workspace needs consent (class 8)', () => {
  test('user settings load without asking; workspace settings ask once per workspace and folder', () => {
    assert.equal(modelPathFromWorkspace({ globalValue: '/m' }), false);
    assert.equal(modelPathFromWorkspace({ workspaceValue: '/repo/model' }), true);
    assert.equal(modelPathFromWorkspace({ workspaceFolderValue: ' x ' }), true);
    assert.equal(modelPathFromWorkspace({ workspaceValue: '  ' }), false);
    assert.equal(workspaceModelDecision({ globalValue: '/m' }, '/m', false, undefined), 'load');
    assert.equal(workspaceModelDecision({ workspaceValue: '' }, '/bundled', true, undefined), 'load');
    assert.equal(workspaceModelDecision({ workspaceValue: 'model' }, '/repo/model', false, undefined), 'ask');
    assert.equal(workspaceModelDecision({ workspaceValue: 'model' }, '/repo/model', false, { dir: '/repo/model', allowed: true }), 'load');
    assert.equal(workspaceModelDecision({ workspaceValue: 'model' }, '/repo/model', false, { dir: '/repo/model', allowed: false }), 'bundled');
    // a different folder than the one agreed to is asked about again
    assert.equal(workspaceModelDecision({ workspaceValue: 'other' }, '/repo/other', false, { dir: '/repo/model', allowed: true }), 'ask');
  });

  test('package.json: limited support in untrusted workspaces, modelPath restricted', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
    assert.deepEqual(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations, ['attentionLens.modelPath']);
    assert.ok(pkg.contributes.configuration.properties['attentionLens.modelPath']);
  });
});
