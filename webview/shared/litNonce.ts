/**
 * Lit (under vscode-elements) styles shadow roots with constructable stylesheets, which the CSP allows.
 * Where those are unavailable it falls back to <style> elements and tags them with `window.litNonce`;
 * hand it the nonce of the script that loaded us so that fallback also passes a nonce-based style-src.
 * Imported first by both entry files.
 */
const script = typeof document !== 'undefined' ? (document.currentScript as HTMLScriptElement | null) : null;
const nonce = script?.nonce || script?.getAttribute('nonce') || '';
if (nonce) (globalThis as { litNonce?: string }).litNonce = nonce;
export {};
