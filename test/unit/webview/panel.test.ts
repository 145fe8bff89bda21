/** The panel webview rendered in jsdom: DOM contract, escaping of untrusted text, messages, exports, state. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Explanation } from '../../../src/shared/explanation';
import type { PanelViewState } from '../../../src/shared/protocol';
import { attentionRow, explanationFromJson, headMatrix, layerWeights } from '../../../src/shared/attention';
import { PERSIST_DELAY_MS } from '../../../webview/panel/app';
import type { PersistedPanelState } from '../../../webview/panel/state';
import { XSS, makeExplanation } from '../../../webview/testing/fixtures';
import { bootPanel, type PanelHarness } from '../../helpers/webviewDom';

type Harness = PanelHarness;
const boot = (saved?: PersistedPanelState): Harness => bootPanel({ saved });

function explain(h: Harness, explanation: Explanation, extra: Record<string, unknown> = {}): void {
  h.send({ type: 'explanation', requestId: 1, explanation, ...extra });
}

const lastView = (h: Harness): PanelViewState => {
  const all = h.sent('viewState');
  assert.ok(all.length > 0, 'no viewState posted');
  return all[all.length - 1].state;
};

describe('panel: handshake and structure', () => {
  it('posts ready once on load and shows an empty-state hint', () => {
    const h = boot();
    assert.deepEqual(h.api.posted, [{ type: 'ready' }]);
    assert.equal(h.api.getStateCalls, 1);
    assert.ok(h.$('#content')?.hasAttribute('hidden'));
    assert.match(h.$('#status')!.textContent!, /Select some text/);
  });

  it('renders kinds × layers × heads head thumbnails plus per-layer mean/max thumbnails', () => {
    const h = boot();
    explain(h, makeExplanation({ encoderLayers: 2, heads: 2 }));
    assert.equal(h.$$('canvas.head-thumb').length, 3 * 2 * 2);
    assert.equal(h.$$('canvas.agg-thumb').length, 3 * 2 * 2);
    assert.equal(h.$$('#overview [data-kind].kind-block').length, 3);
    const t = h.$('canvas.head-thumb[data-kind="decoder"][data-layer="1"][data-head="0"]')!;
    assert.equal(t.getAttribute('aria-label'), 'decoder layer 2 head 1');
    assert.equal(t.getAttribute('tabindex'), '0');
    assert.ok(!h.$('.agg-thumb')!.classList.contains('head-thumb'));
    assert.deepEqual(h.errors, []);
  });

  it('gives the bundled model shape (3 + 3 layers × 4 heads) 36 head thumbnails', () => {
    const h = boot();
    explain(h, makeExplanation({ encoderLayers: 3, heads: 4 }));
    assert.equal(h.$$('canvas.head-thumb').length, 36);
    // Thumbnails are sized one pixel per cell (CSS scales them up).
    const cross = h.$('canvas.head-thumb[data-kind="cross"]') as HTMLCanvasElement;
    assert.equal(cross.width, 3);
    assert.equal(cross.height, 3);
  });

  it('renders tokens, translation, steps and candidates', () => {
    const h = boot();
    const e = makeExplanation();
    explain(h, e);
    assert.equal(h.$$('#source-tokens .token').length, e.sourcePieces.length);
    assert.equal(h.$$('#target-tokens .token').length, e.targetPieces.length - 1);
    assert.equal(h.$('#translation')!.textContent, e.translation);
    assert.equal(h.$$('#steps .step').length, e.steps.length);
    assert.equal(h.$$('#steps .candidate').length, e.steps.reduce((n, s) => n + s.topPieces.length, 0));
    const chosen = h.$$('#steps .candidate.chosen');
    assert.equal(chosen.length, e.steps.length);
    // At step 2 the fixture's chosen token is the second candidate.
    const step2 = h.$$('#steps .step')[1];
    const cands = Array.from(step2.querySelectorAll('.candidate'));
    assert.ok(cands[1].classList.contains('chosen'));
    assert.equal(cands[1].querySelector('.cand-piece')!.textContent, e.steps[1].chosenPiece);
    assert.equal((cands[1].querySelector('.prob-bar') as HTMLElement).style.width, '60%');
    assert.equal(cands[1].querySelector('.cand-prob')!.textContent, '60.0%');
    assert.match(h.$('#model-summary')!.textContent!, /d_model 8 · 2\+2 layers · 2 heads/);
    assert.ok(!h.$('#content')!.hasAttribute('hidden'));
  });

  it('marks SentencePiece word boundaries visibly without changing the text', () => {
    const h = boot();
    explain(h, makeExplanation());
    const first = h.$('#source-tokens .token')!;
    assert.equal(first.textContent, '▁Hello');
    assert.equal(first.querySelector('.sp-marker')!.textContent, '▁');
    assert.ok(h.$$('#source-tokens .token')[2].classList.contains('special'), '</s> is styled as special');
  });
});

describe('panel: untrusted text stays text', () => {
  const hostile = makeExplanation({
    sourcePieces: ['▁Hi', XSS, '<script>alert(2)</script>', '</s>'],
    generated: [XSS, '</s>'],
    translation: `${XSS} & <b>bold</b>`,
  });

  it('never creates elements from token strings or the translation', () => {
    const h = boot();
    explain(h, hostile);
    assert.equal(h.doc.querySelectorAll('img').length, 0);
    assert.equal(h.doc.querySelectorAll('script').length, 0);
    assert.equal(h.doc.querySelectorAll('b').length, 0);
    const src = h.$$('#source-tokens .token');
    assert.equal(src[1].textContent, XSS);
    assert.equal(src[2].textContent, '<script>alert(2)</script>');
    assert.equal(h.$$('#target-tokens .token')[0].textContent, XSS);
    assert.equal(h.$('#translation')!.textContent, hostile.translation);
    assert.equal(h.$('#steps .candidate.chosen .cand-piece')!.textContent, XSS);
    const marks = h.$$('#pe-curves .token-mark title').map((t) => t.textContent);
    assert.ok(marks.includes(`position 1: ${XSS}`));
    assert.ok(h.doc.body.innerHTML.includes('&lt;img src=x onerror=alert(1)&gt;'));
  });

  it('escapes token text inside the exported SVG', () => {
    const h = boot();
    explain(h, hostile);
    h.$('#export-svg')!.click();
    const [msg] = h.sent('export');
    assert.ok(msg, 'an export message was posted');
    assert.equal(msg.format, 'svg');
    assert.equal(msg.fileName, 'attention-encoder-L1-H1.svg');
    assert.ok(!msg.data.includes('<img'), 'raw <img in SVG');
    assert.ok(!msg.data.includes('<script'), 'raw <script in SVG');
    assert.ok(msg.data.includes('&lt;img src=x onerror=alert(1)&gt;'));
    const parsed = new h.win.DOMParser().parseFromString(msg.data, 'image/svg+xml');
    assert.equal(parsed.documentElement.nodeName, 'svg');
    assert.equal(parsed.getElementsByTagName('parsererror').length, 0);
    assert.equal(parsed.getElementsByTagName('img').length, 0);
    assert.equal(parsed.querySelectorAll('.cells rect').length, 4 * 4);
    const titles = Array.from(parsed.getElementsByTagName('title')).map((t) => t.textContent ?? '');
    assert.ok(titles.some((t) => t.startsWith(`${XSS} → ▁Hi: `)), 'full label kept in cell titles');
  });
});

describe('panel: selection and the large view', () => {
  it('selects a head from its thumbnail by click and by keyboard', () => {
    const h = boot();
    const e = makeExplanation();
    explain(h, e);
    h.$('canvas.head-thumb[data-kind="decoder"][data-layer="1"][data-head="0"]')!.click();
    assert.deepEqual(
      { kind: lastView(h).kind, layer: lastView(h).layer, head: lastView(h).head, aggregation: lastView(h).aggregation },
      { kind: 'decoder', layer: 1, head: 0, aggregation: 'head' },
    );
    assert.equal(h.$('#detail-title')!.textContent, 'Decoder masked self-attention · layer 2 · head 1');
    assert.equal(h.$$('.thumb.selected').length, 1);
    assert.equal(h.$('.thumb.selected')!.getAttribute('aria-label'), 'decoder layer 2 head 1');

    const agg = h.$('canvas.agg-thumb[data-kind="cross"][data-layer="0"][data-agg="max"]')!;
    agg.dispatchEvent(new h.win.KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    assert.equal(lastView(h).kind, 'cross');
    assert.equal(lastView(h).aggregation, 'max');
    assert.ok(agg.classList.contains('selected'));
    assert.equal(h.$('#head-select')!.hasAttribute('disabled'), true, 'head picker is off while aggregating');
  });

  it('drives the view from the vscode-elements controls', () => {
    const h = boot();
    explain(h, makeExplanation());
    const change = (id: string, value: string) => {
      const el = h.$(id) as HTMLElement & { value: string };
      el.value = value;
      el.dispatchEvent(new h.win.Event('change'));
    };
    change('#aggregation-select', 'rollout');
    assert.equal(lastView(h).aggregation, 'rollout');
    // rollout runs through every layer (the layer choice is disabled)
    assert.match(h.$('#detail-title')!.textContent!, /layers 1–2 · attention rollout/);
    change('#kind-select', 'cross');
    assert.equal(lastView(h).kind, 'cross');
    assert.equal(lastView(h).aggregation, 'mean', 'rollout falls back to mean outside the encoder');
    const rolloutOpt = h.$('#aggregation-select vscode-option[value="rollout"]')!;
    assert.ok(rolloutOpt.hasAttribute('disabled'));
    change('#layer-select', '1');
    assert.equal(lastView(h).layer, 1);
    assert.equal(h.$$('#layer-select vscode-option').length, 2);
    change('#scheme-select', 'colorblind');
    assert.equal(lastView(h).colorScheme, 'colorblind');
    assert.match((h.$('#legend .legend-bar') as HTMLElement).style.backgroundImage, /rgb\(68, 1, 84\)/);
  });

  it('shows exact values in the readout while moving through cells with the keyboard', () => {
    const h = boot();
    const e = makeExplanation();
    explain(h, e);
    const canvas = h.$('#detail-canvas') as HTMLCanvasElement;
    canvas.focus();
    canvas.dispatchEvent(new h.win.KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
    canvas.dispatchEvent(new h.win.KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
    const v = headMatrix(e.attentions.encoder, 0, 0)[1 * 3 + 1];
    assert.equal(h.$('#readout')!.textContent, `${XSS} → ${XSS}: ${v.toFixed(4)}`);
    canvas.dispatchEvent(new h.win.KeyboardEvent('keydown', { key: 'End', bubbles: true }));
    assert.match(h.$('#readout')!.textContent!, /→ <\/s>: /);
  });

  it('selecting an output token selects its step and tints the source by cross-attention', () => {
    const h = boot();
    const e = makeExplanation();
    explain(h, e);
    h.$$('#target-tokens .token')[1].click();
    const v = lastView(h);
    assert.equal(v.selectedStep, 1);
    assert.equal(v.kind, 'cross');
    assert.ok(h.$$('#target-tokens .token')[1].classList.contains('selected'));
    assert.ok(h.$$('#steps .step')[1].classList.contains('selected'));
    // from another view, a token opens cross-attention on the last layer, mean over heads
    const last = e.attentions.cross.layers - 1;
    assert.deepEqual([v.layer, v.aggregation], [last, 'mean']);
    const rows = Array.from({ length: e.attentions.cross.heads }, (_, hd) => attentionRow(e.attentions.cross, last, hd, 1));
    const expected = Array.from(rows[0], (_, k) => rows.reduce((s, r) => s + r[k], 0) / rows.length);
    const got = h.$$('#source-tokens .token').map((t) => Number(t.dataset.weight));
    got.forEach((w, i) => assert.ok(Math.abs(w - expected[i]) < 1e-6, `source ${i}: ${w} vs ${expected[i]}`));
    // The strongest source token is tinted most.
    const alpha = (t: HTMLElement) => Number(/rgba\([^)]*,\s*([\d.]+)\)/.exec(t.style.backgroundColor)![1]);
    const tokens = h.$$('#source-tokens .token');
    const strongest = expected.indexOf(Math.max(...expected));
    const weakest = expected.indexOf(Math.min(...expected));
    assert.ok(alpha(tokens[strongest]) > alpha(tokens[weakest]));
    assert.equal(tokens[0].textContent, '▁Hello', 'weight labels do not change the token text');
    assert.match(h.$('#source-caption')!.textContent!, /output token 2/);

    // Clicking a step card selects it too; clicking the selected one clears it.
    h.$$('#steps .step')[2].click();
    assert.equal(lastView(h).selectedStep, 2);
    h.$$('#steps .step')[2].click();
    assert.equal(lastView(h).selectedStep, -1);
    assert.equal(h.$$('#source-tokens .token.weighted').length, 0);
  });

  it('reveals a source token in the editor when it is clicked', () => {
    const h = boot();
    const e = makeExplanation();
    explain(h, e);
    h.$$('#source-tokens .token')[0].click();
    assert.deepEqual(h.sent('revealSource'), [{ type: 'revealSource', start: e.sourceOffsets[0][0], end: e.sourceOffsets[0][1] }]);
  });
});

describe('panel: host messages', () => {
  it('shows progress, then errors without losing the previous render', () => {
    const h = boot();
    explain(h, makeExplanation());
    h.send({ type: 'progress', requestId: 2, message: 'Decoding token 3…' });
    assert.equal(h.$('#status')!.textContent, 'Decoding token 3…');
    h.send({ type: 'error', requestId: 2, message: `Model failed: ${XSS}` });
    assert.ok(!h.$('#error')!.hasAttribute('hidden'));
    assert.equal(h.$('#error')!.textContent, `Model failed: ${XSS}`);
    assert.equal(h.doc.querySelectorAll('img').length, 0);
    assert.equal(h.$$('canvas.head-thumb').length, 12, 'previous render kept');
    explain(h, makeExplanation(), { requestId: 3 });
    assert.ok(h.$('#error')!.hasAttribute('hidden'), 'a new explanation clears the error');
  });

  it('ignores progress from a request older than the one shown', () => {
    const h = boot();
    explain(h, makeExplanation(), { requestId: 5 });
    h.send({ type: 'progress', requestId: 4, message: 'stale' });
    assert.notEqual(h.$('#status')!.textContent, 'stale');
  });

  it('shows the truncation notice', () => {
    const h = boot();
    explain(h, makeExplanation({ truncated: true }), { notice: 'Only the first 128 tokens were explained.' });
    assert.equal(h.$('#status')!.textContent, 'Only the first 128 tokens were explained.');
    const h2 = boot();
    explain(h2, makeExplanation({ truncated: true }));
    assert.match(h2.$('#status')!.textContent!, /truncated/);
  });

  it('applies a view sent with the explanation; a new sentence clears the step', () => {
    const h = boot();
    explain(h, makeExplanation(), { view: { kind: 'cross', layer: 1, head: 1, selectedStep: 0 } });
    assert.equal(h.$('.head-thumb.selected')!.getAttribute('aria-label'), 'cross layer 2 head 2');
    assert.ok(h.$$('#steps .step')[0].classList.contains('selected'));
    explain(h, makeExplanation({ translation: 'Veloma' }), { requestId: 2 });
    assert.equal(lastView(h).selectedStep, -1, 'a new sentence clears the step');
    explain(h, makeExplanation({ translation: 'Veloma' }), { requestId: 3, view: { kind: 'cross', selectedStep: 1 } });
    assert.equal(lastView(h).selectedStep, 1, 'unless the host asks for one (side view → panel on a token)');
  });

  it('ignores malformed messages', () => {
    const h = boot();
    h.send(null);
    h.send({ type: 'explanation', requestId: 1, explanation: { nope: true } });
    h.send('explanation');
    assert.equal(h.$$('canvas.head-thumb').length, 0);
    assert.match(h.$('#error')!.textContent!, /malformed/);
  });
});

describe('panel: theme', () => {
  it('colours the theme scheme from the editor background to the accent and follows theme switches', async () => {
    const h = boot();
    const root = h.doc.documentElement;
    root.style.setProperty('--vscode-editor-background', '#102030');
    root.style.setProperty('--vscode-charts-blue', '#3794ff');
    explain(h, makeExplanation());
    const bar = () => (h.$('#legend .legend-bar') as HTMLElement).style.backgroundImage;
    assert.match(bar(), /^linear-gradient\(to right, rgb\(16, 32, 48\) 0\.0%, .*rgb\(55, 148, 255\) 100\.0%\)$/);
    root.style.setProperty('--vscode-editor-background', '#ffffff');
    root.style.setProperty('--vscode-charts-blue', '#005fb8');
    h.doc.body.className = 'vscode-light';
    await new Promise((r) => setTimeout(r, 0));
    assert.match(bar(), /^linear-gradient\(to right, rgb\(255, 255, 255\) 0\.0%, .*rgb\(0, 95, 184\) 100\.0%\)$/);
  });
});

describe('panel: exports', () => {
  it('exports the explanation as JSON', () => {
    const h = boot();
    const e = makeExplanation();
    explain(h, e);
    h.$('#export-json')!.click();
    const [msg] = h.sent('export');
    assert.equal(msg.format, 'json');
    assert.match(msg.fileName, /^[\w.-]{1,100}$/);
    const json = JSON.parse(msg.data);
    assert.deepEqual(json.attentions.cross.layers[1], Array.from(layerWeights(e.attentions.cross, 1)), 'the CLI\'s layout: one number array per layer');
    assert.deepEqual(explanationFromJson(json), e);
  });

  it('exports the large canvas as a PNG data URL, and reports when it cannot', () => {
    const h = boot();
    explain(h, makeExplanation());
    // jsdom cannot encode images: the panel must say so instead of posting garbage.
    h.$('#export-png')!.click();
    assert.equal(h.sent('export').length, 0);
    assert.match(h.$('#error')!.textContent!, /PNG/);
    // A webview that can draw: a recording 2D context (any method is a no-op) and an encoder.
    const noop = new Proxy({} as Record<string, unknown>, {
      get: (t, k) => (k in t ? t[k as string] : k === 'measureText' ? () => ({ width: 10 }) : () => undefined),
      set: (t, k, v) => ((t[k as string] = v), true),
    });
    h.win.HTMLCanvasElement.prototype.getContext = (() => noop) as never;
    h.win.HTMLCanvasElement.prototype.toDataURL = () => 'data:image/png;base64,iVBORw0KGgo=';
    h.$('canvas.agg-thumb[data-kind="encoder"][data-layer="1"][data-agg="mean"]')!.click();
    h.$('#export-png')!.click();
    assert.deepEqual(h.sent('export'), [
      { type: 'export', format: 'png', fileName: 'attention-encoder-L2-mean.png', data: 'data:image/png;base64,iVBORw0KGgo=' },
    ]);
  });
});

describe('panel: positional encodings', () => {
  it('plots the default dimensions with d3 and lets the user add and remove dimensions', () => {
    const h = boot();
    const e = makeExplanation({ dModel: 8 });
    explain(h, e);
    const lines = () => h.$$('#pe-curves path.pe-line').map((p) => Number(p.getAttribute('data-dim')));
    assert.deepEqual(lines(), [0, 1, 2, 4, 5]);
    const d = h.$('#pe-curves path.pe-line')!.getAttribute('d')!;
    // a continuous sinusoid (many vertices), with one marked point per token position
    assert.ok((d.match(/[ML]/g) ?? []).length > 100 * e.positional.positions, 'a smooth curve');
    assert.equal(h.$$('#pe-curves .pe-points[data-dim="0"] .pe-point').length, Math.min(e.sourcePieces.length, e.positional.positions));
    assert.ok(h.$$('#pe-curves .x-axis .tick').length > 0, 'd3-axis drew ticks');
    assert.equal(h.$$('#pe-curves .token-mark').length, e.sourcePieces.length);
    assert.equal((h.$('#pe-heatmap') as HTMLCanvasElement).width, 8);

    const input = h.$('#pe-dim-input') as HTMLElement & { value: string };
    input.value = '3';
    h.$('#pe-dim-add')!.click();
    assert.deepEqual(lines(), [0, 1, 2, 4, 5, 3]);
    assert.deepEqual(lastView(h).peDimensions, [0, 1, 2, 4, 5, 3]);
    input.value = '99';
    h.$('#pe-dim-add')!.click();
    assert.match(h.$('#pe-dim-message')!.textContent!, /0 to 7/);
    (h.$('#pe-dim-list [data-dim="1"] button') as HTMLButtonElement).click();
    assert.deepEqual(lines(), [0, 2, 4, 5, 3]);
  });

  it('adds the dimension under the keyboard cursor of the PE heatmap', () => {
    const h = boot();
    explain(h, makeExplanation({ dModel: 8 }));
    const canvas = h.$('#pe-heatmap')!;
    canvas.focus();
    for (let i = 0; i < 3; i++) canvas.dispatchEvent(new h.win.KeyboardEvent('keydown', { key: 'ArrowRight' }));
    assert.match(h.$('#pe-readout')!.textContent!, /^position 0 \(▁Hello\), dim 3 · sin · wavelength ≈ 6283: 0\.0000$/);
    canvas.dispatchEvent(new h.win.KeyboardEvent('keydown', { key: 'Enter' }));
    assert.ok(lastView(h).peDimensions.includes(3));
  });
});

describe('panel: persisted state', () => {
  it('saves the view, not the data, with setState and shows it again when the host re-sends the explanation', () => {
    const h = boot();
    const e = makeExplanation();
    explain(h, e);
    h.app.flushState();
    assert.equal(h.api.setStateCalls, 1, 'a new explanation is saved');
    h.$('canvas.head-thumb[data-kind="cross"][data-layer="1"][data-head="1"]')!.click();
    h.$$('#target-tokens .token')[2].click();
    // the detail's zoom and colour scale are part of the view, so they survive a reload too
    h.$('#zoom-2')!.click();
    const scale = h.$('#scale-select') as HTMLElement & { value: string };
    scale.value = 'matrix';
    scale.dispatchEvent(new h.win.Event('change'));
    const cellAt200 = h.$('.detail-stack')!.dataset.cell;
    h.app.flushState();
    const saved = h.api.state!;
    assert.deepEqual(Object.keys(saved).sort(), ['requestId', 'shown', 'view'], 'no attention numbers in the saved state');
    assert.ok(JSON.stringify(saved).length < 500, 'a few hundred bytes');
    assert.deepEqual(
      { kind: saved.view.kind, layer: saved.view.layer, head: saved.view.head, step: saved.view.selectedStep, zoom: saved.view.zoom, colorScale: saved.view.colorScale },
      { kind: 'cross', layer: 1, head: 1, step: 2, zoom: 2, colorScale: 'matrix' },
    );
    assert.deepEqual(saved.view, lastView(h), 'the posted viewState matches the saved one');

    const again = boot(saved);
    assert.deepEqual(again.api.posted, [{ type: 'ready' }]);
    assert.equal(again.$$('canvas.head-thumb').length, 0, 'nothing to draw before the host answers ready');
    explain(again, e);
    assert.equal(again.$$('canvas.head-thumb').length, 12);
    assert.equal(again.$('.head-thumb.selected')!.getAttribute('aria-label'), 'cross layer 2 head 2');
    assert.ok(again.$$('#target-tokens .token')[2].classList.contains('selected'));
    assert.equal(again.$('#detail-title')!.textContent, h.$('#detail-title')!.textContent);
    assert.equal(again.$('#zoom-2')!.getAttribute('aria-pressed'), 'true');
    assert.equal((again.$('#scale-select') as HTMLElement & { value: string }).value, 'matrix');
    assert.match(again.$('#detail-note')!.textContent ?? '', /stretched from 0 to the largest weight in this matrix/);
    assert.equal(again.$('.detail-stack')!.dataset.cell, cellAt200, 'the same cell size as before the reload');
  });

  it('keeps the view when the host re-sends the same explanation to a restored webview', () => {
    const h = boot();
    const e = makeExplanation();
    h.send({ type: 'explanation', requestId: 7, explanation: e, view: { kind: 'cross', selectedStep: 0 } });
    h.$$('#steps .step')[2].click();
    h.app.flushState();
    const again = boot(h.api.state);
    again.send({ type: 'explanation', requestId: 7, explanation: e, view: { kind: 'cross', selectedStep: 0 } });
    assert.equal(again.app.view().selectedStep, 2, 'the user’s later choice survives the re-send');
    // After a window reload the host's request ids start again: a different sentence with a low id still shows.
    const reloaded = boot(h.api.state);
    reloaded.send({ type: 'explanation', requestId: 1, explanation: makeExplanation({ translation: 'Veloma' }) });
    assert.equal(reloaded.$('#translation')!.textContent, 'Veloma');
    assert.equal(reloaded.app.view().selectedStep, -1, 'a new sentence clears the step');
  });

  it('debounces setState after view changes', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const h = boot();
    explain(h, makeExplanation());
    const before = h.api.setStateCalls;
    h.$('canvas.head-thumb[data-kind="encoder"][data-layer="1"][data-head="1"]')!.click();
    h.$('canvas.head-thumb[data-kind="encoder"][data-layer="0"][data-head="1"]')!.click();
    assert.equal(h.api.setStateCalls, before, 'not written synchronously');
    t.mock.timers.tick(PERSIST_DELAY_MS);
    assert.equal(h.api.setStateCalls, before + 1, 'written once');
    assert.equal(h.api.state!.view.layer, 0);
  });
});
