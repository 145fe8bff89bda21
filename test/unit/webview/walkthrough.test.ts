/**
 * The walk-through in the panel (jsdom), fed a real explanation and real traces of the bundled model: how it is
 * reached, every step's numbers against the trace, navigation by buttons and keys, colour strips, errors.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { explain, loadModelFolder, type Explanation } from '../../../src/model';
import { traceIds } from '../../../src/model/explain/trace';
import type { LoadedModel } from '../../../src/model/loading/loadModel';
import type { Trace } from '../../../src/shared/trace';
import { startPanel } from '../../../webview/panel/app';
import type { PersistedPanelState } from '../../../webview/panel/state';
import { stepList } from '../../../webview/panel/walkthrough/walkthrough';
import { XSS, fakeVsCodeApi } from '../../../webview/testing/fixtures';
import { BUNDLED_MODEL } from '../../helpers/golden';
import { postedOfType, webviewDom } from '../../helpers/webviewDom';

function boot() {
  const w = webviewDom();
  const api = fakeVsCodeApi<PersistedPanelState>();
  startPanel(w.doc, api);
  return { ...w, traces: () => postedOfType(api.posted, 'trace') };
}

type H = ReturnType<typeof boot>;

const values = (h: H, sel: string) => h.$$(sel).map((n) => Number(n.dataset.value));
const click = (n: HTMLElement | null) => {
  assert.ok(n, 'element to click');
  n.click();
};

/** Presses "Next step" until the step title starts with `(n)` and names `kind` (when given). */
function goTo(h: H, n: number, kind?: string): void {
  for (let i = 0; i < 200; i++) {
    const title = h.$('#wt-step-title')!.textContent!;
    if (title.startsWith(`(${n})`) && (!kind || title.includes(kind))) return;
    const next = h.$('#wt-next-step') as HTMLButtonElement;
    assert.ok(!next.disabled, `step (${n}) ${kind ?? ''} not reached`);
    next.click();
  }
}

