/** The host's webview channel (panel and side view): queue until ready, validated receive, typed arrays sent as they are. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WebviewChannel, type ChannelOptions, type WebviewPort } from '../../../src/host/webviewChannel';
import type { FromWebviewMessage, ToWebviewMessage } from '../../../src/shared/protocol';
import { makeExplanation } from '../../../webview/testing/fixtures';

function fakePort() {
  const sent: ToWebviewMessage[] = [];
  let listener: ((raw: unknown) => unknown) | undefined;
  let disposed = 0;
  const port: WebviewPort = {
    postMessage: (m) => {
      sent.push(m);
      return Promise.resolve(true);
    },
    onDidReceiveMessage: (l) => {
      listener = l;
      return { dispose: () => void disposed++ };
    },
  };
  return { port, sent, receive: (raw: unknown) => listener!(raw), disposed: () => disposed };
}

function channel(extra: Partial<ChannelOptions> = {}) {
  const handled: FromWebviewMessage[] = [];
  const logs: string[] = [];
  const errors: unknown[] = [];
  const c = new WebviewChannel({ name: 'the test view', log: (m) => logs.push(m), onMessage: (m) => handled.push(m), onError: (e) => errors.push(e), ...extra });
  return { c, handled, logs, errors };
}

const progress = (requestId: number): ToWebviewMessage => ({ type: 'progress', requestId, message: `p${requestId}` });

describe('WebviewChannel', () => {
  test('holds messages until the webview says ready, then sends them in order', () => {
    const { c } = channel();
    const p = fakePort();
    c.attach(p.port);
    c.post(progress(1));
    c.post(progress(2));
    assert.deepEqual(p.sent, []);
    p.receive({ type: 'ready' });
    assert.equal(c.isReady, true);
    assert.deepEqual(p.sent, [progress(1), progress(2)]);
    c.post(progress(3));
    assert.deepEqual(p.sent.at(-1), progress(3), 'sent at once when ready');
  });

  test('queues again after the webview was torn down (hidden) until it says ready again', () => {
    const { c } = channel({ enqueue: (_q, m) => [m], onReady: (pending) => (pending.length ? pending : [progress(0)]) });
    const p = fakePort();
    c.attach(p.port);
    p.receive({ type: 'ready' });
    assert.deepEqual(p.sent, [progress(0)], 'onReady decides what a fresh webview gets');
    c.notReady();
    c.post(progress(1));
    c.post(progress(2));
    p.receive({ type: 'ready' });
    assert.deepEqual(p.sent, [progress(0), progress(2)], 'the enqueue policy kept only the newest');
  });

  test('hands only valid messages on; invalid ones are logged and dropped; handler failures are reported', async () => {
    const { c, handled, logs, errors } = channel({
      onMessage: (m) => (m.type === 'openPanel' ? Promise.reject(new Error('boom')) : void handled.push(m)),
    });
    const p = fakePort();
    c.attach(p.port);
    p.receive({ type: 'revealSource', start: 3, end: 1 });
    p.receive({ type: 'export', format: 'exe', fileName: 'x', data: '' });
    p.receive('ready');
    assert.deepEqual(handled, []);
    assert.equal(logs.filter((l) => l === 'ignored an invalid message from the test view').length, 3);
    p.receive({ type: 'revealSource', start: 1, end: 3, extra: '<script>' });
    assert.deepEqual(handled, [{ type: 'revealSource', start: 1, end: 3 }], 'a copy with only the known fields');
    p.receive({ type: 'openPanel' });
    await new Promise((r) => setImmediate(r));
    assert.equal((errors[0] as Error).message, 'boom');
  });

  test('an explanation goes out with its Float32Arrays (VS Code transfers them as binary), not converted to numbers', () => {
    const { c } = channel();
    const p = fakePort();
    c.attach(p.port);
    p.receive({ type: 'ready' });
    const explanation = makeExplanation();
    c.post({ type: 'explanation', requestId: 1, explanation });
    const sent = p.sent[0] as Extract<ToWebviewMessage, { type: 'explanation' }>;
    assert.equal(sent.explanation.attentions.cross.weights, explanation.attentions.cross.weights, 'the same array, not a copy');
    assert.ok(sent.explanation.positional.values instanceof Float32Array);
  });

  test('detach stops listening, sending and queueing', () => {
    const { c } = channel();
    const p = fakePort();
    c.attach(p.port);
    c.post(progress(1));
    c.detach();
    assert.equal(p.disposed(), 1);
    c.post(progress(2));
    assert.deepEqual(p.sent, []);
  });
});
