/**
 * Builds the HTML shell of both webviews (panel and side view). Pure: callers pass the webview's
 * `cspSource` and the `asWebviewUri` strings. Every render gets a fresh nonce; the only script
 * allowed to run is the bundle tagged with it. No inline styles, no eval.
 */
import { randomBytes } from 'node:crypto';

export interface WebviewHtmlOptions {
  /** `webview.cspSource`. */
  cspSource: string;
  /** `asWebviewUri` of the script bundle (dist/webview/<app>.js). */
  scriptUri: string;
  /** `asWebviewUri` of the stylesheet (dist/webview/styles.css). */
  styleUris: string[];
  /** Document title (for screen readers; the tab title is set by the host). */
  title: string;
  /** Which app this is ('panel' | 'sidebar'); exposed as `data-app` on `<body>`. */
  app: string;
  /** Tests may pin the nonce; production renders always generate one. */
  nonce?: string;
}

/** 128 random bits, base64url: only [A-Za-z0-9_-], safe inside a CSP source expression and an attribute. */
export function makeNonce(): string {
  return randomBytes(16).toString('base64url');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    `default-src 'none'`,
    `img-src ${cspSource} data: blob:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

/** Escapes text for an HTML text node or a double-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function buildWebviewHtml(options: WebviewHtmlOptions): string {
  const nonce = options.nonce ?? makeNonce();
  if (!/^[A-Za-z0-9_-]{16,}$/.test(nonce)) throw new Error('nonce must be at least 16 base64url characters');
  const csp = contentSecurityPolicy(options.cspSource, nonce);
  const styles = options.styleUris.map((uri) => `  <link rel="stylesheet" href="${escapeHtml(uri)}">`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
${styles}
  <title>${escapeHtml(options.title)}</title>
</head>
<body data-app="${escapeHtml(options.app)}">
  <div id="app" role="main"></div>
  <script nonce="${nonce}" src="${escapeHtml(options.scriptUri)}"></script>
</body>
</html>`;
}
