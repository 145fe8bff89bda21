/**
 * Real editor text in the real workbench (code-server + Chromium, the packaged .vsix): a paragraph is
 * explained sentence by sentence, a code selection explains its comments and says so, the hover stays out
 * of code, and the side view keeps its translation when focus leaves the editor. Expected translations come
 * from the engine, run here on each sentence.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { explain } from '../../src/model';
import { bundledModel } from './engine';
import { splitSentences } from '../../src/model/text/sentences';
import { DEFAULTS } from '../../src/host/settings';
import { REPO_ROOT } from './codeServer';
import { useWorkbench } from './session';
import { editorLine, eventually, explorerRow, runCommand, selectLine, showInPalette, visibleHover, webviewFrame, wordCenter } from './workbench';

const PARAGRAPH = 'The lion kills the tiger. The cat sleeps on the mat. Where is the dog? Mr. Brown reads a good book.';
const CODE_LINE = 'const total = sum(values); // Add the values. Then print the result.';
const MD_LINE = 'The old man walks to the market every morning.';
const COMMAND = 'Explain attention for selection';
const SCREENSHOTS = path.join(REPO_ROOT, 'docs', 'screenshots');

const translationOf = (text: string): string => explain(bundledModel(), text, { numBeams: DEFAULTS.beams, topK: DEFAULTS.topK }).translation;

describe('Real editor text in the workbench', { timeout: 10 * 60_000 }, () => {
  const s = useWorkbench('sentences', { files: { 'paragraph.txt': `${PARAGRAPH}\n`, 'code.ts': `declare function sum(values: number[]): number;\ndeclare const values: number[];\n${CODE_LINE}\n`, 'notes.md': `# Notes\n\n${MD_LINE}\n` }, open: { file: 'paragraph.txt', text: 'The lion kills' } });

  /** Opens a file from the explorer (Quick Open does not search a folder outside the home folder here). */
  async function openFile(_page: Page, name: string, expectText: string): Promise<void> {
    if (!(await explorerRow(s.page, name).isVisible())) {
      await s.page.locator('.activitybar a.action-label[aria-label^="Explorer"]').click();
      await s.page.mouse.move(900, 700); // away from the activity bar's tooltip, which covers the first row
      await s.page.locator('.context-view .hover-contents').waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
    }
    await explorerRow(s.page, name).dblclick();
    await editorLine(s.page, expectText).waitFor();
  }

  /** Centre of the word `word` on the code line: the rendered span holding it, the word's share of its width. */
  async function tokenCenter(word: string): Promise<{ x: number; y: number }> {
    const line = s.page.locator('.editor-group-container .monaco-editor .view-lines .view-line').filter({ hasText: 'Then print' }).first();
    const span = line.locator('span span').filter({ hasText: word }).first();
    const box = await span.boundingBox();
    const text = ((await span.textContent()) ?? '').replace(/\u00a0/g, ' ');
    if (!box || !text.includes(word)) return wordCenter(s.page, 'Then print', word);
    const i = text.indexOf(word);
    return { x: box.x + (box.width * (i + word.length / 2)) / text.length, y: box.y + box.height / 2 };
  }

  async function shot(name: string): Promise<void> {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    await s.page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), animations: 'disabled' });
  }

  test('"Attention Lens" in the command palette lists the explain command', async () => {
    // "lens" is only in the category: without it this query matches no command
    await showInPalette(s.page, 'Attention Lens explain', COMMAND, false);
    await s.page.keyboard.press('Escape');
  });

  test('a four-sentence paragraph gives four translations, each the engine\'s translation of that sentence', async () => {
    const sentences = splitSentences(PARAGRAPH).map((s) => s.text);
    assert.equal(sentences.length, 4);
    const want = sentences.map(translationOf);
    await selectLine(s.page, PARAGRAPH);
    await runCommand(s.page, COMMAND);
    const panel = webviewFrame(s.page, 'panel');
    await eventually(async () => {
      const tabs = await panel.locator('#sentence-tabs .sentence-tab .sentence-translation').allTextContents();
      assert.deepEqual(tabs, want.map((t) => `→ ${t}`));
    }, 90_000, 'four translated sentences in the panel');
    // the detail shows the first sentence
    assert.equal((await panel.locator('#translation').textContent())?.trim(), want[0]);
    await shot('paragraph');
  });

  test('the side view keeps its translation after a click in the panel', async () => {
    const want = splitSentences(PARAGRAPH).map((s) => translationOf(s.text));
    await s.page.locator('.activitybar a.action-label[aria-label="Attention Lens"]').click();
    const side = webviewFrame(s.page, 'sideView');
    await eventually(async () => {
      assert.equal((await side.locator('#translation').textContent())?.trim(), want.join(' '));
    }, 90_000, 'the side view translation of the paragraph');
    assert.equal(await side.locator('#sentence-list details').count(), 4);
    // click the second sentence in the panel: focus leaves the editor, the panel switches sentence
    const panel = webviewFrame(s.page, 'panel');
    await panel.locator('#sentence-tabs .sentence-tab').nth(1).click();
    await eventually(async () => assert.equal((await panel.locator('#translation').textContent())?.trim(), want[1]), 30_000, 'the panel on sentence 2');
    await s.page.waitForTimeout(1500); // longer than the side view's debounce
    assert.equal((await side.locator('#translation').textContent())?.trim(), want.join(' '));
    assert.match((await side.locator('#source-text').textContent()) ?? '', /Translated: .*The lion kills the tiger/);
    assert.doesNotMatch((await side.locator('#status').textContent()) ?? '', /Select text in an editor/);
    await shot('side-view-kept');
  });

  test('a code selection explains its comment and says so; the hover stays out of code and shows in comments', async () => {
    await openFile(s.page, 'code.ts', 'const total');
    await selectLine(s.page, CODE_LINE);
    await runCommand(s.page, COMMAND);
    const panel = webviewFrame(s.page, 'panel');
    await eventually(async () => {
      assert.match((await panel.locator('#status').textContent()) ?? '', /only the comments and text strings/);
      assert.deepEqual(
        await panel.locator('#sentence-tabs .sentence-tab .sentence-translation').allTextContents(),
        ['Add the values.', 'Then print the result.'].map((s) => `→ ${translationOf(s)}`),
      );
    }, 90_000, 'the code notice and the comment\'s two sentences');
    await shot('code-notice');
    // the panel opened in code.ts's editor group: bring the code back to hover it
    await s.page.locator('.tabs-container .tab', { hasText: 'code.ts' }).first().click();
    await editorLine(s.page, 'Then print').waitFor();

    // hover over code: TypeScript's own hover, no Attention Lens block
    const hover = visibleHover(s.page);
    const { x, y } = await tokenCenter('total');
    await s.page.mouse.move(x, y - 60);
    await s.page.mouse.move(x, y, { steps: 6 });
    await s.page.waitForTimeout(4000);
    assert.equal(await hover.filter({ hasText: 'Attention Lens' }).count(), 0, 'no Attention Lens hover over code');
    // hover over a word in the comment
    await eventually(async () => {
      const p = await tokenCenter('print');
      await s.page.mouse.move(p.x, p.y - 60);
      await s.page.mouse.move(p.x, p.y, { steps: 6 });
      await hover.filter({ hasText: 'Attention Lens' }).first().waitFor({ timeout: 5_000 });
    }, 40_000, 'the Attention Lens hover inside a comment');
    await s.page.mouse.move(5, 500);
  });

  test('the hover appears in Markdown', async () => {
    await openFile(s.page, 'notes.md', 'The old man');
    const hover = visibleHover(s.page);
    await eventually(async () => {
      const p = await wordCenter(s.page, MD_LINE, 'market');
      await s.page.mouse.move(p.x, p.y - 60);
      await s.page.mouse.move(p.x, p.y, { steps: 6 });
      await hover.filter({ hasText: 'Attention Lens' }).first().waitFor({ timeout: 5_000 });
    }, 40_000, 'the Attention Lens hover in Markdown');
    // its link opens the panel on the hovered word's sentence, the word's row selected
    await hover.locator('a', { hasText: 'Open Attention Lens' }).first().click();
    await s.page.locator('.tabs-container .tab', { hasText: `Attention: ${MD_LINE.slice(0, 30)}` }).first().waitFor({ timeout: 30_000 });
    const panel = webviewFrame(s.page, 'panel');
    await eventually(async () => {
      assert.match((await panel.locator('#readout').textContent()) ?? '', /^▁market → /);
      assert.match((await panel.locator('#detail-title').textContent()) ?? '', /Encoder self-attention · layer 3 · mean over heads/);
    }, 30_000, 'the panel on the hovered word');
  });

  test('maximised, the panel uses two columns and the heatmap opens on the absolute scale with 1/n marked', async () => {
    await openFile(s.page, 'paragraph.txt', 'The lion kills');
    await selectLine(s.page, PARAGRAPH);
    await runCommand(s.page, COMMAND);
    const panel = webviewFrame(s.page, 'panel');
    await eventually(async () => assert.equal(await panel.locator('#sentence-tabs .sentence-tab').count(), 4), 90_000, 'the sentence list');
    await s.page.locator('.tabs-container .tab', { hasText: 'Attention: ' }).first().click();
    await runCommand(s.page, 'Toggle Maximize Editor Group');
    await eventually(async () => assert.ok(await panel.locator('#content.two-column').count()), 30_000, 'two columns');
    assert.equal((await panel.locator('#legend .legend-mark').textContent())?.trim(), '1/8');
    await shot('wide-panel');
    // a generated token: cross-attention on the last layer, mean over heads, rows labelled by what they predict
    await panel.locator('#target-tokens .token').nth(4).click();
    assert.match((await panel.locator('#detail-title').textContent()) ?? '', /Cross-attention .* layer 3 · mean over heads/);
    await panel.locator('#detail').scrollIntoViewIfNeeded();
    await shot('cross-default');
    await runCommand(s.page, 'Toggle Maximize Editor Group');
  });
});
