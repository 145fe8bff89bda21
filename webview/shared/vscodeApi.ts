/// <reference types="vscode-webview" />
/**
 * The one handle on the VS Code webview API. `acquireVsCodeApi` may be called only once per webview,
 * so the result is cached here in module scope (not on window, where other scripts could reach it).
 */
import type { WebviewApi } from 'vscode-webview';

export type VsCodeApi<S> = Pick<WebviewApi<S>, 'postMessage' | 'getState' | 'setState'>;

let cached: VsCodeApi<unknown> | undefined;

/** In-memory stand-in used when the page is opened outside VS Code (a plain browser during development). */
function memoryApi<S>(): VsCodeApi<S> {
  let state: S | undefined;
  return {
    postMessage: () => undefined,
    getState: () => state,
    setState: <T extends S | undefined>(s: T): T => {
      state = s;
      return s;
    },
  };
}

export function getVsCodeApi<S>(): VsCodeApi<S> {
  if (!cached) {
    const acquire = (globalThis as { acquireVsCodeApi?: () => VsCodeApi<unknown> }).acquireVsCodeApi;
    cached = typeof acquire === 'function' ? acquire() : memoryApi<unknown>();
  }
  return cached as VsCodeApi<S>;
}
