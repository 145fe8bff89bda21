/**
 * Views that teach by default (issue: real editor text): the sentence list, the colour scale, decoder row
 * labels and cross-attention defaults, interaction defects, the wide layout and the command's name.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { Explanation } from '../../../src/shared/explanation';
import type { PanelViewState, SentenceSummary } from '../../../src/shared/protocol';
import { sinusoidalPositions } from '../../../src/model/network/positions';
import { EMPTY_PANEL_TEXT } from '../../../webview/panel/app';
import { MIN_READABLE_CELL } from '../../../webview/panel/detail';
import { FIGURE_SCALE, figureLayout } from '../../../webview/panel/export';
import { TWO_COLUMN_MIN_WIDTH } from '../../../webview/panel/layout';
import { curveSamples, sinusoidAt } from '../../../webview/panel/pe';
import { selectMatrix } from '../../../webview/panel/selection';
import { defaultPeDimensions, sanitizeView } from '../../../webview/panel/state';
import { glossaryText } from '../../../webview/panel/tokens';
import { contrastRatio, divergingScale, lerpColor, parseCssColor, textColorOn, type RGB } from '../../../webview/shared/colorScale';
import { dropdownPosition } from '../../../webview/shared/controls';
import { computeLayout } from '../../../webview/shared/heatmap';
import { makeExplanation } from '../../../webview/testing/fixtures';
import { bootPanel, type PanelHarness } from '../../helpers/webviewDom';

const ROOT = path.join(import.meta.dirname, '..', '..', '..');

type Harness = PanelHarness & { view: () => PanelViewState };
function boot(width = 1000, setup?: (win: Window & typeof globalThis) => void): Harness {
  const h = bootPanel({ width, setup });
  return {
    ...h,
    view: () => {
      const all = h.sent('viewState');
      return all[all.length - 1].state;
    },
  };
}

const explain = (h: Harness, explanation: Explanation, extra: Record<string, unknown> = {}, requestId = 1) =>
  h.send({ type: 'explanation', requestId, explanation, ...extra });

/** Sets a vscode-single-select's value and fires its change event, as a user's pick does. */
function pick(h: Harness, id: string, value: string): void {
  const s = h.$(`#${id}`) as HTMLElement & { value: string };
  s.value = value;
  s.dispatchEvent(new h.win.Event('change'));
}

describe('names (item 10)', () => {
  it('every command is in the "Attention Lens" category and the empty panel names the explain command as the palette shows it', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const commands = pkg.contributes.commands as Array<{ command: string; title: string; category?: string }>;
    for (const c of commands) assert.equal(c.category, 'Attention Lens', c.command);
    const explainCmd = commands.find((c) => c.command === 'attentionLens.explainSelection')!;
    const h = boot();
    assert.equal(h.$('#status')!.textContent, EMPTY_PANEL_TEXT);
    assert.ok(EMPTY_PANEL_TEXT.includes(`“${explainCmd.category}: ${explainCmd.title}”`), EMPTY_PANEL_TEXT);
    const key = (pkg.contributes.keybindings as Array<{ command: string; key: string }>).find((k) => k.command === explainCmd.command)!.key;
    assert.ok(EMPTY_PANEL_TEXT.toLowerCase().includes(key), `names the key ${key}`);
  });
});

describe('sentence list (item 1)', () => {
  const sentences: SentenceSummary[] = [
    { text: 'The lion kills the tiger.', translation: 'El león mata al tigre.' },
    { text: 'The cat sleeps.', translation: 'El gato duerme.', notice: 'This model translates English; 50 % of this text is unknown to its vocabulary.' },
    { text: 'Where is the dog?' },
    { text: 'It is here.', error: 'model failed' },
  ];

  it('shows one tab per sentence with its translation, the first selected; a pending one is disabled', () => {
    const h = boot();
    explain(h, makeExplanation(), { sentences, sentenceIndex: 0 });
    const tabs = h.$$('#sentence-tabs .sentence-tab');
    assert.equal(tabs.length, 4);
    assert.deepEqual(tabs.map((t) => t.getAttribute('aria-selected')), ['true', 'false', 'false', 'false']);
    assert.deepEqual(h.$$('.sentence-translation').map((t) => t.textContent), ['→ El león mata al tigre.', '→ El gato duerme.', 'Translating…', 'Failed: model failed']);
    assert.match(tabs[1].querySelector('.sentence-notice')!.textContent!, /unknown to its vocabulary/);
    assert.equal((tabs[2] as HTMLButtonElement).disabled, true);
    assert.equal(h.$('#sentences')!.hidden, false);
  });

  it('selecting a sentence asks the host for it; the list updates as translations arrive; one sentence hides the list', () => {
    const h = boot();
    explain(h, makeExplanation(), { sentences, sentenceIndex: 0 });
    h.$$('#sentence-tabs .sentence-tab')[1].click();
    assert.deepEqual(h.sent('selectSentence'), [{ type: 'selectSentence', index: 1 }]);
    h.$$('#sentence-tabs .sentence-tab')[2].click(); // still translating: nothing to show yet
    assert.equal(h.sent('selectSentence').length, 1);
    const done = sentences.map((s, i) => (i === 2 ? { ...s, translation: '¿Dónde está el perro?' } : s));
    h.send({ type: 'sentences', requestId: 1, sentences: done, sentenceIndex: 0 });
    assert.equal(h.$$('.sentence-translation')[2].textContent, '→ ¿Dónde está el perro?');
    explain(h, makeExplanation(), { sentences: [sentences[0]], sentenceIndex: 0 }, 2);
    assert.equal(h.$('#sentences')!.hidden, true);
  });
});