describe('walk-through view', () => {
  let lm: LoadedModel;
  let e: Explanation;
  let source: Trace;
  let target: Trace;
  before(() => {
    lm = loadModelFolder(BUNDLED_MODEL);
    e = explain(lm, "Let's go.");
    source = traceIds(lm, e.sourceIds, e.targetIds, { side: 'source', token: 3, details: true });
    target = traceIds(lm, e.sourceIds, e.targetIds, { side: 'target', token: 1, details: true });
  });

  function shown(trace: Trace): H {
    const h = boot();
    h.send({ type: 'explanation', requestId: 1, explanation: e });
    h.send({ type: 'trace', trace });
    return h;
  }

  it('is hidden until asked; a source token, a generated token or a heatmap row asks the host for that token', () => {
    const h = boot();
    h.send({ type: 'explanation', requestId: 1, explanation: e });
    assert.ok(h.$('#walkthrough')!.hidden);
    click(h.$$('#source-tokens .token')[3]);
    assert.deepEqual(h.traces().at(-1), { type: 'trace', side: 'source', token: 3 });
    assert.ok(!h.$('#walkthrough')!.hidden);
    assert.match(h.$('#wt-status')!.textContent!, /Following source token 3 “▁go”/);
    // generated token i was chosen at decoder input i
    click(h.$$('#target-tokens .token')[1]);
    assert.deepEqual(h.traces().at(-1), { type: 'trace', side: 'target', token: 1 });
    // a heatmap row (keyboard: W on the focused heatmap). The generated token put the heatmap on the
    // cross-attention with its row selected, whose rows are decoder inputs: one row down is target token 2
    const canvas = h.$('#detail-canvas')!;
    canvas.focus();
    h.key(canvas, 'ArrowDown');
    h.key(canvas, 'w');
    assert.deepEqual(h.traces().at(-1), { type: 'trace', side: 'target', token: 2 });
    // the encoder's rows are source tokens
    const kind = h.$('#kind-select') as HTMLElement & { value: string };
    kind.value = 'encoder';
    kind.dispatchEvent(new h.win.Event('change'));
    canvas.focus();
    h.key(canvas, 'w');
    assert.equal(h.traces().at(-1)!.side, 'source');
    assert.deepEqual(h.errors, []);
  });

  it('(1) shows embedding, scale, position (identical to the positional-encoding plot) and input as colour strips', () => {
    const h = shown(source);
    assert.match(h.$('#wt-title')!.textContent!, /Source token 3 ▁go of 6/);
    assert.match(h.$('#wt-step-title')!.textContent!, /^\(1\) Input/);
    assert.equal(h.$('#wt-counter')!.textContent, `step 1 of ${stepList(source).length}`);
    const strips = h.$$('#wt-step .wt-strip');
    assert.equal(strips.length, 3);
    const cells = (i: number) => Array.from(strips[i].querySelectorAll<HTMLElement>('.wt-cell')).map((c) => Number(c.dataset.value));
    assert.deepEqual(cells(0), source.embedding.token);
    assert.deepEqual(cells(1), source.embedding.position);
    assert.deepEqual(cells(2), source.embedding.input);
    assert.match(h.$('#wt-pe-check')!.textContent!, /same 256 values as row 3 of the positional-encoding plot ✓/);
    // never a wall of digits: the 256 numbers are cells, their values only in data attributes and the readout
    const decimals = h.$('#wt-step')!.textContent!.match(/\d\.\d+/g) ?? [];
    assert.ok(decimals.length <= 2 * strips.length + 2, `${decimals.length} numbers written out`);
  });

  it('(3) lists q·k, ÷√d_k and the softmax for the chosen layer and head: the trace\'s numbers, equal to the heatmap row', () => {
    const h = shown(source);
    goTo(h, 3);
    const head0 = source.layers[0].attention[0].heads[0];
    assert.deepEqual(values(h, '#wt-scores .wt-score'), head0.scores);
    assert.deepEqual(values(h, '#wt-scores .wt-scaled'), head0.scaled);
    assert.deepEqual(values(h, '#wt-scores .wt-weight'), head0.weights);
    assert.deepEqual(values(h, '#wt-scores .wt-heatmap'), head0.weights);
    assert.match(h.$('#wt-heatmap-check')!.textContent!, /heatmap row, number for number ✓/);
    // head 3 of layer 2 through the selects
    const layer = h.$('#wt-layer') as HTMLSelectElement;
    layer.value = '1';
    layer.dispatchEvent(new h.win.Event('change'));
    const head = h.$('#wt-head') as HTMLSelectElement;
    head.value = '2';
    head.dispatchEvent(new h.win.Event('change'));
    assert.match(h.$('#wt-step-title')!.textContent!, /^\(3\)/);
    assert.deepEqual(values(h, '#wt-scores .wt-score'), source.layers[1].attention[0].heads[2].scores);
    // "show in the heatmap" puts the heatmap on that layer and head
    click(h.$('#wt-step .wt-link'));
    assert.match(h.$('#detail-title')!.textContent!, /[Ll]ayer 2/);
  });

  it('(2), (4)–(7): q, keys, values, the weighted sum, concatenation, residual, LayerNorm and feed-forward strips carry the trace\'s numbers', () => {
    const h = shown(source);
    const a = source.layers[0].attention[0];
    const stripValues = () => h.$$('#wt-step .wt-strip').map((s) => Array.from(s.querySelectorAll<HTMLElement>('.wt-cell')).map((c) => Number(c.dataset.value)));
    goTo(h, 2);
    let s = stripValues();
    assert.deepEqual(s[0], a.input);
    assert.deepEqual(s[1], a.heads[0].q);
    assert.deepEqual(s.slice(2), a.heads[0].keys.flatMap((k, j) => [k, a.heads[0].values[j]]));
    goTo(h, 4);
    s = stripValues();
    assert.deepEqual(s.at(-1), a.heads[0].context);
    goTo(h, 5);
    s = stripValues();
    assert.deepEqual(s[0], a.heads.flatMap((x) => x.context));
    assert.deepEqual(s[1], a.output);
    goTo(h, 6);
    s = stripValues();
    assert.deepEqual(s[2], a.residual);
    assert.deepEqual(s.at(-1), a.norm.output);
    assert.equal(Number(h.$('#wt-step .wt-mean')!.dataset.value), a.norm.mean);
    assert.equal(Number(h.$('#wt-step .wt-variance')!.dataset.value), a.norm.variance);
    goTo(h, 7);
    s = stripValues();
    const f = source.layers[0].feedForward;
    assert.deepEqual(s[1], f.preActivation);
    assert.deepEqual(s[2], f.hidden);
    assert.deepEqual(s.at(-1), f.norm.output);
    assert.match(h.$('#wt-step')!.textContent!, /layer 2's input/);
  });

  it('the decoder side: the causal mask, the cross-attention between (6) and (7), and (8) the logits with the next token', () => {
    const h = shown(target);
    assert.equal(target.logits!.nextPiece, e.targetPieces[2]);
    assert.match(h.$('#wt-title')!.textContent!, new RegExp(`Decoder input token 1 ${e.targetPieces[1]} of 3, through 3 decoder layers: it predicts the next target token, \\${e.targetPieces[2]}\\.`));
    goTo(h, 3, 'masked');
    const masked = h.$$('#wt-scores tr.wt-masked');
    assert.equal(masked.length, target.target.ids.length - 2, 'later target tokens are masked');
    assert.match(masked[0].textContent!, /masked−∞0/);
    goTo(h, 3, 'encoder–decoder');
    assert.deepEqual(values(h, '#wt-scores .wt-score'), target.layers[0].attention[1].heads[0].scores);
    assert.equal(h.$$('#wt-scores tbody tr').length, target.source.ids.length);
    const order = stepList(target).map((s) => s.n).join('');
    assert.equal(order, '1234562345671234562345671234562345678');
    goTo(h, 8);
    assert.deepEqual(values(h, '#wt-logits .wt-logit'), target.logits!.topLogits);
    assert.deepEqual(values(h, '#wt-logits .wt-prob'), target.logits!.topProbs);
    assert.match(h.$('#wt-logits tr.wt-best')!.textContent!, /←\s*next/);
    // the same probability as the panel's step list for that step
    assert.ok(Math.abs(target.logits!.topProbs[0] - e.steps[1].topProbs[0]) < 1e-12);
    assert.ok((h.$('#wt-next-step') as HTMLButtonElement).disabled);
  });

  it('keyboard: N/P steps, H heads, ] asks for the next token; a strip reads its numbers with the arrow keys and zooms', () => {
    const h = shown(source);
    const root = h.$('#walkthrough')!;
    h.key(root, 'n');
    h.key(root, 'n');
    assert.match(h.$('#wt-step-title')!.textContent!, /^\(3\)/);
    h.key(root, 'p');
    assert.match(h.$('#wt-step-title')!.textContent!, /^\(2\)/);
    h.key(root, 'h');
    assert.equal((h.$('#wt-head') as HTMLSelectElement).value, '1');
    h.key(root, ']');
    assert.deepEqual(h.traces().at(-1), { type: 'trace', side: 'source', token: 4 });
    const strip = h.$$('#wt-step .wt-strip-cells')[1];
    strip.focus();
    h.key(strip, 'ArrowRight');
    const q = source.layers[0].attention[0].heads[1].q;
    assert.equal(strip.parentElement!.querySelector('.wt-strip-readout')!.textContent, `dim 1: ${String(q[1])}`);
    assert.equal(strip.getAttribute('aria-valuenow'), '1');
    h.key(strip, '+');
    assert.ok(strip.parentElement!.classList.contains('zoomed'));
    // the strip's keys stay with the strip ("n" was not a step there, ArrowRight no step either)
    assert.match(h.$('#wt-step-title')!.textContent!, /^\(2\)/);
  });

  it('a new trace keeps the reader\'s step, layer and head; a new sentence closes the walk-through', () => {
    const h = shown(source);
    goTo(h, 4);
    h.send({ type: 'trace', trace: traceIds(lm, e.sourceIds, e.targetIds, { side: 'source', token: 4, details: true }) });
    assert.match(h.$('#wt-step-title')!.textContent!, /^\(4\)/);
    assert.match(h.$('#wt-title')!.textContent!, /Source token 4/);
    h.send({ type: 'explanation', requestId: 2, explanation: explain(lm, 'The cat sat.') });
    assert.ok(h.$('#walkthrough')!.hidden);
  });

  it('errors and malformed data are shown as text; pieces are text, never markup', () => {
    const h = shown(source);
    h.send({ type: 'traceError', message: 'token 9 is outside the source side, which has 6 tokens' });
    assert.match(h.$('#wt-status')!.textContent!, /token 9 is outside the source side/);
    h.send({ type: 'trace', trace: { side: 'source', token: 0, layers: 'x' } });
    assert.match(h.$('#wt-status')!.textContent!, /malformed/);
    const evil: Trace = { ...source, source: { ...source.source, pieces: source.source.pieces.map((p, i) => (i === 3 ? XSS : p)) } };
    h.send({ type: 'trace', trace: evil });
    assert.equal(h.doc.querySelectorAll('#walkthrough img').length, 0);
    assert.ok(h.$('#wt-title')!.textContent!.includes(XSS));
    assert.deepEqual(h.errors, []);
  });
});
