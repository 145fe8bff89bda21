/**
 * The detail heatmap's layers, zoom and high-contrast cells (issue: real editor text, items 4, 7 and 9): a head
 * change redraws only the cell bitmap, never the label canvases; the zoom buttons and + / − change the drawn cell
 * size; in high-contrast themes a weight of 1 % is drawn with visible contrast while zero stays background.
 * jsdom has no canvas 2D context: every canvas gets a recording one, so the drawing calls can be counted and read.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Explanation } from '../../../src/shared/explanation';
import { MIN_READABLE_CELL, zoomedCell } from '../../../webview/panel/detail';
import { contrastRatio, parseCssColor, type RGB } from '../../../webview/shared/colorScale';
import { HC_MIN_CONTRAST, HC_MIN_WEIGHT } from '../../../webview/shared/heatmap';
import { makeExplanation } from '../../../webview/testing/fixtures';
import { bootPanel } from '../../helpers/webviewDom';

interface Call {
  canvas: HTMLCanvasElement;
  op: string;
  args: unknown[];
}

/** Gives every canvas of `win` a 2D context that records its calls into `calls` (measureText: 6 px a character). */
function recordCanvases(win: Window & typeof globalThis, calls: Call[]): void {
  const contexts = new WeakMap<HTMLCanvasElement, object>();
  win.HTMLCanvasElement.prototype.getContext = function (this: HTMLCanvasElement) {
    let g = contexts.get(this);
    if (!g) {
      const canvas = this;
      g = new Proxy({} as Record<string | symbol, unknown>, {
        get: (target, prop) => {
          if (prop in target) return target[prop];
          if (prop === 'measureText') return (t: string) => ({ width: t.length * 6 });
          if (prop === 'createImageData') return (w: number, h: number) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) });
          return (...args: unknown[]) => void calls.push({ canvas, op: String(prop), args });
        },
        set: (target, prop, value) => {
          target[prop] = value;
          return true;
        },
      });
      contexts.set(this, g);
    }
    return g as never;
  } as never;
  win.HTMLCanvasElement.prototype.toDataURL = () => 'data:image/png;base64,iVBORw0KGgo=';
}

function boot(opts: { theme?: string; vars?: Record<string, string>; width?: number } = {}) {
  const calls: Call[] = [];
  const h = bootPanel({
    width: opts.width ?? 1000,
    setup: (win) => {
      recordCanvases(win, calls);
      if (opts.theme) win.document.body.className = opts.theme;
      for (const [k, v] of Object.entries(opts.vars ?? {})) win.document.documentElement.style.setProperty(k, v);
    },
  });
  /** The shown canvas of a layer (each attention kind has its own label canvases; the others are hidden). */
  const canvas = (cls: string) => h.$(`canvas.${cls}:not([hidden])`) as HTMLCanvasElement;
  const on = (cls: string, op: string) => calls.filter((c) => c.canvas === canvas(cls) && c.op === op);
  const explain = (e: Explanation) => h.send({ type: 'explanation', requestId: 1, explanation: e });
  return { ...h, calls, canvas, on, explain };
}

/** A sentence of n source pieces (and n generated ones). */
function longExplanation(n: number): Explanation {
  const sourcePieces = [...Array.from({ length: n - 1 }, (_, i) => `▁w${i}`), '</s>'];
  const generated = [...Array.from({ length: n - 1 }, (_, i) => `▁m${i}`), '</s>'];
  return makeExplanation({ sourcePieces, generated });
}

