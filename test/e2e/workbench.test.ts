/**
 * End to end in a real VS Code workbench (code-server 4.100.3 = VS Code 1.100.3) driven in Debian's Chromium:
 * the packaged .vsix is installed into a throwaway profile, `samples/` is opened, and one browser session goes
 * through the command palette, the attention panel, the editor hover, the activity-bar view and an HTML-looking
 * selection. Expected tokens and translations come from the real engine, run here in the test process.
 *
 * Needs `npm run e2e:setup` once (code-server + chromium); fails, never skips, when they are missing.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { explain, type Explanation } from '../../src/model';
import { bundledModel } from './engine';
import { piecesInRange, topAttended } from '../../src/host/hoverMarkdown';
import { DEFAULTS } from '../../src/host/settings';
import { useWorkbench } from './session';
import {
  canvasPaint, editorLine, eventually, isPainted, runCommand, screenshot,
  selectLine, visibleHover, webviewFrame, wordCenter,
} from './workbench';

const SENTENCE = 'The lion kills the tiger.';
const HTML_LINE = '<img src=x onerror=alert(1)>';
const COMMAND_TITLE = 'Explain attention for selection';
const CONTAINER_TITLE = 'Attention Lens';
const HEAD_THUMBS = 3 * 3 * 4; // kinds (encoder, decoder, cross) × layers × heads of the bundled checkpoint

/** What the extension computes for `text` with its default settings. */
function expected(text: string): Explanation {
  return explain(bundledModel(), text, { numBeams: DEFAULTS.beams, topK: DEFAULTS.topK, maxNewTokens: DEFAULTS.maxTokens });
}

