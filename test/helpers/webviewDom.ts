/**
 * A jsdom window for the webview tests: theme class on <body>, errors collected (jsdom has no canvas 2D context, so
 * its "Not implemented" reports don't count), query and event helpers, and every window closed after each test.
 */
import { afterEach } from 'node:test';
import { JSDOM, VirtualConsole } from 'jsdom';
import type { FromWebviewMessage } from '../../src/shared/protocol';
import { startPanel } from '../../webview/panel/app';
import type { PersistedPanelState } from '../../webview/panel/state';
import { fakeVsCodeApi } from '../../webview/testing/fixtures';

const open: JSDOM[] = [];
afterEach(() => {
  for (const d of open.splice(0)) d.window.close();
});

export interface WebviewDom {
  win: Window & typeof globalThis;
  doc: Document;
  /** jsdom errors other than "Not implemented". */
  errors: string[];
  $: (sel: string) => HTMLElement | null;
  $$: (sel: string) => HTMLElement[];
  /** A message from the host. */
  send: (data: unknown) => void;
  /** A keydown on `target` that bubbles. */
  key: (target: Element, key: string) => void;
}

export function webviewDom(opts: { width?: number; setup?: (win: Window & typeof globalThis) => void } = {}): WebviewDom {
  const errors: string[] = [];
  const virtualConsole = new VirtualConsole();
  virtualConsole.on('jsdomError', (e) => {
    if (!/Not implemented/.test(e.message)) errors.push(e.message);
  });
  const dom = new JSDOM('<!doctype html><html><head></head><body class="vscode-dark"></body></html>', { virtualConsole, pretendToBeVisual: true });
  open.push(dom);
  const win = dom.window as unknown as Window & typeof globalThis;
  if (opts.width !== undefined) Object.defineProperty(win, 'innerWidth', { value: opts.width, configurable: true, writable: true });
  opts.setup?.(win);
  const doc = win.document;
  return {
    win, doc, errors,
    $: (sel) => doc.querySelector<HTMLElement>(sel),
    $$: (sel) => Array.from(doc.querySelectorAll<HTMLElement>(sel)),
    send: (data) => win.dispatchEvent(new win.MessageEvent('message', { data })),
    key: (target, key) => target.dispatchEvent(new win.KeyboardEvent('keydown', { key, bubbles: true })),
  };
}

/** The messages of one type a webview posted to the host. */
export function postedOfType<T extends FromWebviewMessage['type']>(posted: readonly unknown[], type: T): Array<Extract<FromWebviewMessage, { type: T }>> {
  return posted.filter((m) => (m as FromWebviewMessage).type === type) as Array<Extract<FromWebviewMessage, { type: T }>>;
}

/** The attention panel started in a fresh window, with what it posted to the host. */
export function bootPanel(opts: { saved?: PersistedPanelState; width?: number; setup?: (win: Window & typeof globalThis) => void } = {}) {
  const w = webviewDom(opts);
  const api = fakeVsCodeApi<PersistedPanelState>(opts.saved);
  const app = startPanel(w.doc, api);
  return {
    ...w, api, app,
    sent: <T extends FromWebviewMessage['type']>(type: T) => postedOfType(api.posted, type),
  };
}
export type PanelHarness = ReturnType<typeof bootPanel>;