describe('detail heatmap layers (a click redraws only what it changed)', () => {
  it('a head or aggregation change redraws the cells only; each kind draws its labels once', () => {
    const h = boot();
    const e = makeExplanation({ encoderLayers: 2, heads: 2 });
    h.explain(e);
    const rows = e.attentions.encoder.queryLen;
    assert.equal(h.on('detail-row-labels', 'fillText').length, rows, 'every row label drawn once');
    assert.equal(h.on('detail-col-labels', 'fillText').length, e.attentions.encoder.keyLen);
    assert.equal(h.on('detail-cells', 'putImageData').length, 1);

    h.calls.length = 0;
    h.$('canvas.head-thumb[data-kind="encoder"][data-layer="1"][data-head="1"]')!.click();
    assert.equal(h.$('#detail-title')!.textContent, 'Encoder self-attention · layer 2 · head 2');
    assert.equal(h.on('detail-cells', 'putImageData').length, 1, 'the new head drawn');
    assert.equal(h.on('detail-row-labels', 'fillText').length, 0, 'row labels not redrawn');
    assert.equal(h.on('detail-col-labels', 'fillText').length, 0, 'column labels not redrawn');
    assert.equal(h.calls.filter((c) => c.canvas.id === 'detail-canvas').length, 0, 'the top layer never draws');

    h.$('canvas.agg-thumb[data-kind="encoder"][data-layer="0"][data-agg="max"]')!.click();
    assert.equal(h.on('detail-cells', 'putImageData').length, 2);
    assert.equal(h.on('detail-row-labels', 'fillText').length + h.on('detail-col-labels', 'fillText').length, 0);

    // Cross-attention: its own labels, drawn on its first showing (rows: the predicted tokens)
    h.calls.length = 0;
    h.$('canvas.head-thumb[data-kind="cross"][data-layer="0"][data-head="0"]')!.click();
    assert.equal(h.$$('canvas.detail-row-labels:not([hidden])').length, 1, 'one kind\'s labels shown');
    assert.equal(h.canvas('detail-row-labels').dataset.kind, 'cross');
    const rowTexts = h.on('detail-row-labels', 'fillText').map((c) => String(c.args[0]));
    assert.equal(rowTexts.length, e.attentions.cross.queryLen);
    assert.match(rowTexts[0], /Salama/);
    assert.equal(h.on('detail-col-labels', 'fillText').length, e.attentions.cross.keyLen);

    // back and forth between kinds (what clicking thumbnails of both does): no label is drawn again
    h.calls.length = 0;
    h.$('canvas.head-thumb[data-kind="encoder"][data-layer="0"][data-head="1"]')!.click();
    assert.equal(h.canvas('detail-row-labels').dataset.kind, 'encoder');
    h.$('canvas.agg-thumb[data-kind="cross"][data-layer="1"][data-agg="mean"]')!.click();
    assert.equal(h.calls.filter((c) => c.op === 'fillText').length, 0, 'labels kept per kind');
    assert.equal(h.calls.filter((c) => c.op === 'putImageData' && c.canvas.classList.contains('detail-cells')).length, 2);
  });

  it('the selected step and the keyboard cell are outlined by elements: moving them draws nothing', () => {
    const h = boot();
    h.explain(makeExplanation());
    h.$('canvas.head-thumb[data-kind="cross"][data-layer="0"][data-head="0"]')!.click();
    const canvas = h.$('#detail-canvas')!;
    canvas.focus();
    h.calls.length = 0;
    const outline = h.$('.detail-cell-outline')!;
    const cell = Number(h.$('.detail-stack')!.dataset.cell);
    const left0 = parseFloat(outline.style.left);
    h.key(canvas, 'ArrowRight');
    assert.equal(parseFloat(outline.style.left) - left0, cell, 'the outline moved one cell');
    assert.equal(outline.hasAttribute('hidden'), false);
    h.$$('#target-tokens .token')[1].click();
    const step = h.$('.detail-step-outline')!;
    assert.equal(step.hasAttribute('hidden'), false, 'the selected step is outlined');
    assert.equal(h.calls.filter((c) => c.op === 'fillText' || c.op === 'putImageData').length, 0, `drawn: ${h.calls.map((c) => c.op)}`);
    const top = parseFloat(step.style.top);
    h.$$('#target-tokens .token')[2].click();
    assert.equal(parseFloat(step.style.top) - top, cell, 'the step outline moved one row');
  });

  it('a token click touches only the generated-token buttons whose state changes', () => {
    const h = boot();
    h.explain(longExplanation(20));
    const buttons = h.$$('#target-tokens .token');
    const changed = new Set<Element>();
    const observer = new h.win.MutationObserver((records) => records.forEach((r) => changed.add(r.target as Element)));
    for (const b of buttons) observer.observe(b, { attributes: true, attributeFilter: ['class', 'aria-pressed'] });
    buttons[3].click();
    buttons[7].click();
    const seen = observer.takeRecords().map((r) => r.target as Element);
    for (const t of seen) changed.add(t);
    observer.disconnect();
    assert.deepEqual([...changed].map((b) => buttons.indexOf(b as HTMLElement)).sort((a, b) => a - b), [3, 7]);
    assert.equal(buttons[7].getAttribute('aria-pressed'), 'true');
    assert.equal(buttons[3].getAttribute('aria-pressed'), 'false');

    // A head change of the encoder keeps step 8's cross-attention tints: the source buttons are not restyled.
    const sources = h.$$('#source-tokens .token');
    const tinted = sources.map((b) => b.style.backgroundColor);
    assert.ok(tinted.every((c) => c !== ''), 'every source token tinted');
    const restyled = new h.win.MutationObserver(() => undefined);
    for (const b of sources) restyled.observe(b, { attributes: true });
    h.$('canvas.head-thumb[data-kind="encoder"][data-layer="1"][data-head="1"]')!.click();
    assert.equal(restyled.takeRecords().length, 0);
    buttons[2].click();
    assert.ok(restyled.takeRecords().length > 0, 'another step restyles them');
    restyled.disconnect();
    assert.notDeepEqual(sources.map((b) => b.style.backgroundColor), tinted);
  });
});

