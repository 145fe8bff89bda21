/**
 * "Why this word?" in the real workbench (code-server + Chromium, the packaged .vsix): a translation typed into
 * the panel is scored and its probabilities read back; the lion/tiger comparison demo renders both sides. Expected
 * numbers come from the engine, run here in the test process.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { explain } from '../../src/model';
import { bundledModel } from './engine';
import { DEFAULTS } from '../../src/host/settings';
import { COMPARE_DEMO } from '../../src/shared/protocol';
import { formatProb } from '../../webview/panel/why/forcedTarget';
import { useWorkbench } from './session';
import { eventually, runCommand, screenshot, showInPalette, selectLine, webviewFrame } from './workbench';

const SENTENCE = 'The lion kills the tiger.';
const TARGET = 'El tigre mata al león.';

const model = bundledModel;

describe('Why this word? in the workbench', { timeout: 10 * 60_000 }, () => {
  const s = useWorkbench('why', { open: { file: 'sample.txt', text: SENTENCE } });

  test('a typed target is scored: probability and rank per token', async () => {
    const want = explain(model(), SENTENCE, { topK: DEFAULTS.topK, target: TARGET });
    await selectLine(s.page, SENTENCE);
    await runCommand(s.page, 'Explain attention for selection');
    const panel = webviewFrame(s.page, 'panel');
    await eventually(async () => assert.ok((await panel.locator('#source-tokens .token').count()) > 0), 60_000, 'the panel to explain the sentence');
    const input = panel.locator('#forced-input');
    await input.scrollIntoViewIfNeeded();
    await input.fill(TARGET);
    await input.press('Enter');
    const rows = panel.locator('#forced-table tbody tr');
    await eventually(async () => assert.equal(await rows.count(), want.steps.length), 60_000, 'the scored target');
    assert.deepEqual(await rows.locator('.forced-prob').allTextContents(), want.steps.map((s) => formatProb(s.chosenProb)));
    assert.deepEqual(await rows.locator('.forced-rank').allTextContents(), want.steps.map((s) => (s.chosenRank === 1 ? '1st (model’s choice)' : `#${s.chosenRank}`)));
    assert.match((await panel.locator('#forced-logprob').textContent()) ?? '', new RegExp(`log-probability ${want.logProb!.toFixed(3).replace('-', '\\-')}`));
    // every view follows the target: the panel's target tokens are the typed translation's
    assert.deepEqual(await panel.locator('#target-tokens .token').allTextContents(), want.targetPieces.slice(1));
    await panel.locator('#forced').scrollIntoViewIfNeeded();
    await screenshot(s.page, 'why-01-forced-target');
    await panel.locator('#logit-lens').scrollIntoViewIfNeeded();
    assert.equal(await panel.locator('#lens-grid tbody tr').count(), model().config.decoderLayers);
    await screenshot(s.page, 'why-02-logit-lens');
    await panel.locator('#head-view').scrollIntoViewIfNeeded();
    // collapsed until opened (drawn only while open)
    await panel.locator('#hv-summary').click();
    await panel.locator('#hv-drawing line').first().waitFor({ state: 'attached' });
    assert.ok((await panel.locator('#hv-drawing line').count()) > 0, 'the head view draws lines');
    await screenshot(s.page, 'why-03-head-view');
  });

  test('alternatives: a candidate branches and shows beside the original', async () => {
    const panel = webviewFrame(s.page, 'panel');
    await panel.locator('#forced-clear').click();
    await eventually(async () => assert.equal(await panel.locator('#forced-clear').isHidden(), true), 30_000, 'the model’s own translation again');
    const cand = panel.locator('#alt-picker .alt-candidate').first();
    await cand.scrollIntoViewIfNeeded();
    await cand.click();
    await eventually(async () => assert.ok((await panel.locator('#alt-branch tbody tr').count()) > 0), 60_000, 'the branch');
    assert.equal((await panel.locator('#alt-original .alt-translation').textContent())?.trim(), explain(model(), SENTENCE, { topK: DEFAULTS.topK }).translation);
    await panel.locator('#alternatives').scrollIntoViewIfNeeded();
    await screenshot(s.page, 'why-04-alternatives');
  });

  test('the comparison demo renders both sides', async () => {
    const a = explain(model(), COMPARE_DEMO.a, { topK: DEFAULTS.topK }), b = explain(model(), COMPARE_DEMO.b, { topK: DEFAULTS.topK });
    const panel = webviewFrame(s.page, 'panel');
    const demo = panel.locator('#compare-demo');
    await demo.scrollIntoViewIfNeeded();
    await demo.click();
    await eventually(async () => {
      assert.equal((await panel.locator('#compare-side-a .alt-translation').textContent())?.trim(), a.translation);
      assert.equal((await panel.locator('#compare-side-b .alt-translation').textContent())?.trim(), b.translation);
    }, 60_000, 'both translations');
    const differing = a.sourceIds.filter((id, p) => id !== b.sourceIds[p]).length;
    assert.equal(await panel.locator('#compare-table tbody tr.differs').count(), differing);
    assert.equal(await panel.locator('#compare-diff rect.diff-cell').count(), a.sourceIds.length ** 2);
    await panel.locator('#compare').scrollIntoViewIfNeeded();
    await screenshot(s.page, 'why-05-compare');
    await panel.locator('#compare-diff').scrollIntoViewIfNeeded();
    await screenshot(s.page, 'why-06-compare-diff');
  });

  test('"Attention Lens: Compare with…" compares the selection with a typed sentence', async () => {
    const other = 'Attention is all you need.';
    await selectLine(s.page, SENTENCE);
    await showInPalette(s.page, 'Attention Lens: Compare with', 'Compare with');
    const widget = s.page.locator('.quick-input-widget');
    await s.page.keyboard.press('Enter');
    // the input box asks for the second sentence, prefilled with the first
    await widget.locator('.quick-input-message', { hasText: 'Compare “The lion kills the tiger.”' }).waitFor({ timeout: 20_000 });
    const input = widget.locator('input').first();
    await input.fill(other);
    await s.page.keyboard.press('Enter');
    const panel = webviewFrame(s.page, 'panel');
    const want = explain(model(), other, { topK: DEFAULTS.topK });
    await eventually(async () => {
      assert.equal((await panel.locator('#compare-side-b .alt-translation').textContent())?.trim(), want.translation);
    }, 60_000, 'the comparison from the command');
    assert.equal((await panel.locator('#compare-side-a h4').textContent())?.trim(), `A: ${SENTENCE}`);
    await screenshot(s.page, 'why-07-compare-command');
    const ours = s.pageErrors.filter((m) => /attention|lens|webview/i.test(m));
    assert.deepEqual(ours, [], `s.page errors: ${s.pageErrors.join('\n')}`);
  });
});
