/**
 * The walk-through in the real workbench (code-server + Chromium, the packaged .vsix): a sentence is explained, a
 * generated token is clicked, and the q·k values the walk-through shows are the engine's (computed here in the test
 * process); the palette's "Walk through an example" opens "Let's go." on its first token.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { explain } from '../../src/model';
import { bundledModel } from './engine';
import { traceIds } from '../../src/model/explain/trace';
import { DEFAULTS } from '../../src/host/settings';
import { WALKTHROUGH_EXAMPLE } from '../../src/shared/trace';
import { short } from '../../webview/panel/walkthrough/strip';
import { useWorkbench } from './session';
import { eventually, runCommand, screenshot, selectLine, webviewFrame } from './workbench';

const SENTENCE = 'The lion kills the tiger.';

const model = bundledModel;

describe('walk-through in the workbench', { timeout: 10 * 60_000 }, () => {
  const s = useWorkbench('walkthrough', { open: { file: 'sample.txt', text: SENTENCE } });

  test('click a generated token: the walk-through shows the engine\'s q·k values', async () => {
    const want = explain(model(), SENTENCE, { numBeams: DEFAULTS.beams, topK: DEFAULTS.topK });
    await selectLine(s.page, SENTENCE);
    await runCommand(s.page, 'Explain attention for selection');
    const panel = webviewFrame(s.page, 'panel');
    await eventually(async () => {
      assert.deepEqual(await panel.locator('#target-tokens .token').allTextContents(), want.targetPieces.slice(1));
    }, 60_000, 'the panel to show the translation');
    // generated token 2 was chosen at decoder input 2
    await panel.locator('#target-tokens .token').nth(2).click();
    const title = panel.locator('#wt-title');
    await eventually(async () => assert.match((await title.textContent()) ?? '', new RegExp(`Decoder input token 2 ${want.targetPieces[2]} .*next target token, ${want.targetPieces[3]}\\.`)), 60_000, 'the walk-through of decoder input 2');
    const engine = traceIds(model(), want.sourceIds, want.targetIds, { side: 'target', token: 2 });
    await panel.locator('#walkthrough').scrollIntoViewIfNeeded();
    await screenshot(s.page, 'walk-01-input');

    await panel.locator('#wt-next-step').click();
    await panel.locator('#wt-next-step').click();
    await eventually(async () => assert.match((await panel.locator('#wt-step-title').textContent()) ?? '', /^\(3\) Scores/), 10_000, 'step (3)');
    const scores = panel.locator('#wt-scores .wt-score');
    const head0 = engine.layers[0].attention[0].heads[0];
    assert.deepEqual((await scores.evaluateAll((ns) => ns.map((n) => (n as HTMLElement).dataset.value))).map(Number), head0.scores, 'q·k, exactly');
    assert.deepEqual(await scores.allTextContents(), head0.scores.map(short), 'q·k as shown');
    assert.match((await panel.locator('#wt-heatmap-check').textContent()) ?? '', /✓/);
    await panel.locator('#wt-step').scrollIntoViewIfNeeded();
    await screenshot(s.page, 'walk-02-scores');

    // the encoder–decoder attention of layer 2, head 3, through the controls
    await panel.locator('#wt-layer').selectOption('1');
    await panel.locator('#wt-head').selectOption('2');
    for (let i = 0; i < 8 && !/^\(3\).*encoder–decoder/.test((await panel.locator('#wt-step-title').textContent()) ?? ''); i++) await panel.locator('#wt-next-step').click();
    assert.match((await panel.locator('#wt-step-title').textContent()) ?? '', /^\(3\).*encoder–decoder/);
    const cross = engine.layers[1].attention[1].heads[2];
    assert.deepEqual((await scores.evaluateAll((ns) => ns.map((n) => (n as HTMLElement).dataset.value))).map(Number), cross.scores);
    // a strip read with the keyboard, zoomed
    await panel.locator('#wt-prev-step').click();
    const strip = panel.locator('#wt-step .wt-strip-cells').nth(1);
    await strip.focus();
    await strip.press('ArrowRight');
    await strip.press('+');
    assert.equal(await panel.locator('#wt-step .wt-strip-readout').nth(1).textContent(), `dim 1: ${String(cross.q[1])}`);
    await screenshot(s.page, 'walk-03-strips');
    assert.deepEqual(s.pageErrors, []);
  });

  test('the palette\'s "Walk through an example" explains Let\'s go. and opens its first token', async () => {
    await runCommand(s.page, 'Attention Lens: Walk through an example');
    const panel = webviewFrame(s.page, 'panel');
    const sourceIds = model().tokenizer.encode(WALKTHROUGH_EXAMPLE).ids;
    await eventually(async () => assert.match((await panel.locator('#wt-title').textContent()) ?? '', /Source token 0 ▁Let of 6/), 60_000, 'the example\'s walk-through');
    assert.equal(await panel.locator('#source-tokens .token').count(), sourceIds.length);
    assert.match((await panel.locator('#wt-pe-check').textContent()) ?? '', /✓/);
    await panel.locator('#walkthrough').scrollIntoViewIfNeeded();
    await screenshot(s.page, 'walk-04-example');
    assert.deepEqual(s.pageErrors, []);
  });
});
