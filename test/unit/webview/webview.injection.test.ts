/**
 * Document text is inert everywhere the webviews show it. The real panel and side-view code renders in jsdom an
 * explanation whose every string (source and target pieces, candidates, translation, source text, model name and
 * languages, notices, progress and error messages) is hostile — HTML, script, event handlers, Markdown and command
 * links, `$(icon)` syntax, entities, javascript: URLs, bidi overrides — and:
 *  - the DOM has exactly the structure (element and attribute names, in order) that harmless text of the same
 *    shape produces: the text created no element and no attribute;
 *  - no event-handler attribute, script, frame, link or javascript: URL exists anywhere, and every string reads back
 *    exactly as given;
 *  - the exported SVG parses as SVG without scripts, foreignObject, event attributes or links, its text intact;
 *  - the exported JSON is the explanation, strings intact.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { JSDOM, VirtualConsole } from 'jsdom';
import type { Explanation } from '../../../src/shared/explanation';
import type { FromWebviewMessage } from '../../../src/shared/protocol';
import { startPanel } from '../../../webview/panel/app';
import type { PersistedPanelState } from '../../../webview/panel/state';
import { startSidebar, type PersistedSidebarState } from '../../../webview/sidebar/app';
import { fakeVsCodeApi, makeExplanation } from '../../../webview/testing/fixtures';
import { explanationFromJson } from '../../../src/shared/attention';

/** Hostile strings, each also a SentencePiece-looking piece (some with the ▁ marker). */
const HOSTILE = [
  '<img src=x onerror=alert(1)>',
  '<script>alert(2)</script>',
  '▁<svg onload=alert(3)>',
  '[x](command:workbench.action.quit)',
  '](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22rm%22%7D)',
  '`code` **b** _i_',
  '$(zap)$(alert~spin)',
  '&lt;b&gt;&amp;&#x3C;',
  'javascript:alert(4)',
  '"><iframe srcdoc="<script>alert(5)</script>">',
  "' onmouseover='alert(6)' x='",
  '\u202eevil\u202c\u2066rtl\u2069',
  '<!-- --><![CDATA[x]]>',
  '{{constructor.constructor("alert(7)")()}}',
  '▁</title><style>*{}</style>',
];

/** A harmless string of the same shape: same length, same ▁ markers (they become marker spans). */
const harmless = (s: string) => s.replace(/[^▁]/g, 'a');

function explanationWith(strings: (s: string) => string): Explanation {
  const pieces = HOSTILE.map(strings);
  const e = makeExplanation({
    sourcePieces: [...pieces.slice(0, 8), '</s>'],
    generated: [...pieces.slice(8), '</s>'],
    translation: strings(HOSTILE.join(' ')),
  });
  e.model = { ...e.model, name: strings(HOSTILE[3]), activation: strings(HOSTILE[0]), sourceLang: strings(HOSTILE[6]), targetLang: strings(HOSTILE[1]) };
  e.steps.forEach((st, i) => (st.topPieces = st.topPieces.map((_, j) => strings(HOSTILE[(i + j) % HOSTILE.length]))));
  return e;
}

const open: JSDOM[] = [];
afterEach(() => {
  for (const d of open.splice(0)) d.window.close();
});

function boot(app: 'panel' | 'sidebar') {
  const virtualConsole = new VirtualConsole();
  const dom = new JSDOM('<!doctype html><html><head></head><body class="vscode-dark"></body></html>', { virtualConsole, pretendToBeVisual: true });
  open.push(dom);
  const win = dom.window as unknown as Window & typeof globalThis;
  const api = fakeVsCodeApi<PersistedPanelState & PersistedSidebarState>();
  if (app === 'panel') startPanel(win.document, api);
  else startSidebar(win.document, api);
  return {
    win,
    doc: win.document,
    api,
    send: (data: unknown) => win.dispatchEvent(new win.MessageEvent('message', { data })),
    $$: (sel: string) => Array.from(win.document.querySelectorAll<HTMLElement>(sel)),
    exports: () => api.posted.filter((m) => (m as FromWebviewMessage).type === 'export') as Array<Extract<FromWebviewMessage, { type: 'export' }>>,
  };
}

/** Element and attribute names in document order (values left out: they may quote text). */
function skeleton(root: Element): string[] {
  const out: string[] = [];
  const walk = (el: Element, depth: number) => {
    out.push(`${'.'.repeat(depth)}${el.tagName.toLowerCase()}[${el.getAttributeNames().sort().join(',')}]`);
    for (const c of Array.from(el.children)) walk(c, depth + 1);
  };
  walk(root, 0);
  return out;
}