describe('detail heatmap zoom (item 9)', () => {
  /** The y of each row label drawn in the last paint of the row-label canvas. */
  const rowLabelYs = (h: ReturnType<typeof boot>) => h.on('detail-row-labels', 'fillText').map((c) => Number(c.args[2]));

  it('100 % draws every label at the readable cell size, 200 % doubles it, Fit puts the whole 96-token matrix in view', () => {
    const h = boot({ width: 1000 });
    const e = longExplanation(96);
    h.explain(e);
    const cells = h.canvas('detail-cells');
    const pressed = () => h.$$('#zoom vscode-button').filter((b) => b.getAttribute('aria-pressed') === 'true').map((b) => b.id);
    assert.deepEqual(pressed(), ['zoom-1']);
    assert.equal(parseFloat(cells.style.width), 96 * MIN_READABLE_CELL);
    let ys = rowLabelYs(h);
    assert.equal(ys.length, 96, 'every row label');
    assert.equal(ys[1] - ys[0], MIN_READABLE_CELL);

    h.calls.length = 0;
    h.$('#zoom-2')!.click();
    assert.deepEqual(pressed(), ['zoom-2']);
    assert.equal(parseFloat(cells.style.width), 96 * 2 * MIN_READABLE_CELL);
    ys = rowLabelYs(h);
    assert.equal(ys.length, 96);
    assert.equal(ys[1] - ys[0], 2 * MIN_READABLE_CELL, 'labels follow the cells');
    assert.equal(h.on('detail-cells', 'putImageData').length, 0, 'zoom scales the cell bitmap, it does not redraw it');

    h.calls.length = 0;
    h.$('#zoom-fit')!.click();
    const stack = h.$('.detail-stack')!;
    const cell = Number(stack.dataset.cell);
    assert.ok(cell >= 1 && cell < MIN_READABLE_CELL, `fit cell ${cell}`);
    assert.ok(parseFloat(stack.style.width) <= 1000 - 16, `whole width in view: ${stack.style.width}`);
    assert.equal(parseFloat(cells.style.width), 96 * cell);
    ys = rowLabelYs(h);
    const stride = Math.ceil(12 / cell);
    assert.equal(ys.length, Math.ceil(96 / stride), 'every n-th label where they would overlap');
    assert.equal(ys[1] - ys[0], stride * cell);
    assert.equal(zoomedCell('fit', 13, { rows: 96, cols: 96, left: 100, top: 100, pad: 4 }, { width: 1000, height: 2000 }), 9);
  });

  it('+ and − on the focused heatmap step through the zooms; a short sentence fits at its readable size', () => {
    const h = boot();
    h.explain(longExplanation(96));
    const canvas = h.$('#detail-canvas')!;
    canvas.focus();
    const cell = () => Number(h.$('.detail-stack')!.dataset.cell);
    h.key(canvas, '+');
    assert.equal(cell(), 2 * MIN_READABLE_CELL);
    h.key(canvas, '+');
    assert.equal(cell(), 2 * MIN_READABLE_CELL, 'no zoom past 200 %');
    h.key(canvas, '-');
    assert.equal(cell(), MIN_READABLE_CELL);
    h.key(canvas, '-');
    assert.ok(cell() < MIN_READABLE_CELL);
    assert.equal(h.$('#zoom-fit')!.getAttribute('aria-pressed'), 'true');
    assert.match(h.$('#readout')!.textContent!, /→/, 'the keyboard cursor still reads out');

    const s = boot();
    s.explain(makeExplanation());
    const readable = Number(s.$('.detail-stack')!.dataset.cell);
    s.$('#zoom-fit')!.click();
    assert.equal(Number(s.$('.detail-stack')!.dataset.cell), readable, 'fit never enlarges past 100 %');
  });

  it('an exported figure is drawn at the readable size whatever the zoom', () => {
    const h = boot();
    h.explain(longExplanation(40));
    const sizes: number[][] = [];
    h.win.HTMLCanvasElement.prototype.toDataURL = function (this: HTMLCanvasElement) {
      sizes.push([this.width, this.height]);
      return 'data:image/png;base64,iVBORw0KGgo=';
    };
    h.$('#export-png')!.click();
    h.$('#zoom-fit')!.click();
    h.$('#export-png')!.click();
    assert.equal(h.sent('export').length, 2);
    assert.deepEqual(sizes[1], sizes[0]);
  });
});