describe('colour scale (item 5)', () => {
  it('defaults to an absolute 0–1 scale with the uniform level 1/n marked; per-matrix contrast is a labelled option', () => {
    const h = boot();
    const e = makeExplanation();
    explain(h, e);
    const n = e.attentions.encoder.keyLen;
    assert.equal(Number(h.$('#legend .legend-min')!.textContent), 0);
    assert.equal(Number(h.$('#legend .legend-max')!.textContent), 1);
    const mark = h.$('#legend .legend-mark')!;
    assert.equal(Number(mark.dataset.value), Number((1 / n).toFixed(4)));
    assert.equal(mark.textContent, `1/${n}`);
    assert.match(h.$('#detail-note')!.textContent!, /absolute scale from 0 to 1/);

    pick(h, 'scale-select', 'matrix');
    const shown = selectMatrix(e, h.view());
    const max = Math.max(...Array.from(shown.matrix.values));
    assert.equal(Number(h.$('#legend .legend-max')!.textContent), Number(max.toFixed(3)));
    assert.match(h.$('#legend .legend-caption')!.textContent!, /contrast scale .*not comparable/);
    const labels = Array.from(h.$('#scale-select')!.children).map((o) => o.textContent);
    assert.deepEqual(labels, ['Absolute 0–1 (comparable)', 'Contrast: 0 to this matrix’s max']);
  });

  it('the decoder note says masked cells are hatched', () => {
    const h = boot();
    explain(h, makeExplanation());
    pick(h, 'kind-select', 'decoder');
    assert.match(h.$('#detail-note')!.textContent!, /Masked \(hatched\)/);
  });

  it('positional encodings use a diverging scale centred on 0, symmetric limits', () => {
    const at = (t: number) => divergingScale(t);
    const [r0, , b0] = at(0);
    const [r1, , b1] = at(1);
    assert.ok(b0 > r0, 'negative end is blue');
    assert.ok(r1 > b1, 'positive end is red');
    const mid = at(0.5);
    assert.ok(Math.min(...mid) > 220, `middle is near white: ${mid}`);
    const h = boot();
    explain(h, makeExplanation({ dModel: 8 }));
    const min = Number(h.$('#pe-legend .legend-min, #pe .legend-min')!.textContent);
    const max = Number(h.$('#pe-legend .legend-max, #pe .legend-max')!.textContent);
    assert.equal(min, -max);
  });
});

