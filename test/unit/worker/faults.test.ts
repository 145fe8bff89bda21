/**
 * Faults in the host layer, with ModelClient and the real inference worker (pure Node):
 *  - the worker is killed mid-run, runs out of memory, or cannot start → that request fails as 'crashed' and the
 *    next request restarts the worker and succeeds;
 *  - the model folder disappears, is renamed or rewritten while in use → a clear error naming the path; once it
 *    is back, the next request recovers; a different model put at the same path is picked up;
 *  - cancellation during a model load and during generation → 'cancelled', and the worker stays usable;
 *  - 100 rapid requests in one lane → only the newest is delivered, and the host heap does not grow.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { ModelClient, type CancellationLike } from '../../../src/host/modelClient';
import { ModelRequestError, isCancelled, type WorkerInit } from '../../../src/worker/workerProtocol';
import { BUNDLED_MODEL, TINY_MODEL } from '../../helpers/golden';
import { WORKER_KIND, mb, settledHeap, spawnMissingWorker, spawnRealWorker } from '../../helpers/fuzzWorker';

const bundled = { dir: BUNDLED_MODEL, name: 'bundled' };
const LONG = Array.from({ length: 30 }, (_, i) => `The old man number ${i} walks to the market every morning.`).join(' ');
/** A request that keeps the worker busy for seconds: beam search, long source, long generation. */
const SLOW = { numBeams: 4, topK: 5, maxSourceTokens: 256, maxNewTokens: 255 };

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-lens-faults-'));
const clients: ModelClient[] = [];
after(() => {
  for (const c of clients) c.dispose();
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

/** A client whose workers are recorded, so a test can kill the current one. */
function makeClient(opts: { cancelGraceMs?: number; spawn?: (init: WorkerInit, n: number) => Worker } = {}) {
  const workers: Worker[] = [];
  const logs: string[] = [];
  const client = new ModelClient({
    createWorker: (init) => {
      const w = opts.spawn ? opts.spawn(init, workers.length) : spawnRealWorker(init);
      workers.push(w);
      return w;
    },
    cancelGraceMs: opts.cancelGraceMs ?? 10_000,
    log: (m) => logs.push(m),
  });
  clients.push(client);
  return { client, workers, logs };
}

function cancellation(): { token: CancellationLike; cancel: () => void } {
  const listeners: Array<(e: unknown) => unknown> = [];
  const token = {
    isCancellationRequested: false,
    onCancellationRequested(l: (e: unknown) => unknown) {
      listeners.push(l);
      return { dispose: () => void listeners.splice(listeners.indexOf(l), 1) };
    },
  };
  return { token, cancel: () => ((token.isCancellationRequested = true), [...listeners].forEach((l) => l(undefined))) };
}

const kindOf = (err: unknown) => (err instanceof ModelRequestError ? err.kind : `not a ModelRequestError: ${String(err)}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`faults (real worker: ${WORKER_KIND})`, { timeout: 300_000 }, () => {
  test('a worker killed mid-run fails that request as crashed; the next request restarts it and succeeds', async (t) => {
    const { client, workers } = makeClient();
    await client.load(bundled);
    const running = client.explain(bundled, LONG, SLOW);
    await sleep(100); // well inside the time this request takes (its encoder pass alone takes longer)
    assert.equal(client.pending, 1, 'the request is running');
    await workers[0].terminate(); // as if the thread were killed
    const err = await running.then(() => undefined, (e: unknown) => e);
    assert.equal(kindOf(err), 'crashed');
    assert.match((err as Error).message, /stopped unexpectedly/);
    assert.equal(client.loaded, undefined, 'the loaded model is forgotten');
    const { explanation } = await client.explain(bundled, 'The lion kills the tiger.', { topK: 5 });
    assert.ok(explanation.translation.length > 0);
    assert.equal(client.workerStarts, 2);
    t.diagnostic(`killed mid-run → crashed: "${(err as Error).message}"; restarted (${client.workerStarts} workers) and answered`);
  });

  test('a worker that runs out of memory, or cannot start, fails one request; the next one works', async (t) => {
    // 1st worker: a 4 MB heap, too small for the model's tokenizer tables (16 MB no longer is always too small: the
    // explanation's arrays are Float32Arrays outside the JS heap); 2nd: a missing file; then the real one.
    const { client } = makeClient({
      spawn: (init, n) => (n === 0 ? spawnRealWorker(init, { resourceLimits: { maxOldGenerationSizeMb: 4, maxYoungGenerationSizeMb: 2 } }) : n === 1 ? spawnMissingWorker(init) : spawnRealWorker(init)),
    });
    const oom = await client.explain(bundled, LONG, { topK: 5 }).then(() => undefined, (e: unknown) => e);
    assert.equal(kindOf(oom), 'crashed');
    const missing = await client.explain(bundled, 'Hello.', {}).then(() => undefined, (e: unknown) => e);
    assert.equal(kindOf(missing), 'crashed');
    const { explanation } = await client.explain(bundled, 'Hello.', {});
    assert.ok(explanation.translation.length > 0);
    assert.equal(client.workerStarts, 3);
    t.diagnostic(`out of memory → "${(oom as Error).message.slice(0, 120)}"; cannot start → "${(missing as Error).message.slice(0, 120)}"; third worker answered`);
  });

  test('the model folder disappears, changes and comes back while in use', async (t) => {
    const dir = path.join(tmpRoot, 'model');
    const moved = path.join(tmpRoot, 'model-moved');
    fs.cpSync(TINY_MODEL, dir, { recursive: true });
    const ref = { dir, name: 'tiny' };
    const { client } = makeClient();
    const ok = async () => assert.equal((await client.explain(ref, 'The lion kills the tiger.', { maxNewTokens: 8 })).explanation.model.dModel, 64);
    const fails = async (file: RegExp) => {
      const err = await client.explain(ref, 'The lion kills the tiger.', { maxNewTokens: 8 }).then(() => undefined, (e: unknown) => e);
      assert.equal(kindOf(err), 'model', String(err));
      assert.ok((err as Error).message.includes(dir), `names the folder: ${(err as Error).message}`);
      assert.match((err as ModelRequestError).file ?? '', file);
      assert.equal(client.isLoaded(ref), false, 'the client no longer counts the model as loaded');
      return (err as Error).message;
    };
    await ok();
    const messages: string[] = [];

    fs.renameSync(dir, moved); // renamed away (or deleted)
    messages.push(await fails(/model$/));
    fs.renameSync(moved, dir);
    await ok();

    const weights = path.join(dir, 'model.safetensors');
    const good = fs.readFileSync(weights);
    fs.writeFileSync(weights, good.subarray(0, 5000)); // rewritten, truncated
    messages.push(await fails(/model\.safetensors$/));
    fs.writeFileSync(weights, good);
    await ok();

    fs.rmSync(path.join(dir, 'vocab.json')); // one file deleted
    messages.push(await fails(/vocab\.json$/));
    fs.copyFileSync(path.join(TINY_MODEL, 'vocab.json'), path.join(dir, 'vocab.json'));
    await ok();

    // another model copied over the same path is used from the next request on
    for (const f of fs.readdirSync(BUNDLED_MODEL)) fs.copyFileSync(path.join(BUNDLED_MODEL, f), path.join(dir, f));
    assert.equal((await client.explain(ref, 'The lion kills the tiger.', { maxNewTokens: 8 })).explanation.model.dModel, 256);
    assert.equal(client.workerStarts, 1, 'no restart was needed for any of it');
    t.diagnostic(`errors: ${messages.map((m) => JSON.stringify(m)).join('; ')}`);
  });

  test('cancelling during a model load: cancelled, and the worker is usable afterwards', async (t) => {
    const { client, logs } = makeClient({ cancelGraceMs: 100 }); // a load cannot poll the flag: the worker is replaced
    const c = cancellation();
    const loading = client.explain(bundled, 'The lion kills the tiger.', {}, { token: c.token });
    await sleep(20);
    const t0 = performance.now();
    c.cancel();
    const err = await loading.then(() => undefined, (e: unknown) => e);
    const ms = performance.now() - t0;
    assert.ok(isCancelled(err), String(err));
    const { explanation } = await client.explain(bundled, 'Hello.', {});
    assert.ok(explanation.translation.length > 0);
    t.diagnostic(`cancelled ${ms.toFixed(0)} ms after the cancel (grace 100 ms); ${client.workerStarts} worker(s) started${logs.some((l) => /did not stop/.test(l)) ? ', the loading one was replaced' : ''}`);
  });

  test('cancelling during generation: cancelled through the shared flag, no restart needed', async (t) => {
    const { client } = makeClient({ cancelGraceMs: 60_000 }); // a restart would take a minute: cooperation must stop it
    await client.load(bundled);
    const c = cancellation();
    const running = client.explain(bundled, LONG, SLOW, { token: c.token });
    await sleep(100);
    assert.equal(client.pending, 1, 'the request is running');
    const t0 = performance.now();
    c.cancel();
    const err = await running.then(() => undefined, (e: unknown) => e);
    const ms = performance.now() - t0;
    assert.ok(isCancelled(err), String(err));
    assert.equal(client.workerStarts, 1, 'the same worker noticed the flag and stopped');
    assert.ok(client.isLoaded(bundled), 'and still holds the model');
    const { explanation } = await client.explain(bundled, 'Hello.', {});
    assert.ok(explanation.translation.length > 0);
    t.diagnostic(`generation stopped ${ms.toFixed(0)} ms after the cancel, same worker, model kept`);
  });

  test('100 rapid requests in one lane: only the newest is delivered, and nothing leaks', async (t) => {
    const { client } = makeClient();
    await client.load(bundled);
    const burst = async (n: number) => {
      const requests = Array.from({ length: n }, (_, i) => client.explain(bundled, `Sentence number ${i} about the lion.`, { maxNewTokens: 12 }, { lane: 'hover' }));
      const settled = await Promise.allSettled(requests);
      const delivered = settled.filter((s) => s.status === 'fulfilled');
      const cancelled = settled.filter((s) => s.status === 'rejected' && isCancelled(s.reason));
      assert.equal(delivered.length, 1, 'exactly one result');
      assert.equal(settled.at(-1)!.status, 'fulfilled', 'and it is the newest request’s');
      assert.equal((settled.at(-1) as PromiseFulfilledResult<Awaited<(typeof requests)[number]>>).value.explanation.sourceText, `Sentence number ${n - 1} about the lion.`);
      assert.equal(cancelled.length, n - 1, 'all the others were cancelled');
      assert.equal(client.pending, 0);
    };
    await burst(100); // warm up
    const heap0 = await settledHeap();
    for (let i = 0; i < 3; i++) await burst(100);
    const heap1 = await settledHeap();
    t.diagnostic(`300 requests after a warm-up burst: 3 delivered, 297 cancelled; host heap ${mb(heap0)} → ${mb(heap1)} (${mb(heap1 - heap0)}); ${client.workerStarts} worker`);
    assert.ok(heap1 - heap0 < 4 * 1048576, `heap grew ${mb(heap1 - heap0)}`);
  });
});