describe('high contrast: small weights stay visible (item 7)', () => {
  /** The explanation with encoder layer 1 head 1 row 1 = [1 %, exactly 0, 50 %, rest]. */
  function withSmallWeight(): Explanation {
    const e = makeExplanation({ sourcePieces: ['▁a', '▁b', '▁c', '▁d', '</s>'] });
    const w = e.attentions.encoder.weights;
    const k = e.attentions.encoder.keyLen;
    w.set([0.01, 0, 0.5, 0.49, 0].slice(0, k), 0);
    return e;
  }
  /** The colours of the detail cells' first row as drawn (the last putImageData on the cell bitmap). */
  function firstRow(h: ReturnType<typeof boot>, n: number): RGB[] {
    const image = h.on('detail-cells', 'putImageData').at(-1)!.args[0] as { data: Uint8ClampedArray };
    return Array.from({ length: n }, (_, i) => [image.data[i * 4], image.data[i * 4 + 1], image.data[i * 4 + 2]] as RGB);
  }

  for (const [theme, bg, accent] of [
    ['vscode-high-contrast', '#000000', '#3794ff'],
    ['vscode-high-contrast-light', '#ffffff', '#0f4a85'],
  ] as const) {
    it(`${theme}: a weight of 0.01 has at least ${HC_MIN_CONTRAST}:1 contrast, zero is the background, order is kept`, () => {
      const h = boot({ theme, vars: { '--vscode-editor-background': bg, '--vscode-charts-blue': accent } });
      h.explain(withSmallWeight());
      const background = parseCssColor(bg)!;
      const [small, zero, half] = firstRow(h, 3);
      assert.deepEqual(zero, background, 'exactly zero stays background');
      assert.ok(contrastRatio(small, background) >= HC_MIN_CONTRAST, `1 %: ${small} on ${background}: ${contrastRatio(small, background).toFixed(2)}`);
      assert.ok(contrastRatio(half, background) > contrastRatio(small, background), 'a larger weight stands out more');
      assert.ok(HC_MIN_WEIGHT <= 0.01);
      assert.match(h.$('#detail-note')!.textContent!, /High contrast/);
      // the thumbnails use the same floor
      const thumb = h.$('canvas.head-thumb[data-kind="encoder"][data-layer="0"][data-head="0"]') as HTMLCanvasElement;
      const image = h.calls.filter((c) => c.canvas === thumb && c.op === 'putImageData').at(-1)!.args[0] as { data: Uint8ClampedArray };
      assert.ok(contrastRatio([image.data[0], image.data[1], image.data[2]], background) >= HC_MIN_CONTRAST);
    });
  }

  it('the ordinary dark theme is unchanged: 1 % is a faint tint (what vanished in high contrast)', () => {
    const h = boot({ theme: 'vscode-dark', vars: { '--vscode-editor-background': '#000000', '--vscode-charts-blue': '#3794ff' } });
    h.explain(withSmallWeight());
    const [small, zero] = firstRow(h, 2);
    assert.deepEqual(zero, [0, 0, 0]);
    assert.ok(contrastRatio(small, [0, 0, 0]) < 1.2, `${small}`);
    assert.doesNotMatch(h.$('#detail-note')!.textContent!, /High contrast/);
  });
});