describe('decoder labels and cross-attention defaults (item 6)', () => {
  it('labels decoder and cross rows by the token they predict, input in brackets', () => {
    const e = makeExplanation();
    for (const kind of ['decoder', 'cross'] as const) {
      const sel = selectMatrix(e, { ...sanitizeView(h0(), { kind }, e) });
      sel.rowLabels.forEach((label, i) => assert.equal(label, `${e.targetPieces[i + 1]} (in: ${e.targetPieces[i]})`));
    }
    const enc = selectMatrix(e, sanitizeView(h0(), { kind: 'encoder' }, e));
    assert.deepEqual(enc.rowLabels, e.sourcePieces);
  });

  it('selecting a generated token opens cross-attention on the last layer, mean over heads', () => {
    const h = boot();
    const e = makeExplanation({ encoderLayers: 3 });
    explain(h, e);
    h.$$('#target-tokens .token')[1].click();
    const v = h.view();
    assert.deepEqual([v.kind, v.layer, v.aggregation, v.selectedStep], ['cross', 2, 'mean', 1]);
    assert.match(h.$('#source-caption')!.textContent!, /layer 3 · mean over heads/);
  });

  it('explains ▁ and the decoder start token where the tokens first appear', () => {
    const e = makeExplanation();
    const text = glossaryText(e);
    assert.match(text, /“▁” marks the start of a word/);
    assert.match(text, /starts every translation from “<pad>”, Marian's decoder start token/);
    const h = boot();
    explain(h, e);
    assert.equal(h.$('#token-glossary')!.textContent, text);
  });
});

function h0(): PanelViewState {
  return { kind: 'encoder', layer: 0, head: 0, aggregation: 'head', colorScheme: 'theme', selectedStep: -1, peDimensions: [0], colorScale: 'absolute', zoom: 1 };
}

describe('interaction defects (item 7)', () => {
  it('the readout keeps its text when the heatmap loses focus (a click on Export is not lost to a reflow)', () => {
    const h = boot();
    explain(h, makeExplanation());
    const canvas = h.$('#detail-canvas')!;
    canvas.focus();
    canvas.dispatchEvent(new h.win.KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
    const before = h.$('#readout')!.textContent;
    assert.match(before!, /→/);
    canvas.blur();
    assert.equal(h.$('#readout')!.textContent, before);
  });

  it('rollout disables the layer dropdown; other aggregations enable it', () => {
    const h = boot();
    explain(h, makeExplanation({ encoderLayers: 3 }));
    pick(h, 'aggregation-select', 'rollout');
    assert.equal(h.$('#layer-select')!.hasAttribute('disabled'), true);
    assert.equal(h.view().layer, 2, 'rollout through the last layer');
    pick(h, 'aggregation-select', 'mean');
    assert.equal(h.$('#layer-select')!.hasAttribute('disabled'), false);
  });

  it('clicking a thumbnail scrolls the enlarged heatmap into view', () => {
    const calls: unknown[] = [];
    const h = boot(1000, (win) => {
      win.HTMLElement.prototype.scrollIntoView = function (this: HTMLElement, arg?: unknown) {
        calls.push([this.id, arg]);
      };
    });
    explain(h, makeExplanation());
    h.$('canvas.head-thumb[data-kind="decoder"][data-layer="1"][data-head="1"]')!.click();
    assert.deepEqual(calls.at(-1), ['detail-canvas', { block: 'nearest', behavior: 'instant' }]);
  });

  it('a dropdown near the bottom opens upward, elsewhere downward', () => {
    assert.equal(dropdownPosition(100, 126, 800, 4), 'below');
    assert.equal(dropdownPosition(740, 766, 800, 4), 'above');
    assert.equal(dropdownPosition(20, 46, 90, 4), 'below', 'no more room above either');
  });

  it('the PE curves are the continuous sinusoids through the model\'s values at the token positions', () => {
    const d = 16;
    const table = sinusoidalPositions(6, d);
    for (let p = 0; p < 6; p++) for (let j = 0; j < d; j++) assert.ok(Math.abs(sinusoidAt(p, j, d) - table[p * d + j]) < 1e-6, `${p},${j}`);
    const samples = curveSamples(6);
    assert.ok(samples.length >= 400 && samples[0] === 0 && samples.at(-1) === 5);
    const h = boot();
    explain(h, makeExplanation({ dModel: 8 }));
    const path = h.$('svg#pe-curves path.pe-line')!.getAttribute('d')!;
    assert.ok(path.split(/[LC]/).length > 100, 'a smooth curve, not a polyline through the positions');
    const dims = h.view().peDimensions.length;
    assert.equal(h.$$('svg#pe-curves .pe-point').length, dims * Math.min(3, makeExplanation({ dModel: 8 }).positional.positions));
  });

  it('the PE dimensions follow a switch to a smaller model and back', () => {
    const big = makeExplanation({ dModel: 256 });
    const small = makeExplanation({ dModel: 64 });
    const v1 = sanitizeView(h0(), { peDimensions: defaultPeDimensions(256) }, big);
    const v2 = sanitizeView(v1, undefined, small);
    assert.deepEqual(v2.peDimensions, defaultPeDimensions(64));
    const v3 = sanitizeView(v2, undefined, big);
    assert.deepEqual(v3.peDimensions, defaultPeDimensions(256));
    // a user's own choice that fits both models is kept
    const mine = sanitizeView(v3, { peDimensions: [3, 7] }, big);
    assert.deepEqual(sanitizeView(mine, undefined, small).peDimensions, [3, 7]);
  });

  it('weight labels on tinted tokens keep a readable contrast in dark and high-contrast themes', () => {
    const bgs: RGB[] = [[30, 30, 30], [0, 0, 0], [255, 255, 255]];
    const accent: RGB = [55, 148, 255];
    for (const bg of bgs) {
      for (const alpha of [0.08, 0.3, 0.5, 0.8]) {
        const tint = lerpColor(bg, accent, alpha);
        assert.ok(contrastRatio(textColorOn(tint), tint) >= 4.5, `${bg} α=${alpha}`);
      }
    }
    const h = boot();
    h.doc.body.className = 'vscode-high-contrast';
    h.app.themeChanged();
    explain(h, makeExplanation());
    h.$$('#target-tokens .token')[0].click();
    for (const b of h.$$('#source-tokens .token.weighted')) {
      const bg = parseCssColor(b.style.backgroundColor.replace(/,\s*[\d.]+\)$/, ')').replace('rgba', 'rgb'));
      assert.ok(bg, b.style.backgroundColor);
      const alpha = Number(/,\s*([\d.]+)\)$/.exec(b.style.backgroundColor)?.[1]);
      assert.ok(alpha >= 0.3, `high contrast keeps small weights visible: ${alpha}`);
      assert.ok(b.style.color, 'text colour set');
    }
  });

  it('exports a figure: 2× size, title, sentence, translation, heatmap and legend with the uniform level', () => {
    const texts: string[] = [];
    let size: [number, number] | undefined;
    const h = boot(1000, (win) => {
      const fake = new Proxy({} as Record<string, unknown>, {
        get: (target, prop) => {
          if (prop === 'fillText') return (t: string) => texts.push(t);
          if (prop === 'measureText') return (t: string) => ({ width: t.length * 6 });
          if (prop === 'createImageData') return (w: number, hh: number) => ({ data: new Uint8ClampedArray(w * hh * 4) });
          if (prop in target) return target[prop as string];
          return () => undefined;
        },
        set: (target, prop, value) => {
          target[prop as string] = value;
          return true;
        },
      });
      win.HTMLCanvasElement.prototype.getContext = function () {
        return fake as never;
      } as never;
      win.HTMLCanvasElement.prototype.toDataURL = function (this: HTMLCanvasElement) {
        size = [this.width, this.height];
        return 'data:image/png;base64,iVBORw0KGgo=';
      };
    });
    const e = makeExplanation();
    explain(h, e);
    texts.length = 0;
    h.$('#export-png')!.click();
    const [msg] = h.sent('export');
    assert.equal(msg.format, 'png');
    assert.ok(texts.includes(selectMatrix(e, h.view()).title), texts.join(' | '));
    assert.ok(texts.some((t) => t.startsWith('Source: ') && t.includes('Hello')));
    assert.ok(texts.includes(`Translation: ${e.translation}`));
    assert.ok(texts.includes(`uniform 1/${e.attentions.encoder.keyLen}`));
    assert.ok(size && size[0] % FIGURE_SCALE === 0 && size[0] >= 2 * 520, `2× width: ${size}`);
    const f = figureLayout(300, 200, 2);
    assert.ok(f.heatmapY > f.lineYs[1] && f.legendY > f.heatmapY + 200 && f.height > f.legendY);
  });
});

