/**
 * The webview Content-Security-Policy, enforced by a real Chromium. The panel's HTML comes from the host's builder
 * (src/host/webviewHtml.ts) and the real bundle (dist/webview, from `npm run build`) is served over 127.0.0.1;
 * into the HTML we inject what an HTML-injection bug would let a document put there — an inline <script>, an
 * onerror and an onclick attribute, a javascript: link, a same-origin script without the nonce — and check that
 * none of it runs (and that Chromium reports each as a CSP violation) while the nonce'd bundle runs, renders and
 * talks to the (stand-in) VS Code API; `eval` is refused too. The same page without the CSP runs every probe, which
 * shows the probes work and the policy is what stops them. Finally the running panel renders an explanation full of
 * hostile strings: they appear as text and nothing executes.
 *
 * Needs Debian's Chromium (`npm run e2e:setup`): with CI set, a missing browser fails the test, never skips it.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { buildWebviewHtml } from '../../src/host/webviewHtml';
import { makeExplanation } from '../../webview/testing/fixtures';
import { CHROMIUM_BIN, REPO_ROOT } from './codeServer';
import { launchBrowser } from './workbench';

const WEBVIEW_DIST = path.join(REPO_ROOT, 'dist', 'webview');
const haveChromium = (() => {
  try {
    fs.accessSync(CHROMIUM_BIN, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
})();

/** What an HTML-injection bug would let document text add to the page. */
const INJECTED = `
  <script>window.__inlineRan = true;</script>
  <img id="probe-img" src="/missing.png" onerror="window.__onerrorRan = true">
  <script src="/webview/evil.js"></script>
  <div id="probe-click" onclick="window.__onclickRan = true">click me</div>
  <a id="probe-link" href="javascript:window.__jsLinkRan = true">link</a>`;
const PROBES = ['__inlineRan', '__onerrorRan', '__externalRan', '__onclickRan', '__jsLinkRan'];

/**
 * Runs before any page script, as VS Code injects acquireVsCodeApi; CDP-injected, so not subject to the CSP.
 * A string, not a function: the test runner's transpiler may add helpers a serialized function could not reach.
 */
const INIT = `
  window.__posted = [];
  window.__violations = [];
  window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState: () => undefined, setState: (s) => s });
  document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.effectiveDirective + ' ' + e.blockedURI));
`;