const DANGEROUS_TAGS = ['script', 'img', 'iframe', 'frame', 'object', 'embed', 'a', 'link', 'style', 'meta', 'base', 'form', 'foreignobject', 'use', 'image', 'animate', 'set'];

function assertInert(root: Element): void {
  for (const el of [root, ...Array.from(root.querySelectorAll('*'))]) {
    assert.ok(!DANGEROUS_TAGS.includes(el.tagName.toLowerCase()), `<${el.tagName}> in the document`);
    for (const name of el.getAttributeNames()) {
      assert.ok(!/^on/i.test(name), `event attribute ${name} on <${el.tagName}>`);
      // no URL-bearing attribute at all, so no javascript: (or any other) URL can be followed
      assert.ok(!/^(href|xlink:href|src|srcdoc|srcset|action|formaction|data|poster|background)$/i.test(name), `URL attribute ${name} on <${el.tagName}>`);
    }
  }
}

/** Drives the panel through the views that show text: heads, aggregates, a selected output step, readouts. */
function exercisePanel(h: ReturnType<typeof boot>, e: Explanation): void {
  h.send({ type: 'progress', requestId: 1, message: HOSTILE[1] });
  h.send({ type: 'explanation', requestId: 1, explanation: e, notice: HOSTILE[0] });
  h.$$('#target-tokens .token')[1]?.click(); // cross-attention caption quotes the piece
  h.$$('canvas.head-thumb')[2]?.click();
  const canvas = h.doc.querySelector<HTMLElement>('#detail-canvas')!;
  canvas.focus();
  for (const key of ['ArrowRight', 'ArrowDown', 'End']) canvas.dispatchEvent(new h.win.KeyboardEvent('keydown', { key, bubbles: true }));
  const pe = h.doc.querySelector<HTMLElement>('#pe-heatmap');
  pe?.focus();
  pe?.dispatchEvent(new h.win.KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
  h.send({ type: 'error', requestId: 2, message: HOSTILE[9] });
}

describe('panel webview with hostile text', () => {
  test('canary: the skeleton comparison notices markup parsed from text', () => {
    const dom = new JSDOM('<!doctype html><body><div id="a"></div><div id="b"></div></body>');
    open.push(dom);
    const a = dom.window.document.getElementById('a')!;
    const b = dom.window.document.getElementById('b')!;
    a.innerHTML = HOSTILE[0]; // what a rendering bug would do
    b.textContent = harmless(HOSTILE[0]);
    assert.notDeepEqual(skeleton(a), skeleton(b));
    assert.throws(() => assertInert(a));
  });

  test('hostile text creates no element and no attribute: same DOM skeleton as harmless text', () => {
    const hostile = boot('panel');
    const benign = boot('panel');
    exercisePanel(hostile, explanationWith((s) => s));
    exercisePanel(benign, explanationWith(harmless));
    const a = skeleton(hostile.doc.documentElement);
    const b = skeleton(benign.doc.documentElement);
    assert.ok(a.length > 200, `a rich DOM was rendered (${a.length} elements)`);
    assert.deepEqual(a, b);
    assertInert(hostile.doc.documentElement);
  });

  test('every hostile string reads back exactly, wherever it is shown', () => {
    const h = boot('panel');
    const e = explanationWith((s) => s);
    exercisePanel(h, e);
    const source = h.$$('#source-tokens .token').map((t) => t.textContent);
    assert.deepEqual(source, e.sourcePieces);
    assert.deepEqual(h.$$('#target-tokens .token').map((t) => t.textContent), e.targetPieces.slice(1));
    assert.equal(h.doc.querySelector('#translation')!.textContent, e.translation);
    const candidates = h.$$('#steps .cand-piece').map((c) => c.textContent);
    for (const st of e.steps) for (const p of st.topPieces) assert.ok(candidates.includes(p), p);
    assert.ok(h.doc.querySelector('#model-summary')!.textContent!.startsWith(`${e.model.name} · ${e.model.sourceLang}→${e.model.targetLang}`));
    assert.equal(h.doc.querySelector('#error')!.textContent, HOSTILE[9]);
    assert.match(h.doc.querySelector('#source-caption')!.textContent!, new RegExp(`“${e.targetPieces[2].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}”`));
    // serialized, the text appears escaped (attribute values may hold a raw "<": they are never parsed as markup)
    const html = h.doc.body.innerHTML;
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;') && html.includes('&lt;script&gt;alert(2)&lt;/script&gt;'));
    // and the serialization parses back to the same structure: saved and reopened, it still injects nothing
    const reparsed = new JSDOM(`<!doctype html><html><body class="vscode-dark">${html}</body></html>`);
    open.push(reparsed);
    assert.deepEqual(skeleton(reparsed.window.document.body), skeleton(h.doc.body));
  });

  test('the exported SVG is inert and keeps the text', () => {
    const h = boot('panel');
    const e = explanationWith((s) => s);
    exercisePanel(h, e);
    for (const kind of ['encoder', 'cross']) {
      h.doc.querySelector<HTMLElement>(`canvas.head-thumb[data-kind="${kind}"][data-layer="0"][data-head="0"]`)!.click();
      h.doc.querySelector<HTMLElement>('#export-svg')!.click();
    }
    const svgs = h.exports().filter((m) => m.format === 'svg');
    assert.equal(svgs.length, 2);
    for (const { data, fileName } of svgs) {
      assert.match(fileName, /^[\w.-]+\.svg$/);
      // every tag in the file is one the heatmap writer uses; hostile text only appears escaped
      // (parsed, not scanned: the figure's sentence line may hold a lone quote that would pair with an attribute's)
      const parsed = new h.win.DOMParser().parseFromString(data, 'image/svg+xml');
      assert.equal(parsed.getElementsByTagName('parsererror').length, 0, 'well-formed XML');
      const tags = new Set(Array.from(parsed.getElementsByTagName('*')).map((n) => n.localName));
      // the figure's legend adds a gradient (defs, linearGradient, stop) and the uniform-level tick (line)
      assert.deepEqual([...tags].sort(), ['defs', 'g', 'line', 'linearGradient', 'rect', 'stop', 'svg', 'text', 'title']);
      assert.ok(data.includes('&lt;svg onload=alert(3)&gt;'));
      const doc = new h.win.DOMParser().parseFromString(data, 'image/svg+xml');
      assert.equal(doc.documentElement.nodeName, 'svg');
      assert.equal(doc.getElementsByTagName('parsererror').length, 0);
      assertInert(doc.documentElement);
      const texts = Array.from(doc.querySelectorAll('title, text')).map((n) => n.textContent ?? '');
      for (const p of e.sourcePieces.slice(0, -1)) assert.ok(texts.some((t) => t.includes(p)), `${JSON.stringify(p)} kept in the SVG text`);
    }
  });

  test('the exported JSON is the explanation with its strings intact', () => {
    const h = boot('panel');
    const e = explanationWith((s) => s);
    exercisePanel(h, e);
    h.doc.querySelector<HTMLElement>('#export-json')!.click();
    const [json] = h.exports().filter((m) => m.format === 'json');
    assert.deepEqual(explanationFromJson(JSON.parse(json.data)), e);
  });
});

describe('side view with hostile text', () => {
  test('translation, tokens, notices and status messages stay text', () => {
    const run = (strings: (s: string) => string) => {
      const h = boot('sidebar');
      const e = explanationWith(strings);
      h.send({ type: 'progress', requestId: 1, message: strings(HOSTILE[1]) });
      h.send({ type: 'translation', requestId: 1, explanation: e, notice: strings(HOSTILE[0]) });
      h.$$('#target-tokens .token')[0]?.click();
      h.send({ type: 'error', requestId: 2, message: strings(HOSTILE[9]) });
      return { h, e };
    };
    const { h, e } = run((s) => s);
    const benign = run(harmless);
    assert.deepEqual(skeleton(h.doc.documentElement), skeleton(benign.h.doc.documentElement));
    assertInert(h.doc.documentElement);
    assert.equal(h.doc.querySelector('#translation')!.textContent, e.translation);
    assert.deepEqual(h.$$('#target-tokens .token .token-text').map((t) => t.textContent), e.targetPieces.slice(1));
    assert.equal(h.doc.querySelector('#status')!.textContent, HOSTILE[9]);
    h.send({ type: 'idle', message: HOSTILE[3] });
    assert.equal(h.doc.querySelector('#status')!.textContent, HOSTILE[3]);
    assertInert(h.doc.documentElement);
  });
});
