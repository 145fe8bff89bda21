/** Driving the VS Code workbench (code-server) in Debian's Chromium through playwright-core. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type FrameLocator, type Locator, type Page } from 'playwright-core';
import { ARTIFACTS_DIR, CHROMIUM_BIN } from './codeServer';

/** Flags for a closed network: no background fetches (each would be refused), no GPU, root-safe. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--disable-features=Translate,MediaRouter,OptimizationHints',
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_BIN, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/** Polls `check` until it returns without throwing; rethrows its last error after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const msg = last instanceof Error ? last.message : String(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${msg}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, animations: 'disabled' });
  return file;
}

/** Opens the workbench on `folder` and waits until the explorer lists `expectFile`. */
export async function openWorkbench(page: Page, baseUrl: string, folder: string, expectFile: string, extraQuery = ''): Promise<void> {
  await page.goto(`${baseUrl}/?folder=${encodeURIComponent(folder)}${extraQuery}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
  await explorerRow(page, expectFile).waitFor({ timeout: 90_000 });
}

export function explorerRow(page: Page, name: string): Locator {
  return page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${name}"]`);
}

/**
 * Presses `key` (F1: the command palette, Control+P: Quick Open) until the quick input shows. A key pressed while a
 * webview holds the focus goes to its frame, which hands it on to the workbench — usually: when the widget has not
 * shown after a few seconds, the focus is taken back from the frame and the key pressed again (three tries).
 */
async function openQuickInput(page: Page, key: 'F1' | 'Control+P'): Promise<Locator> {
  const widget = page.locator('.quick-input-widget');
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press(key);
    try {
      await widget.waitFor({ state: 'visible', timeout: 8_000 });
      return widget;
    } catch (e) {
      if (attempt === 3) throw e;
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    }
  }
}

/** Quick Open (Ctrl+P) → file name → Enter; waits until its text is rendered in the editor. */
export async function openFile(page: Page, name: string, expectText: string): Promise<void> {
  const widget = await openQuickInput(page, 'Control+P');
  // one input event, as in showInPalette: keystrokes typed while the widget opens can be lost
  await widget.locator('input').first().fill(name);
  await page.locator(`.quick-input-list .monaco-list-row[aria-label^="${name}"]`).first().waitFor();
  await page.keyboard.press('Enter');
  await widget.waitFor({ state: 'hidden' });
  await editorLine(page, expectText).waitFor();
}

/** The rendered line of the (first) text editor that contains `text`. */
export function editorLine(page: Page, text: string): Locator {
  return page.locator('.editor-group-container .monaco-editor .view-lines .view-line', { hasText: text }).first();
}

/** Selects the whole editor line that contains `text` (click, Home, Shift+End) and checks the selection. */
export async function selectLine(page: Page, text: string): Promise<void> {
  const line = editorLine(page, text);
  await line.click();
  await page.keyboard.press('End');
  await page.keyboard.press('Shift+Home');
  await eventually(async () => {
    const count = await page.locator('.editor-group-container .monaco-editor .selected-text').count();
    if (count === 0) throw new Error('no selection rendered');
    const status = await page.locator('.statusbar-item[id="status.editor.selection"]').innerText().catch(() => '');
    if (status && !status.includes(`(${text.length} selected)`)) throw new Error(`status bar says "${status}", want ${text.length} selected`);
  }, 10_000, `selection of "${text}"`);
}

/**
 * Opens the command palette with `query` typed and waits for an entry holding `entry` (the focused one when
 * `focused`). The query is set in one input event, not typed key by key: a busy workbench drops keystrokes
 * sent while the palette opens. One fresh try before failing.
 */