describe('Attention Lens in the VS Code workbench', { timeout: 10 * 60_000 }, () => {
  const s = useWorkbench('workbench', { open: { file: 'sample.txt', text: SENTENCE }, recordDialogs: true, finalScreenshot: 'zz-final' });

  test('command palette explains the selection in the attention panel', async () => {
    const want = expected(SENTENCE);
    assert.equal(want.steps.length, want.targetPieces.length - 1, 'engine: one decoding step per generated token');
    await selectLine(s.page, SENTENCE);
    await runCommand(s.page, COMMAND_TITLE);

    await s.page.locator('.tabs-container .tab', { hasText: `Attention: ${SENTENCE.slice(0, 30)}` }).first().waitFor({ timeout: 30_000 });
    const panel = webviewFrame(s.page, 'panel');
    await eventually(async () => {
      assert.deepEqual(await panel.locator('#source-tokens .token').allTextContents(), want.sourcePieces);
    }, 60_000, 'the panel to show the source tokens');
    assert.equal((await panel.locator('#translation').textContent())?.trim(), want.translation);
    assert.deepEqual(await panel.locator('#target-tokens .token').allTextContents(), want.targetPieces.slice(1));

    // every head thumbnail (3 kinds × 3 layers × 4 heads) is actually painted
    const thumbs = panel.locator('#overview canvas.head-thumb');
    await eventually(async () => assert.equal(await thumbs.count(), HEAD_THUMBS), 30_000, `${HEAD_THUMBS} head thumbnails`);
    const keys = await thumbs.evaluateAll((cs) => cs.map((c) => `${c.getAttribute('data-kind')}/${c.getAttribute('data-layer')}/${c.getAttribute('data-head')}`));
    assert.equal(new Set(keys).size, HEAD_THUMBS, `distinct data-kind/layer/head: ${keys.join(' ')}`);
    for (const kind of ['encoder', 'decoder', 'cross']) {
      assert.equal(keys.filter((k) => k.startsWith(`${kind}/`)).length, 12, `${kind} thumbnails`);
    }
    await eventually(async () => {
      const paint = await canvasPaint(panel, '#overview canvas.head-thumb');
      const blank = paint.filter((p) => !isPainted(p));
      assert.equal(blank.length, 0, `blank head thumbnails: ${JSON.stringify(blank)}`);
    }, 30_000, 'every head thumbnail to be painted');

    // positional encodings: curves and heatmap
    assert.ok((await panel.locator('svg#pe-curves path').count()) > 0, 'svg#pe-curves has paths');
    const peHeatmap = await canvasPaint(panel, 'canvas#pe-heatmap');
    assert.equal(peHeatmap.length, 1, 'canvas#pe-heatmap exists');
    assert.ok(isPainted(peHeatmap[0]), `canvas#pe-heatmap painted: ${JSON.stringify(peHeatmap[0])}`);

    // one decoding step per generated token, each with candidates and a chosen one
    const steps = panel.locator('#steps .step');
    assert.equal(await steps.count(), want.steps.length, 'decoding steps');
    const perStep = await steps.evaluateAll((els) => els.map((s) => ({
      candidates: s.querySelectorAll('.candidate').length,
      chosen: s.querySelectorAll('.candidate.chosen').length,
    })));
    perStep.forEach((s, i) => {
      assert.ok(s.candidates > 0, `step ${i + 1} has candidates`);
      assert.ok(s.chosen >= 1, `step ${i + 1} marks the chosen candidate`);
    });
    await screenshot(s.page, '01-panel');
    await panel.locator('#steps').scrollIntoViewIfNeeded();
    await screenshot(s.page, '01b-panel-steps');
  });

  test('hovering a word of the explained line shows attention weights', async () => {
    const hover = visibleHover(s.page);
    let text = '';
    await eventually(async () => {
      const { x, y } = await wordCenter(s.page, SENTENCE, 'lion');
      await s.page.mouse.move(x, y - 60);
      await s.page.mouse.move(x, y, { steps: 6 });
      await hover.filter({ hasText: 'Attention Lens' }).first().waitFor({ timeout: 5_000 });
      text = (await hover.filter({ hasText: 'Attention Lens' }).first().innerText()).replace(/\s+/g, ' ');
    }, 30_000, 'the Attention Lens hover');
    assert.match(text, /Attention Lens/);
    assert.match(text, /\b0?\.\d{2}|\d\s?%/, `hover shows attention weights: ${text}`);
    // the weights are the engine's: encoder self-attention of "lion" under the default hover aggregation
    const want = expected(SENTENCE);
    const start = SENTENCE.indexOf('lion');
    const top = topAttended(want.attentions.encoder, piecesInRange(want.sourceOffsets, start, start + 4), {
      aggregation: DEFAULTS.hoverAggregation, layer: DEFAULTS.hoverLayer, head: DEFAULTS.hoverHead,
    }, 3).tokens;
    const shown = (text.match(/\d*\.\d+/g) ?? []).map(Number);
    for (const t of top) {
      assert.ok(shown.some((v) => Math.abs(v - t.weight) < 0.006 || Math.abs(v - 100 * t.weight) < 0.6),
        `hover shows the weight ${t.weight.toFixed(3)} of "${t.piece}": ${text}`);
    }
    await screenshot(s.page, '02-hover');
    // dismiss by moving away (Escape would also cancel the editor selection the next test relies on)
    await s.page.mouse.move(5, 500);
    await hover.first().waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
  });

  test('the activity-bar view shows the translation of the current selection', async () => {
    const want = expected(SENTENCE);
    const selection = s.page.locator('.statusbar-item[id="status.editor.selection"]');
    assert.match(await selection.innerText(), new RegExp(`\\(${SENTENCE.length} selected\\)`), 'the sentence is still selected');
    await s.page.locator(`.activitybar a.action-label[aria-label="${CONTAINER_TITLE}"]`).click();
    const side = webviewFrame(s.page, 'sideView');
    await eventually(async () => {
      const status = (await side.locator('#status').textContent().catch(() => null))?.trim();
      assert.equal((await side.locator('#translation').textContent())?.trim(), want.translation, `side view #status: "${status}"`);
    }, 60_000, 'the side view translation');
    await screenshot(s.page, '03-side-view');
  });

  test('a selection that looks like HTML is shown as text, never run', async () => {
    const want = expected(HTML_LINE);
    await editorLine(s.page, HTML_LINE).waitFor();
    await selectLine(s.page, HTML_LINE);
    await runCommand(s.page, COMMAND_TITLE);

    const tab = s.page.locator('.tabs-container .tab', { hasText: `Attention: ${HTML_LINE.slice(0, 30)}` }).first();
    await tab.waitFor({ timeout: 30_000 });
    assert.equal(await tab.locator('img').count(), 0, 'no <img> element in the tab title');
    const panel = webviewFrame(s.page, 'panel');
    await eventually(async () => {
      assert.deepEqual(await panel.locator('#source-tokens .token').allTextContents(), want.sourcePieces);
    }, 60_000, 'the panel to show the HTML-looking source tokens');
    const sourceText = (await panel.locator('#source-tokens').textContent()) ?? '';
    // SentencePiece has no "<" in this vocabulary, so the pieces read "▁<unk>img…": the literal "<" must be text
    assert.ok(sourceText.includes('<'), `#source-tokens shows a literal "<": ${sourceText}`);
    if (want.sourcePieces.join('').includes('<img')) assert.ok(sourceText.includes('<img'), sourceText);
    // the tab title (waited for above) carries the raw selection as literal text
    assert.equal(await panel.locator('img').count(), 0, 'no <img> element in the panel');
    assert.equal(await panel.locator('unk').count(), 0, 'no <unk> element in the panel');
    const side = webviewFrame(s.page, 'sideView');
    assert.equal(await side.locator('img').count(), 0, 'no <img> element in the side view');
    await s.page.waitForTimeout(1_000); // an onerror handler would have fired by now
    assert.deepEqual(s.dialogs, [], 'no dialog opened');
    await panel.locator('#source-tokens').scrollIntoViewIfNeeded();
    await screenshot(s.page, '04-xss');
  });

  test('no s.dialogs and no uncaught s.page errors from the extension', () => {
    assert.deepEqual(s.dialogs, []);
    const ours = s.pageErrors.filter((m) => /attention|lens|webview/i.test(m));
    assert.deepEqual(ours, [], `s.page errors: ${s.pageErrors.join('\n')}`);
  });
});
