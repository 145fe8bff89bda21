/** The side view in jsdom: live translation, token probabilities, openPanel requests, status messages. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JSDOM } from 'jsdom';
import type { FromWebviewMessage } from '../../../src/shared/protocol';
import { startSidebar, sidebarTokens, type PersistedSidebarState } from '../../../webview/sidebar/app';
import { XSS, fakeVsCodeApi, makeExplanation } from '../../../webview/testing/fixtures';

function boot(saved?: PersistedSidebarState) {
  const dom = new JSDOM('<!doctype html><html><body class="vscode-light"></body></html>');
  const win = dom.window as unknown as Window & typeof globalThis;
  const doc = win.document;
  const api = fakeVsCodeApi<PersistedSidebarState>(saved);
  const app = startSidebar(doc, api);
  return {
    doc,
    api,
    app,
    $: (s: string) => doc.querySelector<HTMLElement>(s),
    $$: (s: string) => Array.from(doc.querySelectorAll<HTMLElement>(s)),
    send: (data: unknown) => win.dispatchEvent(new win.MessageEvent('message', { data })),
    posted: () => api.posted as FromWebviewMessage[],
  };
}

describe('side view', () => {
  it('posts ready and waits for a selection', () => {
    const h = boot();
    assert.deepEqual(h.posted(), [{ type: 'ready' }]);
    assert.match(h.$('#status')!.textContent!, /Select text/);
    assert.ok(h.$('#result')!.hasAttribute('hidden'));
  });

  it('shows the translation and one token per output piece with its probability', () => {
    const h = boot();
    const e = makeExplanation();
    h.send({ type: 'translation', requestId: 1, explanation: e });
    assert.equal(h.$('#translation')!.textContent, e.translation);
    const tokens = h.$$('#target-tokens .token');
    assert.equal(tokens.length, e.targetPieces.length - 1);
    assert.deepEqual(tokens.map((t) => t.querySelector('.token-text')!.textContent), e.targetPieces.slice(1));
    assert.deepEqual(tokens.map((t) => t.querySelector('.token-prob')!.textContent), ['50%', '60%', '70%']);
    assert.equal((tokens[2].querySelector('.prob-bar') as HTMLElement).style.width, '70%');
    assert.equal(h.$('#status')!.textContent, '');
    assert.deepEqual(h.api.state, { translation: e.translation, tokens: sidebarTokens(e) });
  });

  it('asks the host to open the full view on the clicked token’s step', () => {
    const h = boot();
    h.send({ type: 'translation', requestId: 1, explanation: makeExplanation() });
    h.$$('#target-tokens .token')[1].click();
    h.$('#open-panel')!.click();
    assert.deepEqual(h.posted().slice(1), [{ type: 'openPanel', step: 1 }, { type: 'openPanel' }]);
  });

  it('keeps hostile text as text', () => {
    const h = boot();
    const e = makeExplanation({ generated: [XSS, '</s>'], translation: XSS });
    h.send({ type: 'translation', requestId: 1, explanation: e });
    assert.equal(h.doc.querySelectorAll('img').length, 0);
    assert.equal(h.$('#translation')!.textContent, XSS);
    assert.equal(h.$('#target-tokens .token .token-text')!.textContent, XSS);
  });

  it('shows progress, errors, notices and idle messages in #status', () => {
    const h = boot();
    h.send({ type: 'translation', requestId: 1, explanation: makeExplanation(), notice: 'Truncated to 64 tokens.' });
    assert.equal(h.$('#status')!.textContent, 'Truncated to 64 tokens.');
    assert.ok(h.$('#status')!.classList.contains('notice'));
    h.send({ type: 'progress', requestId: 2, message: 'Translating…' });
    assert.equal(h.$('#status')!.textContent, 'Translating…');
    assert.ok(h.$('#result')!.classList.contains('stale'), 'old translation is dimmed while a new one runs');
    h.send({ type: 'progress', requestId: 1, message: 'old request' });
    assert.equal(h.$('#status')!.textContent, 'Translating…');
    h.send({ type: 'error', requestId: 2, message: 'Model not loaded' });
    assert.equal(h.$('#status')!.textContent, 'Model not loaded');
    assert.ok(h.$('#status')!.classList.contains('error'));
    assert.equal(h.$$('#target-tokens .token').length, 3, 'previous translation kept on error');
    h.send({ type: 'idle', message: 'Select text to translate.' });
    assert.equal(h.$('#status')!.textContent, 'Select text to translate.');
    assert.equal(h.$$('#target-tokens .token').length, 0);
    assert.ok(h.$('#result')!.hasAttribute('hidden'));
    assert.equal(h.api.state, undefined);
  });

  it('restores the last translation after a reload', () => {
    const first = boot();
    first.send({ type: 'translation', requestId: 1, explanation: makeExplanation() });
    const h = boot(first.api.state);
    assert.equal(h.$('#translation')!.textContent, 'Salama tompoko');
    assert.equal(h.$$('#target-tokens .token').length, 3);
    assert.equal(h.app.shown()?.tokens[0].prob, 0.5);
  });
});
