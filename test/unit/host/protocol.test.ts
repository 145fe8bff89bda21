/** Messages crossing the host boundary: webview → host validation and worker → host shape checks. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseWebviewMessage, sidebarExplanation } from '../../../src/shared/protocol';
import { MessageChannel } from 'node:worker_threads';
import { checkExplanation, isWorkerResponse, shareExplanation } from '../../../src/worker/workerProtocol';
import { explanationToJson } from '../../../src/shared/attention';
import { ATTENTION_KINDS, type Explanation } from '../../../src/shared/explanation';
import { explain, loadModelFolder } from '../../../src/model';
import { BUNDLED_MODEL } from '../../helpers/golden';

const viewState = { kind: 'cross', layer: 1, head: 2, aggregation: 'mean', colorScheme: 'theme', selectedStep: -1, peDimensions: [0, 1], colorScale: 'matrix', zoom: 'fit' };

describe('parseWebviewMessage (what the host accepts from webviews)', () => {
  test('accepts each well-formed message', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseWebviewMessage({ type: 'viewState', state: viewState }), { type: 'viewState', state: viewState });
    // a state saved by 0.2.0 has no colour scale or zoom: the defaults
    const { colorScale: _s, zoom: _z, ...older } = viewState;
    assert.deepEqual(parseWebviewMessage({ type: 'viewState', state: older }), { type: 'viewState', state: { ...older, colorScale: 'absolute', zoom: 1 } });
    assert.deepEqual(parseWebviewMessage({ type: 'export', format: 'png', fileName: 'attention.png', data: 'data:image/png;base64,AA==' }), {
      type: 'export',
      format: 'png',
      fileName: 'attention.png',
      data: 'data:image/png;base64,AA==',
    });
    assert.deepEqual(parseWebviewMessage({ type: 'revealSource', start: 2, end: 5 }), { type: 'revealSource', start: 2, end: 5 });
    assert.deepEqual(parseWebviewMessage({ type: 'openPanel', step: 3 }), { type: 'openPanel', step: 3 });
    assert.deepEqual(parseWebviewMessage({ type: 'openPanel' }), { type: 'openPanel', step: undefined });
    assert.deepEqual(parseWebviewMessage({ type: 'openPanel', step: 1, sentence: 2 }), { type: 'openPanel', step: 1, sentence: 2 });
    assert.deepEqual(parseWebviewMessage({ type: 'selectSentence', index: 3 }), { type: 'selectSentence', index: 3 });
  });

  test('drops unknown extra fields', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready', evil: '<script>' }), { type: 'ready' });
  });

  const malformed: Array<[string, unknown]> = [
    ['null', null],
    ['string', 'ready'],
    ['array', [{ type: 'ready' }]],
    ['unknown type', { type: 'runCommand', command: 'workbench.action.quit' }],
    ['no type', {}],
    ['viewState without state', { type: 'viewState' }],
    ['viewState with bad kind', { type: 'viewState', state: { ...viewState, kind: 'evil' } }],
    ['viewState with negative layer', { type: 'viewState', state: { ...viewState, layer: -1 } }],
    ['viewState with fractional head', { type: 'viewState', state: { ...viewState, head: 1.5 } }],
    ['viewState with huge peDimensions', { type: 'viewState', state: { ...viewState, peDimensions: new Array(65).fill(0) } }],
    ['viewState with an unknown zoom', { type: 'viewState', state: { ...viewState, zoom: 3 } }],
    ['viewState with an unknown colour scale', { type: 'viewState', state: { ...viewState, colorScale: 'log' } }],
    ['export with bad format', { type: 'export', format: 'exe', fileName: 'a.exe', data: '' }],
    ['export with path traversal', { type: 'export', format: 'json', fileName: '../../.bashrc', data: '{}' }],
    ['export with slash', { type: 'export', format: 'json', fileName: 'a/b.json', data: '{}' }],
    ['export without data', { type: 'export', format: 'json', fileName: 'a.json' }],
    ['revealSource reversed', { type: 'revealSource', start: 5, end: 2 }],
    ['revealSource strings', { type: 'revealSource', start: '1', end: '2' }],
    ['revealSource negative', { type: 'revealSource', start: -1, end: 2 }],
    ['openPanel with bad step', { type: 'openPanel', step: 'x' }],
    ['openPanel with negative step', { type: 'openPanel', step: -2 }],
    ['openPanel with fractional sentence', { type: 'openPanel', sentence: 1.5 }],
    ['selectSentence without index', { type: 'selectSentence' }],
    ['selectSentence with negative index', { type: 'selectSentence', index: -1 }],
  ];
  for (const [name, raw] of malformed) {
    test(`rejects ${name}`, () => assert.equal(parseWebviewMessage(raw), undefined));
  }
});

describe('isWorkerResponse', () => {
  test('accepts the four response kinds', () => {
    const info = { folder: '/m', summary: {}, maxSourceTokens: 8, loadMs: 1 };
    assert.ok(isWorkerResponse({ type: 'loaded', id: 1, info }));
    assert.ok(isWorkerResponse({ type: 'explained', id: 1, info, explanation: {} }));
    assert.ok(isWorkerResponse({ type: 'translated', id: 1, info, text: 'x', ids: [1] }));
    assert.ok(isWorkerResponse({ type: 'failed', id: 1, error: { kind: 'model', message: 'm' } }));
  });

  test('rejects malformed ones', () => {
    assert.ok(!isWorkerResponse(null));
    assert.ok(!isWorkerResponse({ type: 'loaded', id: 'x', info: {} }));
    assert.ok(!isWorkerResponse({ type: 'explained', id: 1, info: {} }));
    assert.ok(!isWorkerResponse({ type: 'failed', id: 1, error: 'boom' }));
    assert.ok(!isWorkerResponse({ type: 'other', id: 1 }));
  });
});

describe('explanations cross from the worker in shared memory', () => {
  const lm = loadModelFolder(BUNDLED_MODEL, { name: 'bundled' });
  const e = explain(lm, 'The lion kills the tiger.');

  test('the big arrays are shared (posting detaches nothing) and arrive as the same numbers', async () => {
    const shared = shareExplanation(e);
    const arrays = [...ATTENTION_KINDS.map((k) => shared.attentions[k].weights), shared.positional.values];
    assert.ok(arrays.every((f) => f instanceof Float32Array && f.buffer instanceof SharedArrayBuffer), 'a transferred ArrayBuffer would slow the worker');
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<Explanation>((resolve) => port2.once('message', resolve));
    port1.postMessage(shared);
    const back = await received;
    port1.close();
    assert.ok(arrays.every((f) => f.length > 0), 'nothing detached on the sending side');
    back.attentions.encoder.weights[0] = 42; // the same memory, not a copy
    assert.equal(shared.attentions.encoder.weights[0], 42);
    back.attentions.encoder.weights[0] = e.attentions.encoder.weights[0];
    assert.deepEqual(checkExplanation(back), e);
  });

  test('the host rejects arrays whose size does not match the dimensions', () => {
    const short = { ...e, attentions: { ...e.attentions, cross: { ...e.attentions.cross, weights: e.attentions.cross.weights.subarray(1) } } };
    assert.throws(() => checkExplanation(short), /malformed explanation from the model worker \(cross attention\)/);
    const plain = { ...e, positional: { ...e.positional, values: Array.from(e.positional.values) } } as unknown as Explanation;
    assert.throws(() => checkExplanation(plain), /\(positional encodings\)/);
  });
});

describe('each view receives what it reads', () => {
  test('the side view gets the translation, pieces and steps of an explanation, no attention or positions', () => {
    const e = explain(loadModelFolder(BUNDLED_MODEL, { name: 'bundled' }), 'The lion kills the tiger.');
    const slim = sidebarExplanation(e);
    assert.deepEqual(Object.keys(slim).sort(), ['steps', 'targetPieces', 'translation', 'truncated']);
    assert.equal(slim.translation, e.translation);
    assert.deepEqual(slim.steps, e.steps);
    assert.ok(JSON.stringify(slim).length < JSON.stringify(explanationToJson(e)).length / 20, 'a small fraction of the whole');
  });
});
