/**
 * "Attention Lens: Train a tiny transformer…" in the real workbench (code-server + Chromium, the packaged .vsix):
 * the panel opens on the "let's go" task, Start trains in the worker until both probe sentences come out right,
 * and the loss curve and heatmaps are drawn; "Explain at this step" opens the attention panel on the first probe
 * with the weights as they are, the status bar naming the step.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useWorkbench } from './session';
import { eventually, runCommand, screenshot, webviewFrame } from './workbench';

describe('training panel in the workbench', { timeout: 10 * 60_000 }, () => {
  const s = useWorkbench('train', { open: { file: 'sample.txt', text: 'The lion kills the tiger.' } });

  test('Start trains the toy task until both probes are right', async () => {
    await runCommand(s.page, 'Attention Lens: Train a tiny transformer');
    const panel = webviewFrame(s.page, 'panel');
    await panel.locator('h1', { hasText: 'Train a tiny transformer' }).waitFor({ timeout: 60_000 });
    await panel.locator('button', { hasText: 'Start' }).click();
    // the toy task converges in a few hundred steps: every probe row turns right
    await eventually(async () => {
      const right = await panel.locator('.train-probes td.probe-right').count();
      const wrong = await panel.locator('.train-probes td.probe-wrong').count();
      assert.ok(right >= 2 && wrong === 0, `probes right ${right}, wrong ${wrong}`);
    }, 120_000, 'both probe translations to be right');
    await panel.locator('button', { hasText: 'Pause' }).click();
    assert.ok((await panel.locator('svg path').count()) > 0, 'a loss curve is drawn');
    await screenshot(s.page, 'train-panel');
    assert.deepEqual(s.pageErrors.filter((m) => /attention|lens|webview/i.test(m)), []);
  });

  test('"Explain at this step" explains the first probe with the trained weights in the attention panel', async () => {
    const train = webviewFrame(s.page, 'panel', 'Train a tiny transformer');
    const probeTranslation = ((await train.locator('.train-probes td.probe-right').first().textContent()) ?? '').trim();
    const statusLine = ((await train.locator('.train-status').textContent()) ?? '');
    await train.locator('button', { hasText: 'Explain at this step' }).click();
    // the status bar names the snapshot: task and step
    const item = s.page.locator('.statusbar-item', { hasText: /Attention Lens: lets-go · step \d+/ });
    await item.waitFor({ timeout: 60_000 });
    const panel = webviewFrame(s.page, 'panel'); // the newest visible panel: the attention panel
    await eventually(async () => {
      assert.equal((await panel.locator('#translation').textContent())?.trim(), probeTranslation);
    }, 60_000, `the attention panel to show the probe's translation "${probeTranslation}" (train status: ${statusLine})`);
    await screenshot(s.page, 'train-inspect');
  });
});