describe('webview CSP in Chromium', { timeout: 180_000, skip: !haveChromium && !process.env.CI ? `Chromium not found at ${CHROMIUM_BIN} (npm run e2e:setup)` : false }, () => {
  let server: http.Server;
  let base = '';
  let browser: Browser;
  const pages: Record<string, string> = {};

  before(async () => {
    if (!haveChromium) throw new Error(`Chromium not found at ${CHROMIUM_BIN}: run \`npm run e2e:setup\` (CI must not skip this test)`);
    if (!fs.existsSync(path.join(WEBVIEW_DIST, 'panel.js'))) throw new Error('dist/webview/panel.js is missing: run `npm run build` first');
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (pages[url.pathname] !== undefined) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(pages[url.pathname]);
      } else if (url.pathname === '/webview/evil.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end('window.__externalRan = true;');
      } else if (/^\/webview\/[\w.-]+$/.test(url.pathname) && fs.existsSync(path.join(WEBVIEW_DIST, path.basename(url.pathname)))) {
        const type = url.pathname.endsWith('.css') ? 'text/css' : url.pathname.endsWith('.js') ? 'text/javascript' : 'application/octet-stream';
        res.writeHead(200, { 'content-type': type }).end(fs.readFileSync(path.join(WEBVIEW_DIST, path.basename(url.pathname))));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const app of ['panel', 'sidebar'] as const) {
      const nonce = `nonce${app}0123456789abcdef`;
      const html = buildWebviewHtml({ cspSource: base, scriptUri: `${base}/webview/${app}.js`, styleUris: [`${base}/webview/styles.css`], title: 'Attention Lens', app, nonce });
      const evalProbe = `<script nonce="${nonce}">try { window.__evalResult = String(eval('1 + 1')); } catch (e) { window.__evalResult = e.name; }</script>`;
      const injected = html.replace('<div id="app" role="main"></div>', `<div id="app" role="main"></div>${INJECTED}${evalProbe}`);
      assert.notEqual(injected, html, 'the probes were injected');
      pages[`/${app}.html`] = injected;
      pages[`/${app}-without-csp.html`] = injected.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '');
    }
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    if (server) await new Promise((r) => server.close(r));
  });

  async function open(name: string): Promise<Page> {
    const page = await browser.newPage();
    await page.addInitScript({ content: INIT });
    await page.goto(`${base}/${name}.html`);
    await page.waitForLoadState('load');
    await page.click('#probe-click');
    await page.click('#probe-link');
    await page.waitForTimeout(300); // let the image error and any handler fire
    return page;
  }

  const flags = (page: Page) => page.evaluate((names) => names.filter((n) => (window as unknown as Record<string, unknown>)[n] === true), PROBES);

  for (const app of ['panel', 'sidebar'] as const) {
    test(`${app}: injected inline script, event handlers, javascript: link and un-nonced script are blocked; the bundle runs`, async (t) => {
      const page = await open(app);
      try {
        assert.deepEqual(await flags(page), [], 'no injected code ran');
        const violations = (await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations)) as string[];
        assert.ok(violations.some((v) => v.startsWith('script-src-elem inline')), `inline <script> reported: ${violations.join('; ')}`);
        assert.ok(violations.some((v) => v.startsWith('script-src-elem') && v.includes('/webview/evil.js')), 'un-nonced script reported');
        assert.ok(violations.filter((v) => v.startsWith('script-src-attr')).length >= 2, 'onerror and onclick reported');
        // the nonce'd bundle ran: it said ready through the VS Code API and rendered its UI
        assert.deepEqual(await page.evaluate(() => (window as unknown as { __posted: unknown[] }).__posted), [{ type: 'ready' }]);
        assert.match((await page.textContent('#status')) ?? '', /Select/);
        // even code that may run (it carries the nonce) cannot turn strings into code
        assert.equal(await page.evaluate(() => (window as unknown as { __evalResult?: string }).__evalResult), 'EvalError', 'eval is refused');
        t.diagnostic(`${violations.length} CSP violations reported: ${[...new Set(violations.map((v) => v.split(' ')[0]))].join(', ')}`);
      } finally {
        await page.close();
      }
    });
  }

  test('control: without the CSP every probe runs (so the policy is what stops them)', async () => {
    const page = await open('panel-without-csp');
    try {
      assert.deepEqual((await flags(page)).sort(), [...PROBES].sort());
      assert.equal(await page.evaluate(() => (window as unknown as { __evalResult?: string }).__evalResult), '2', 'eval works without the policy');
    } finally {
      await page.close();
    }
  });

  test('the running panel shows hostile explanation text as text, and nothing executes', async () => {
    const page = await open('panel');
    try {
      const XSS = ['<img src=x onerror="window.__xss = 1">', '<script>window.__xss = 2</script>', '[x](command:workbench.action.quit)', '$(zap) `c` &lt;b&gt;', '<svg onload="window.__xss = 3">'];
      const explanation = makeExplanation({ sourcePieces: [...XSS.slice(0, 3), '</s>'], generated: [...XSS.slice(3), '</s>'], translation: XSS.join(' ') });
      await page.evaluate((e) => window.postMessage({ type: 'explanation', requestId: 1, explanation: e }, '*'), explanation);
      await page.waitForSelector('#source-tokens .token');
      await page.click('#target-tokens .token');
      await page.waitForTimeout(300);
      const state = await page.evaluate(() => ({
        xss: (window as unknown as { __xss?: number }).__xss,
        sources: Array.from(document.querySelectorAll('#source-tokens .token')).map((n) => n.textContent),
        translation: document.querySelector('#translation')?.textContent,
        imgs: document.querySelectorAll('img:not(#probe-img)').length,
        scripts: Array.from(document.querySelectorAll('script')).filter((s) => s.nonce).length,
        allScripts: document.querySelectorAll('script').length,
      }));
      assert.equal(state.xss, undefined);
      assert.deepEqual(state.sources, explanation.sourcePieces);
      assert.equal(state.translation, explanation.translation);
      assert.equal(state.imgs, 0);
      assert.equal(state.allScripts, 4, 'the bundle, the two injected probes and the eval probe: no script came from text');
      assert.equal(state.scripts, 2, 'the bundle and the eval probe carry the nonce');
    } finally {
      await page.close();
    }
  });
});
