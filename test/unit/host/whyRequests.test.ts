/** Forced targets, branches and comparisons on the host side: validation, messages, and what reaches the model. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Explanation } from '../../../src/shared/explanation';
import { COMPARE_DEMO, MAX_WHY_TEXT, parseWebviewMessage, type ToWebviewMessage } from '../../../src/shared/protocol';
import { branchRequest, comparePair, handleWhy, type WhyHost } from '../../../src/host/whyRequests';
import { makeExplanation } from '../../../webview/testing/fixtures';

function fakeHost(shown?: Explanation, fail?: string) {
  const sent: ToWebviewMessage[] = [];
  const calls: Array<{ text: string; overrides?: unknown }> = [];
  const main: Explanation[] = [];
  let id = 10;
  const host: WhyHost = {
    shown: shown ? { explanation: shown, source: { uri: 'file:///x.txt', start: 0, text: shown.sourceText } } : undefined,
    models: {
      explain: async (text: string, _lane: unknown, _token?: unknown, overrides?: unknown) => {
        calls.push({ text, overrides });
        if (fail) throw new Error(fail);
        return { explanation: { ...makeExplanation(), sourceText: text }, info: {} as never };
      },
    } as WhyHost['models'],
    newRequest: () => ++id,
    send: (m) => sent.push(m),
    showMain: (_id, e) => main.push(e),
    showOriginal: () => shown !== undefined,
  };
  return { host, sent, calls, main };
}

describe('protocol: why messages from the webview', () => {
  it('accepts well-formed ones and drops the rest', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'scoreTarget', target: 'Hola' }), { type: 'scoreTarget', target: 'Hola' });
    assert.deepEqual(parseWebviewMessage({ type: 'clearTarget', extra: 1 }), { type: 'clearTarget' });
    assert.deepEqual(parseWebviewMessage({ type: 'branch', step: 2, tokenId: 7 }), { type: 'branch', step: 2, tokenId: 7 });
    assert.deepEqual(parseWebviewMessage({ type: 'compare', a: 'x', b: 'y' }), { type: 'compare', a: 'x', b: 'y' });
    for (const bad of [
      { type: 'scoreTarget' }, { type: 'scoreTarget', target: 5 }, { type: 'scoreTarget', target: 'x'.repeat(MAX_WHY_TEXT + 1) },
      { type: 'branch', step: -1, tokenId: 1 }, { type: 'branch', step: 1.5, tokenId: 1 }, { type: 'branch', step: 1 },
      { type: 'compare', a: 'x' }, { type: 'compare', a: 1, b: 'y' },
    ]) assert.equal(parseWebviewMessage(bad), undefined, JSON.stringify(bad).slice(0, 80));
  });
});

describe('comparePair and branchRequest', () => {
  it('refuses the same sentence twice and empty sentences, trims the rest', () => {
    assert.deepEqual(comparePair(' A b. ', 'B a.'), { a: 'A b.', b: 'B a.' });
    assert.match((comparePair('Same.', ' Same.') as { error: string }).error, /^Both sentences are the same \(“Same\.”\)/);
    assert.match((comparePair('', 'x') as { error: string }).error, /one of them is empty/);
  });
  it('builds the forced prefix: the tokens before the step, then the candidate', () => {
    const e = makeExplanation();
    assert.deepEqual(branchRequest(e, 1, 900), [e.targetIds[1], 900]);
    assert.deepEqual(branchRequest(e, 0, 5), [5]);
    assert.match(branchRequest(e, e.steps.length, 5) as string, /not part of this translation/);
    assert.match(branchRequest(e, 0, e.model.vocabSize) as string, /outside the model's vocabulary/);
  });
});

describe('handleWhy', () => {
  it('scores a target of the shown sentence and shows it as the main explanation', async () => {
    const shown = makeExplanation();
    const f = fakeHost(shown);
    await handleWhy(f.host, { type: 'scoreTarget', target: 'Manao ahoana' });
    assert.deepEqual(f.calls, [{ text: shown.sourceText, overrides: { target: 'Manao ahoana' } }]);
    assert.equal(f.main.length, 1);
  });
  it('an empty target or no sentence: a clear message, no model run', async () => {
    const f = fakeHost(makeExplanation());
    await handleWhy(f.host, { type: 'scoreTarget', target: '  ' });
    const g = fakeHost(undefined);
    await handleWhy(g.host, { type: 'scoreTarget', target: 'x' });
    assert.equal(f.calls.length + g.calls.length, 0);
    assert.deepEqual(f.sent.at(-1), { type: 'whyError', feature: 'target', message: 'The target translation is empty: type the translation the model should score.' });
    assert.match((g.sent.at(-1) as { message: string }).message, /Explain a sentence first/);
  });
  it('a model error comes back as a message for that tool', async () => {
    const f = fakeHost(makeExplanation(), 'the target is 300 tokens long with </s>; this model\'s decoder reads at most 256 (shorten the target)');
    await handleWhy(f.host, { type: 'scoreTarget', target: 'x' });
    const last = f.sent.at(-1) as Extract<ToWebviewMessage, { type: 'whyError' }>;
    assert.equal(last.type, 'whyError');
    assert.match(last.message, /at most 256/);
  });
  it('branches send the forced prefix and answer with a branch message', async () => {
    const shown = makeExplanation();
    const f = fakeHost(shown);
    await handleWhy(f.host, { type: 'branch', step: 1, tokenId: 900 });
    assert.deepEqual(f.calls[0].overrides, { forcedPrefix: [shown.targetIds[1], 900] });
    const last = f.sent.at(-1) as Extract<ToWebviewMessage, { type: 'branch' }>;
    assert.equal(last.type, 'branch');
    assert.equal(last.step, 1);
    assert.equal(last.tokenId, 900);
  });
  it('comparisons explain both sentences, and refuse a sentence compared with itself', async () => {
    const f = fakeHost();
    await handleWhy(f.host, { type: 'compare', a: COMPARE_DEMO.a, b: COMPARE_DEMO.b });
    assert.deepEqual(f.calls.map((c) => c.text), [COMPARE_DEMO.a, COMPARE_DEMO.b]);
    const last = f.sent.at(-1) as Extract<ToWebviewMessage, { type: 'comparison' }>;
    assert.equal(last.type, 'comparison');
    assert.equal(last.a.sourceText, COMPARE_DEMO.a);
    assert.equal(last.b.sourceText, COMPARE_DEMO.b);
    const g = fakeHost();
    await handleWhy(g.host, { type: 'compare', a: 'Same.', b: 'Same.' });
    assert.equal(g.calls.length, 0);
    assert.equal((g.sent.at(-1) as { type: string }).type, 'whyError');
  });
});
