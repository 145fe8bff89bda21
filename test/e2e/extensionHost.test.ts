/**
 * Runs the extension's own integration suite (test/extension-host/index.ts, bundled to dist/test/extension-host.js)
 * inside code-server's real Node extension host: the workbench URL's `payload` parameter loads the repository as a
 * development extension (like F5) with `extensionTestsPath`, and the workbench reports the suite's result through
 * `window.codeAutomationExit(code)`, which the test exposes from Playwright. Offline stand-in for @vscode/test-electron.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { ARTIFACTS_DIR, REPO_ROOT, assertPrerequisites, removeRoot, saveLogs, startCodeServer, tempRoot, type CodeServer } from './codeServer';
import { launchBrowser, screenshot } from './workbench';

const DEV_PATH = process.env.ATTENTION_LENS_DEV_PATH ?? REPO_ROOT;
const TESTS_PATH = process.env.ATTENTION_LENS_EXT_TESTS ?? path.join(REPO_ROOT, 'dist', 'test', 'extension-host.js');
const SAMPLES = path.join(REPO_ROOT, 'samples');
const SUITE_TIMEOUT_MS = 5 * 60_000;

let cs: CodeServer | undefined;
let browser: Browser | undefined;

before(() => {
  assertPrerequisites();
  if (!fs.existsSync(TESTS_PATH)) {
    throw new Error(`${path.relative(REPO_ROOT, TESTS_PATH)} is missing: run \`npm run build\` (it bundles test/extension-host/index.ts)`);
  }
  if (!fs.existsSync(path.join(DEV_PATH, 'dist', 'extension.js')) && DEV_PATH === REPO_ROOT) {
    throw new Error('dist/extension.js is missing: run `npm run build`');
  }
});

after(async () => {
  await browser?.close().catch(() => undefined);
  if (cs) {
    await cs.stop();
    saveLogs(cs, 'extension-host');
    removeRoot(cs);
  }
});

test('the integration suite passes inside the real extension host', { timeout: SUITE_TIMEOUT_MS + 120_000 }, async () => {
  // no .vsix installed: the development copy of the extension is the only one
  cs = await startCodeServer({ root: tempRoot('attention-lens-exthost-'), workspace: SAMPLES });
  browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const consoleLines: string[] = [];
  page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));

  let reportExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (reportExit = resolve));
  await page.exposeFunction('codeAutomationExit', (code: number) => reportExit(code));

  const payload = [
    ['extensionDevelopmentPath', cs.remoteUri(DEV_PATH)],
    ['extensionTestsPath', cs.remoteUri(TESTS_PATH)],
  ];
  const t0 = Date.now();
  await page.goto(`${cs.url}/?folder=${encodeURIComponent(SAMPLES)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);

  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), SUITE_TIMEOUT_MS)));
  const code = await Promise.race([exited, timedOut]);
  clearTimeout(timer);

  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const logFile = path.join(ARTIFACTS_DIR, 'extension-host-console.log');
  fs.writeFileSync(logFile, consoleLines.join('\n') + '\n');
  await screenshot(page, '05-extension-host').catch(() => undefined);
  // what the suite printed (console.log in the extension host is forwarded to the browser console)
  const suiteOutput = consoleLines.filter((l) => !/vsda|open-vsx|ERR_NAME_NOT_RESOLVED|Failed to load resource/.test(l));
  process.stderr.write(`[e2e] extension-host suite finished with ${code} after ${Date.now() - t0} ms; console: ${logFile}\n`);
  assert.equal(code, 0, `extension-host suite exit code ${code}; last console lines:\n${suiteOutput.slice(-60).join('\n')}`);
});