describe('SVG figure (item 7)', () => {
  it('the exported SVG carries the sentence, the translation and a legend with the uniform level', () => {
    const h = boot();
    const e = makeExplanation();
    explain(h, e);
    h.$('#export-svg')!.click();
    const [msg] = h.sent('export');
    const svg = new h.win.DOMParser().parseFromString(msg.data, 'image/svg+xml');
    const texts = Array.from(svg.querySelectorAll('text')).map((t) => t.textContent);
    assert.ok(texts.includes(selectMatrix(e, h.view()).title));
    assert.ok(texts.includes(`Translation: ${e.translation}`));
    assert.ok(texts.some((t) => t?.startsWith('Source: ')));
    assert.ok(texts.includes(`uniform 1/${e.attentions.encoder.keyLen}`));
    assert.equal(svg.querySelectorAll('linearGradient stop').length, 11);
    assert.equal(svg.querySelector('svg')!.getAttribute('height'), svg.querySelector('rect')!.getAttribute('height'), 'background covers the figure');
  });
});

describe('layout (item 9)', () => {
  it('uses two columns when the panel is wide and one when narrow, following resizes', () => {
    const h = boot(TWO_COLUMN_MIN_WIDTH + 200);
    assert.ok(h.$('#content')!.classList.contains('two-column'));
    Object.defineProperty(h.win, 'innerWidth', { value: 800, configurable: true });
    h.win.dispatchEvent(new h.win.Event('resize'));
    assert.ok(!h.$('#content')!.classList.contains('two-column'));
    const css = fs.readFileSync(path.join(ROOT, 'webview', 'styles.css'), 'utf8');
    assert.match(css, /\.content\.two-column \{[^}]*grid-template-areas:[^}]*"tokens detail"[^}]*"steps detail"/);
  });

  it('a 96-token heatmap keeps cells large enough for every label (the frame scrolls)', () => {
    const l = computeLayout(96, 96, { rowLabelWidth: 80, colLabelHeight: 80, minCell: MIN_READABLE_CELL });
    assert.equal(l.cell, MIN_READABLE_CELL);
    assert.equal(Math.max(1, Math.ceil(12 / l.cell)), 1, 'every label drawn');
    assert.ok(l.width >= 96 * MIN_READABLE_CELL);
  });
});
