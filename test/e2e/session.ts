/**
 * One workbench session per test file: code-server with the packaged .vsix, a Chromium page on it, and the file to
 * start from open. `useWorkbench` registers the before/after hooks; the tests read `page` once `before` has run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { REPO_ROOT, assertPrerequisites, removeRoot, saveLogs, startCodeServer, tempRoot, type CodeServer } from './codeServer';
import { ensureVsix } from './vsix';
import { editorLine, explorerRow, launchBrowser, openFile, openWorkbench, screenshot } from './workbench';

export const SAMPLES = path.join(REPO_ROOT, 'samples');

export interface SessionOptions {
  /** Files written into a fresh workspace folder (name → content); without them `samples/` is opened. */
  files?: Record<string, string>;
  /** The file opened first and a line of it to wait for. */
  open: { file: string; text: string };
  /** Dismiss dialogs (recorded in `dialogs`) instead of leaving them to playwright. */
  recordDialogs?: boolean;
  /** A screenshot named so is taken when the session ends. */
  finalScreenshot?: string;
}

export interface WorkbenchSession {
  page: Page;
  /** The workspace folder on disk. */
  workspace: string;
  pageErrors: string[];
  dialogs: string[];
}

export function useWorkbench(name: string, opts: SessionOptions): WorkbenchSession {
  const session = { pageErrors: [] as string[], dialogs: [] as string[] } as WorkbenchSession;
  let cs: CodeServer | undefined;
  let browser: Browser | undefined;
  let ownWorkspace = false;

  before(async () => {
    assertPrerequisites();
    const vsix = process.env.ATTENTION_LENS_VSIX ?? ensureVsix();
    if (opts.files) {
      // outside code-server's root: its profile folder is emptied when it starts
      session.workspace = fs.mkdtempSync(path.join(os.tmpdir(), `attention-lens-e2e-${name}-ws-`));
      ownWorkspace = true;
      for (const [file, content] of Object.entries(opts.files)) fs.writeFileSync(path.join(session.workspace, file), content);
    } else {
      session.workspace = SAMPLES;
    }
    cs = await startCodeServer({ root: tempRoot(`attention-lens-e2e-${name}-`), vsix: [vsix], workspace: session.workspace });
    browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    session.page = page;
    page.setDefaultTimeout(30_000);
    page.setDefaultNavigationTimeout(180_000); // a busy machine loads the workbench slowly
    if (opts.recordDialogs) {
      page.on('dialog', (d) => {
        session.dialogs.push(`${d.type()}: ${d.message()}`);
        void d.dismiss().catch(() => undefined);
      });
    }
    page.on('pageerror', (err) => session.pageErrors.push(err.message));
    await openWorkbench(page, cs.url, session.workspace, opts.open.file);
    if (opts.files) {
      // Quick Open does not search a folder outside the home folder here: open it from the explorer
      await explorerRow(page, opts.open.file).dblclick();
      await editorLine(page, opts.open.text).waitFor();
    } else {
      await openFile(page, opts.open.file, opts.open.text);
    }
  }, { timeout: 8 * 60_000 });

  after(async () => {
    if (opts.finalScreenshot && session.page && browser) await screenshot(session.page, opts.finalScreenshot).catch(() => undefined);
    await browser?.close().catch(() => undefined);
    if (cs) {
      await cs.stop();
      saveLogs(cs, name);
      removeRoot(cs);
    }
    if (ownWorkspace) fs.rmSync(session.workspace, { recursive: true, force: true });
  }, { timeout: 60_000 });

  return session;
}
