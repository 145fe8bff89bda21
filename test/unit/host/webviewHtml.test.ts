/** The webview HTML shell: strict CSP with a fresh nonce, only local resources, nonce'd scripts. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildWebviewHtml, contentSecurityPolicy, escapeHtml, makeNonce } from '../../../src/host/webviewHtml';

const CSP_SOURCE = 'https://*.vscode-cdn.net';
const opts = {
  cspSource: CSP_SOURCE,
  scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/panel.js',
  styleUris: ['https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/styles.css'],
  title: 'Attention Lens',
  app: 'panel',
};

function cspOf(html: string): string {
  const m = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html);
  assert.ok(m, 'CSP meta tag present');
  return m[1].replace(/&#39;/g, "'");
}

describe('webview HTML', () => {
  test('has a strict CSP carrying the nonce', () => {
    const html = buildWebviewHtml({ ...opts, nonce: 'abcdefghijklmnopqrstuv' });
    const csp = cspOf(html);
    assert.equal(
      csp,
      `default-src 'none'; img-src ${CSP_SOURCE} data: blob:; style-src ${CSP_SOURCE}; font-src ${CSP_SOURCE}; script-src 'nonce-abcdefghijklmnopqrstuv'`,
    );
    assert.ok(!html.includes('unsafe-inline'));
    assert.ok(!html.includes('unsafe-eval'));
    assert.ok(html.indexOf('Content-Security-Policy') < html.indexOf('<link'), 'CSP comes before any resource');
  });

  test('every script tag carries the nonce, and there is no inline script or style', () => {
    const html = buildWebviewHtml(opts);
    const nonce = /script-src 'nonce-([^']+)'/.exec(cspOf(html))![1];
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1);
    for (const [, attrs, body] of scripts) {
      assert.ok(attrs.includes(`nonce="${nonce}"`), 'script has the nonce');
      assert.match(attrs, /src="/);
      assert.equal(body.trim(), '', 'no inline script body');
    }
    assert.ok(!/<style\b/.test(html), 'no inline <style>');
    assert.ok(!/\sstyle=/.test(html), 'no style attributes');
    assert.ok(!/\son\w+=/.test(html), 'no inline event handlers');
  });

  test('a fresh nonce on every render', () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const html = buildWebviewHtml(opts);
      nonces.add(/script-src 'nonce-([^']+)'/.exec(cspOf(html))![1]);
    }
    assert.equal(nonces.size, 50);
    const n = makeNonce();
    assert.match(n, /^[A-Za-z0-9_-]{20,}$/);
  });

  test('loads the local resource URIs it was given', () => {
    const html = buildWebviewHtml(opts);
    assert.ok(html.includes(`src="${opts.scriptUri}"`));
    assert.ok(html.includes(`<link rel="stylesheet" href="${opts.styleUris[0]}">`));
    assert.ok(html.includes('data-app="panel"'));
    assert.ok(html.includes('<div id="app"'));
    assert.ok(!/https?:\/\/(?!file\+\.vscode-resource|\*\.vscode-cdn)/.test(html.replace(/http-equiv/g, '')), 'no remote URLs');
  });

  test('escapes the title and URIs', () => {
    const html = buildWebviewHtml({ ...opts, title: '</title><script>alert(1)</script>', scriptUri: 'x" onload="alert(1)' });
    assert.ok(!html.includes('<script>alert(1)'));
    assert.ok(html.includes('&lt;/title&gt;'));
    assert.ok(html.includes('src="x&quot; onload=&quot;alert(1)"'));
  });

  test('rejects a weak nonce', () => {
    assert.throws(() => buildWebviewHtml({ ...opts, nonce: 'short' }));
    assert.throws(() => buildWebviewHtml({ ...opts, nonce: "abcdefghijklmnop' 'unsafe-inline" }));
  });

  test('helpers', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    assert.ok(contentSecurityPolicy('vscode-webview:', 'N').endsWith("script-src 'nonce-N'"));
  });
});