export async function showInPalette(page: Page, query: string, entry: string, focused = true): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  const row = page.locator(`.quick-input-list .monaco-list-row${focused ? '.focused' : ''}`, { hasText: entry }).first();
  for (let attempt = 1; ; attempt++) {
    await openQuickInput(page, 'F1');
    await widget.locator('input').first().fill(`>${query}`);
    try {
      await row.waitFor({ timeout: 20_000 });
      return;
    } catch (e) {
      if (attempt === 2) throw e;
      await page.keyboard.press('Escape');
      await widget.waitFor({ state: 'hidden' });
    }
  }
}

/** Runs a command from the palette: its title as the query, check it is the focused entry, Enter. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await showInPalette(page, title, title);
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
}

/** Centre of the first occurrence of `word` in the editor's rendered lines (via a DOM Range over the text node). */
export async function wordCenter(page: Page, lineText: string, word: string): Promise<{ x: number; y: number }> {
  const pos = await page.evaluate(
    ({ lineText, word }) => {
      for (const line of Array.from(document.querySelectorAll('.editor-group-container .monaco-editor .view-lines .view-line'))) {
        if (!(line.textContent ?? '').replace(/\u00a0/g, ' ').includes(lineText)) continue;
        const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode() as Text | null; n; n = walker.nextNode() as Text | null) {
          const i = n.data.replace(/\u00a0/g, ' ').indexOf(word);
          if (i < 0) continue;
          const r = document.createRange();
          r.setStart(n, i);
          r.setEnd(n, i + word.length);
          const b = r.getBoundingClientRect();
          return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
        }
      }
      return null;
    },
    { lineText, word },
  );
  if (!pos) throw new Error(`"${word}" not found on the editor line "${lineText}"`);
  return pos;
}

/** The visible hover widget (a hidden `.monaco-hover.hidden` always exists elsewhere). */
export function visibleHover(page: Page): Locator {
  return page.locator('.monaco-resizable-hover .monaco-hover:not(.hidden)');
}

/**
 * A webview's own document: outer `iframe.webview.ready` (VS Code's host frame), inner `#active-frame`
 * (the extension's HTML). `view` selects the activity-bar view (`purpose=webviewView`) or an editor panel.
 */
export function webviewFrame(page: Page, view: 'panel' | 'sideView', innerTitle?: string): FrameLocator {
  const outer = view === 'sideView' ? 'iframe.webview.ready[src*="purpose=webviewView"]' : 'iframe.webview.ready:not([src*="purpose=webviewView"])';
  // hidden webviews (a replaced panel, a collapsed view) keep their iframes: take the newest visible one
  const host = page.locator(outer).filter({ visible: true }).last().contentFrame();
  return host.locator(innerTitle !== undefined ? `#active-frame[title^="${cssString(innerTitle)}"]` : '#active-frame').contentFrame();
}

function cssString(s: string): string {
  return s.replace(/["\\]/g, (c) => `\\${c}`);
}

export interface CanvasPaint {
  width: number;
  height: number;
  /** Pixels with alpha > 0. */
  opaque: number;
  /** Pixels that differ from the top-left pixel. */
  varied: number;
  label: string;
}

/** Reads back every canvas matching `selector` inside a frame: size, painted pixels and how varied they are. */
export async function canvasPaint(frame: FrameLocator, selector: string): Promise<CanvasPaint[]> {
  return frame.locator(selector).evaluateAll((canvases) =>
    canvases.map((node) => {
      const c = node as HTMLCanvasElement;
      const label = [c.id, c.className, c.getAttribute('data-kind'), c.getAttribute('data-layer'), c.getAttribute('data-head')].filter(Boolean).join(' ');
      const ctx = c.width > 0 && c.height > 0 ? c.getContext('2d') : null;
      if (!ctx) return { width: c.width, height: c.height, opaque: 0, varied: 0, label };
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let opaque = 0;
      let varied = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] > 0) opaque++;
        if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2] || d[i + 3] !== d[3]) varied++;
      }
      return { width: c.width, height: c.height, opaque, varied, label };
    }),
  );
}

export function isPainted(p: CanvasPaint): boolean {
  return p.opaque > 0 && p.varied > 0;
}
