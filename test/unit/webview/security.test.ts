/** Static guards over the webview sources, and the single acquireVsCodeApi call. */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { getVsCodeApi } from '../../../webview/shared/vscodeApi';

// Tests run from the repository root (npm scripts and the documented command both do).
const ROOT = join(process.cwd(), 'webview');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

describe('webview sources', () => {
  const files = sources(ROOT);

  it('never parse HTML strings or set style attributes', () => {
    assert.ok(files.length > 10, 'found the webview sources');
    const banned = [/\.innerHTML\s*=/, /\.outerHTML\s*=/, /insertAdjacentHTML/, /document\.write/, /setAttribute\(\s*['"]style['"]/, /\beval\(/, /new Function\(/];
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      for (const re of banned) assert.ok(!re.test(text), `${f} matches ${re}`);
    }
  });

  it('styles.css carries no remote URLs or imports (the CSP allows only local styles)', () => {
    const css = readFileSync(join(ROOT, 'styles.css'), 'utf8');
    assert.ok(!/@import|url\(\s*['"]?https?:/i.test(css));
  });
});

describe('getVsCodeApi', () => {
  it('acquires the VS Code API once and hands back the same object', () => {
    let calls = 0;
    const fake = { postMessage() {}, getState: () => undefined, setState: <T>(s: T) => s };
    (globalThis as Record<string, unknown>).acquireVsCodeApi = () => {
      calls++;
      return fake;
    };
    try {
      const a = getVsCodeApi();
      const b = getVsCodeApi();
      assert.equal(calls, 1);
      assert.equal(a, fake);
      assert.equal(b, fake);
    } finally {
      delete (globalThis as Record<string, unknown>).acquireVsCodeApi;
    }
  });
});
