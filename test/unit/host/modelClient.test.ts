/**
 * ModelClient against a real worker_threads Worker running a small stub (eval'd CommonJS) that
 * speaks the worker protocol: queueing, lane supersession, token cancellation through the shared
 * flag, crash recovery and the restart of a worker that ignores cancellation.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { ModelClient, describeModelError, type CancellationLike } from '../../../src/host/modelClient';
import { isCancelled, ModelRequestError, type WorkerInit } from '../../../src/worker/workerProtocol';

const STUB = `
const { parentPort, workerData } = require('node:worker_threads');
const flags = new Int32Array(workerData.cancelBuffer);
parentPort.on('message', (req) => {
  const stop = () => Atomics.load(flags, 0) === req.id;
  const info = { folder: req.model.dir, summary: { name: req.model.name || 'x' }, maxSourceTokens: 16, loadMs: 0 };
  const fail = (error) => parentPort.postMessage({ type: 'failed', id: req.id, error });
  if (req.model.dir === '/bad') return fail({ kind: 'model', message: '/bad/config.json: is missing', file: '/bad/config.json', problem: 'is missing' });
  if (req.type === 'load') return parentPort.postMessage({ type: 'loaded', id: req.id, info });
  const [cmd, arg] = req.text.split(':');
  if (cmd === 'crash') process.exit(3);
  if (cmd === 'throw') throw new Error('boom in worker');
  if (cmd === 'garbage') { parentPort.postMessage({ nonsense: true }); }
  if (cmd === 'slow') {
    const end = Date.now() + Number(arg);
    while (Date.now() < end) if (stop()) return fail({ kind: 'cancelled', message: 'cancelled' });
  }
  if (cmd === 'hang') { for (;;) {} }
  const none = { layers: 0, heads: 0, queryLen: 0, keyLen: 0, queryTokens: [], keyTokens: [], weights: new Float32Array(0) };
  const attentions = { encoder: none, decoder: none, cross: cmd === 'short' ? { ...none, layers: 1, heads: 1, queryLen: 1, keyLen: 1 } : none };
  const positional = { positions: 0, dModel: 0, values: new Float32Array(0) };
  parentPort.postMessage({ type: 'explained', id: req.id, info, explanation: { translation: 'T(' + req.text + ')', attentions, positional } });
});
`;

const clients: ModelClient[] = [];
function makeClient(cancelGraceMs = 2000) {
  const logs: string[] = [];
  const client = new ModelClient({
    createWorker: (init: WorkerInit) => new Worker(STUB, { eval: true, workerData: init }),
    cancelGraceMs,
    log: (m) => logs.push(m),
  });
  clients.push(client);
  return { client, logs };
}
afterEach(() => {
  for (const c of clients.splice(0)) c.dispose();
});

const model = { dir: '/m', name: 'm' };
const run = (client: ModelClient, text: string, lane?: string, token?: CancellationLike) =>
  client.explain(model, text, {}, { lane, token }).then((r) => (r.explanation as unknown as { translation: string }).translation);

function cancellationSource() {
  const listeners: Array<(e: unknown) => unknown> = [];
  const token: CancellationLike & { isCancellationRequested: boolean } = {
    isCancellationRequested: false,
    onCancellationRequested(listener) {
      listeners.push(listener);
      return { dispose: () => listeners.splice(listeners.indexOf(listener), 1) };
    },
  };
  return { token, cancel: () => ((token.isCancellationRequested = true), [...listeners].forEach((l) => l(undefined))), listeners };
}

const rejectsCancelled = (p: Promise<unknown>) => assert.rejects(p, (err: unknown) => isCancelled(err));

describe('ModelClient', () => {
  test('spawns lazily, keeps one warm worker and answers in order', async () => {
    const { client } = makeClient();
    assert.equal(client.workerStarts, 0);
    const results = await Promise.all([run(client, 'a'), run(client, 'b'), run(client, 'c')]);
    assert.deepEqual(results, ['T(a)', 'T(b)', 'T(c)']);
    assert.equal(await run(client, 'd'), 'T(d)');
    assert.equal(client.workerStarts, 1);
    assert.equal(client.pending, 0);
  });

  test('load reports the model and isLoaded follows it', async () => {
    const { client } = makeClient();
    assert.equal(client.isLoaded(model), false);
    const info = await client.load(model);
    assert.equal(info.folder, '/m');
    assert.equal(client.isLoaded(model), true);
    assert.equal(client.isLoaded({ dir: '/other' }), false);
    client.invalidate();
    assert.equal(client.isLoaded(model), false);
  });

  test('a newer request in the same lane cancels the running one through the shared flag', async () => {
    const { client } = makeClient();
    const started = Date.now();
    const stale = run(client, 'slow:3000', 'panel');
    await new Promise((r) => setTimeout(r, 100)); // let it start running in the worker
    const fresh = run(client, 'fresh', 'panel');
    await rejectsCancelled(stale);
    assert.equal(await fresh, 'T(fresh)');
    assert.ok(Date.now() - started < 2000, 'the stale request stopped early');
    assert.equal(client.workerStarts, 1, 'no restart needed');
  });

  test('a newer request drops a queued one of the same lane but not other lanes', async () => {
    const { client } = makeClient();
    const busy = run(client, 'slow:200', 'other');
    const queued = run(client, 'q1', 'hover');
    const sidebar = run(client, 's1', 'sidebar');
    const newest = run(client, 'q2', 'hover');
    await rejectsCancelled(queued);
    assert.deepEqual(await Promise.all([busy, sidebar, newest]), ['T(slow:200)', 'T(s1)', 'T(q2)']);
  });

  test('a cancellation token cancels queued and running requests', async () => {
    const { client } = makeClient();
    const a = cancellationSource();
    const running = run(client, 'slow:3000', undefined, a.token);
    const b = cancellationSource();
    const queued = run(client, 'later', undefined, b.token);
    await new Promise((r) => setTimeout(r, 50));
    b.cancel();
    await rejectsCancelled(queued);
    a.cancel();
    await rejectsCancelled(running);
    assert.equal(a.listeners.length, 0, 'token listener disposed');
    const c = cancellationSource();
    c.cancel();
    await rejectsCancelled(run(client, 'never', undefined, c.token));
    assert.equal(await run(client, 'after'), 'T(after)');
  });

  test('a crashed worker rejects the running request and the next request respawns it', async () => {
    const { client } = makeClient();
    await client.load(model);
    await assert.rejects(run(client, 'crash'), (err: unknown) => err instanceof ModelRequestError && err.kind === 'crashed' && /exit code 3/.test(err.message));
    assert.equal(client.isLoaded(model), false, 'the loaded model is forgotten');
    assert.equal(await run(client, 'again'), 'T(again)');
    assert.equal(client.workerStarts, 2);
  });

  test('an uncaught exception in the worker is reported with its message', async () => {
    const { client } = makeClient();
    const crashing = run(client, 'throw');
    const queued = run(client, 'next');
    await assert.rejects(crashing, (err: unknown) => err instanceof ModelRequestError && err.kind === 'crashed' && /boom in worker/.test(err.message));
    // Requests queued behind the crash still run, on a fresh worker.
    assert.equal(await queued, 'T(next)');
    assert.equal(client.workerStarts, 2);
  });

  test('a worker that ignores cancellation is restarted after the grace period', async () => {
    const { client, logs } = makeClient(200);
    const hung = run(client, 'hang', 'panel');
    await new Promise((r) => setTimeout(r, 50));
    const next = run(client, 'next', 'panel');
    await rejectsCancelled(hung);
    assert.equal(await next, 'T(next)');
    assert.equal(client.workerStarts, 2);
    assert.ok(logs.some((l) => /did not stop within 200 ms/.test(l)));
  });

  test('model file errors keep the file and problem', async () => {
    const { client } = makeClient();
    await assert.rejects(client.load({ dir: '/bad' }), (err: unknown) => {
      assert.ok(err instanceof ModelRequestError);
      assert.equal(err.kind, 'model');
      assert.equal(err.file, '/bad/config.json');
      assert.equal(describeModelError(err), 'could not load model: /bad/config.json: is missing');
      return true;
    });
    assert.equal(await run(client, 'still fine'), 'T(still fine)');
  });

  test('malformed worker messages are ignored', async () => {
    const { client, logs } = makeClient();
    assert.equal(await run(client, 'garbage'), 'T(garbage)');
    assert.ok(logs.some((l) => /malformed/.test(l)));
  });

  test('an explanation whose arrays do not match its dimensions is refused, naming the part', async () => {
    const { client } = makeClient();
    await assert.rejects(run(client, 'short'), (err: unknown) => {
      assert.ok(err instanceof ModelRequestError);
      assert.equal(err.kind, 'internal');
      assert.equal(err.message, 'malformed explanation from the model worker (cross attention)');
      return true;
    });
    assert.equal(await run(client, 'x'), 'T(x)', 'the next request is answered');
  });

  test('dispose rejects everything pending and refuses new work', async () => {
    const { client } = makeClient();
    const running = run(client, 'slow:3000');
    const queued = run(client, 'x');
    client.dispose();
    await rejectsCancelled(running);
    await rejectsCancelled(queued);
    await rejectsCancelled(run(client, 'y'));
  });

  test('describeModelError wording', () => {
    assert.match(describeModelError(new ModelRequestError({ kind: 'crashed', message: 'the model worker stopped unexpectedly (exit code 1)' })), /restart with the next request/);
    assert.equal(describeModelError(new ModelRequestError({ kind: 'internal', message: 'x' })), 'the model failed: x');
    assert.equal(describeModelError(new Error('y')), 'unexpected error: y');
  });
});
