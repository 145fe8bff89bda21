/** The panel's "Why this word?" views in jsdom, fed real explanations from the bundled model. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explain, loadModelFolder } from '../../../src/model';
import { headMatrix, meanOverHeads } from '../../../src/shared/attention';
import { COMPARE_DEMO, type FromWebviewMessage } from '../../../src/shared/protocol';
import { startPanel } from '../../../webview/panel/app';
import { formatProb } from '../../../webview/panel/why/forcedTarget';
import { MIN_LINE_WEIGHT } from '../../../webview/panel/why/headView';
import { XSS, fakeVsCodeApi, makeExplanation } from '../../../webview/testing/fixtures';
import { BUNDLED_MODEL } from '../../helpers/golden';
import { postedOfType, webviewDom } from '../../helpers/webviewDom';

const lm = loadModelFolder(BUNDLED_MODEL, { name: 'bundled' });
function boot() {
  const w = webviewDom();
  const api = fakeVsCodeApi<never>();
  const app = startPanel(w.doc, api);
  const sent = <T extends FromWebviewMessage['type']>(type: T) => postedOfType(api.posted, type);
  return { win: w.win, app, $: w.$, $$: w.$$, send: w.send, sent, errors: w.errors };
}

describe('formatProb', () => {
  it('percentages with two decimals, tiny ones with two significant digits', () => {
    assert.deepEqual([0.5, 0.00123, 0.0000312, 3e-9, 0].map(formatProb), ['50.00%', '0.12%', '0.0031%', '3.0e-7%', '0.00%']);
  });
});

describe('forced target view', () => {
  const e = explain(lm, 'The tiger kills the lion.', { target: 'El perro come la pizza.' });

  it('lists probability and rank per token, highlights the unlikely ones, and gives the log-probability', () => {
    const h = boot();
    h.send({ type: 'explanation', requestId: 1, explanation: e });
    const rows = h.$$('#forced-table tbody tr');
    assert.equal(rows.length, e.steps.length);
    e.steps.forEach((s, i) => {
      assert.equal(rows[i].querySelector('.forced-prob')!.textContent, formatProb(s.chosenProb));
      assert.equal(rows[i].querySelector('.forced-rank')!.textContent, s.chosenRank === 1 ? '1st (model’s choice)' : `#${s.chosenRank}`);
      assert.equal(rows[i].classList.contains('unlikely'), s.chosenRank! > 1 && s.chosenProb < 0.1, `row ${i}`);
    });
    assert.ok(rows.some((r) => r.classList.contains('unlikely')), 'a dog eating pizza is unlikely somewhere');
    assert.match(h.$('#forced-logprob')!.textContent!, new RegExp(`log-probability ${e.logProb!.toFixed(3).replace('-', '\\-')}`));
    assert.equal(h.$('#forced-clear')!.hidden, false);
    assert.deepEqual(h.errors, []);
  });

  it('sends what the user types; refuses an empty target without asking the host', () => {
    const h = boot();
    h.send({ type: 'explanation', requestId: 1, explanation: explain(lm, 'The tiger kills the lion.') });
    assert.equal(h.$('#forced-clear')!.hidden, true);
    const input = h.$('#forced-input') as HTMLInputElement;
    input.value = '   ';
    h.$('#forced-score')!.click();
    assert.equal(h.sent('scoreTarget').length, 0);
    assert.match(h.$('#forced-message')!.textContent!, /empty/);
    input.value = 'El tigre mata al león.';
    h.$('#forced-score')!.click();
    assert.deepEqual(h.sent('scoreTarget'), [{ type: 'scoreTarget', target: 'El tigre mata al león.' }]);
    h.send({ type: 'whyError', feature: 'target', message: 'the target is 300 tokens long' });
    assert.equal(h.$('#forced-message')!.textContent, 'the target is 300 tokens long');
  });

  it('shows the <unk> note', () => {
    const h = boot();
    h.send({ type: 'explanation', requestId: 1, explanation: explain(lm, 'Hello.', { target: 'Hola ☃' }) });
    assert.match(h.$('#forced-message')!.textContent!, /"☃" is not in the target vocabulary: scored as <unk>/);
  });
});

describe('logit lens view', () => {
  it('one row per decoder layer, one cell per step, the top token with its top-k on hover', () => {
    const e = explain(lm, 'Where is the nearest train station?');
    const h = boot();
    h.send({ type: 'explanation', requestId: 1, explanation: e });
    const rows = h.$$('#lens-grid tbody tr');
    assert.equal(rows.length, lm.config.decoderLayers);
    rows.forEach((r, l) => {
      const cells = Array.from(r.querySelectorAll('td'));
      assert.equal(cells.length, e.steps.length);
      cells.forEach((c, p) => assert.equal(c.textContent, e.logitLens!.layers[l].topPieces[p][0]));
    });
    // the last layer is the real prediction: its cells are the steps' first candidates
    const last = Array.from(rows[rows.length - 1].querySelectorAll('td'));
    last.forEach((c, p) => assert.equal(c.textContent, e.steps[p].topPieces[0]));
    const cell = last[0];
    cell.dispatchEvent(new h.win.Event('mouseenter'));
    assert.match(h.$('#lens-detail')!.textContent!, new RegExp(`Layer ${rows.length}, position 1`));
    for (const piece of e.steps[0].topPieces) assert.ok(h.$('#lens-detail')!.textContent!.includes(piece));
    assert.match(h.$('#logit-lens .intro')!.textContent!, /post-LayerNorm/);
  });
});

/** Opens the (collapsed) head view and waits for its toggle event, which draws it. */
async function openHeadView(h: ReturnType<typeof boot>): Promise<void> {
  const details = h.$('#head-view') as HTMLDetailsElement;
  const toggled = new Promise((resolve) => details.addEventListener('toggle', resolve, { once: true }));
  details.open = true;
  await toggled;
}

describe('head view', () => {
  it('one line per head and pair above the threshold; heads toggle; hover isolates a token', async () => {
    const e = explain(lm, 'The lion kills the tiger.');
    const h = boot();
    h.send({ type: 'explanation', requestId: 1, explanation: e });
    await openHeadView(h);
    // it starts on the panel's kind and layer
    const view = (h.$('#hv-kind') as HTMLSelectElement).value as 'encoder' | 'decoder' | 'cross';
    const cross = e.attentions[view], layer = Number((h.$('#hv-layer') as HTMLSelectElement).value);
    let expected = 0;
    for (let hd = 0; hd < cross.heads; hd++) for (const w of headMatrix(cross, layer, hd)) if (w >= MIN_LINE_WEIGHT) expected++;
    assert.equal(h.$$('#hv-drawing line').length, expected);
    const box = h.$('#hv-heads input[data-head="0"]') as HTMLInputElement;
    box.checked = false;
    box.dispatchEvent(new h.win.Event('change'));
    assert.equal(h.$$('#hv-drawing line[data-h="0"]').length, 0);
    assert.ok(h.$$('#hv-drawing line').length > 0);
    const q1 = h.$('#hv-drawing text.hv-q[data-index="1"]')!;
    q1.dispatchEvent(new h.win.Event('mouseenter'));
    const shown = h.$$('#hv-drawing line').filter((l) => l.style.display !== 'none');
    assert.ok(shown.length > 0 && shown.every((l) => l.getAttribute('data-q') === '1'));
    h.$('#hv-export-svg')!.click();
    const exp = h.sent('export');
    assert.equal(exp.length, 1);
    assert.equal(exp[0].fileName, `head-view-${view}-layer${layer + 1}.svg`);
    assert.match(exp[0].data, /<line/);
    // the encoder kind draws source tokens on both sides
    const kind = h.$('#hv-kind') as HTMLSelectElement;
    kind.value = 'encoder';
    kind.dispatchEvent(new h.win.Event('change'));
    assert.equal(h.$$('#hv-drawing text.hv-k').length, e.sourcePieces.length);
    assert.equal(h.$$('#hv-drawing text.hv-q').length, e.sourcePieces.length);
    // choosing a kind and layer in the panel's main view moves the head view there too
    h.app.updateView({ kind: 'decoder', layer: 1 });
    assert.equal((h.$('#hv-kind') as HTMLSelectElement).value, 'decoder');
    assert.equal((h.$('#hv-layer') as HTMLSelectElement).value, '1');
    assert.equal(h.$$('#hv-drawing text.hv-q').length, e.attentions.decoder.queryLen);
  });

  it('is not drawn while collapsed, and view changes that do not concern it leave its drawing alone', async () => {
    const e = explain(lm, 'The lion kills the tiger.');
    const h = boot();
    // count the drawings built into the head view (each one replaces the svg)
    let drawings = 0;
    new h.win.MutationObserver((records) => {
      for (const r of records) for (const n of Array.from(r.addedNodes)) if (n.nodeName.toLowerCase() === 'svg') drawings++;
    }).observe(h.$('#hv-drawing')!, { childList: true });
    const flush = () => new Promise((resolve) => setTimeout(resolve, 0)); // mutation records are delivered as microtasks
    h.send({ type: 'explanation', requestId: 1, explanation: e });
    assert.equal((h.$('#head-view') as HTMLDetailsElement).open, false, 'collapsed by default');
    // a layer change the head view follows: still nothing drawn while collapsed
    h.app.updateView({ kind: 'encoder', layer: 0 });
    h.app.updateView({ layer: 1 });
    await flush();
    assert.equal(drawings, 0);
    assert.equal(h.$$('#hv-drawing line').length, 0);
    // opening it draws once, on the kind and layer the panel shows now
    await openHeadView(h);
    await flush();
    assert.equal(drawings, 1);
    assert.equal((h.$('#hv-kind') as HTMLSelectElement).value, 'encoder');
    assert.equal((h.$('#hv-layer') as HTMLSelectElement).value, '1');
    assert.equal(h.$$('#hv-drawing text.hv-q').length, e.attentions.encoder.queryLen);
    const svg = h.$('#hv-drawing svg');
    // choosing a head or a colour scheme in the main view concerns the head view not at all
    h.app.updateView({ aggregation: 'head', head: 1 });
    h.app.updateView({ head: 0 });
    await flush();
    assert.equal(drawings, 1);
    assert.equal(h.$('#hv-drawing svg'), svg);
    // a layer change while open redraws, once
    h.app.updateView({ layer: 0 });
    await flush();
    assert.equal(drawings, 2);
    assert.equal((h.$('#hv-layer') as HTMLSelectElement).value, '0');
    assert.deepEqual(h.errors, []);
  });
});

describe('alternatives view', () => {
  it('a candidate asks for a branch; the branch shows beside the original', () => {
    const text = 'The lion kills the tiger.';
    const base = explain(lm, text);
    const h = boot();
    h.send({ type: 'explanation', requestId: 1, explanation: base });
    const cand = h.$$('.alt-candidate').find((b) => b.getAttribute('data-step') === '1')!;
    cand.click();
    const [msg] = h.sent('branch');
    assert.equal(msg.step, 1);
    assert.equal(msg.tokenId, Number(cand.getAttribute('data-token')));
    const branch = explain(lm, text, { forcedPrefix: [...base.targetIds.slice(1, 2), msg.tokenId] });
    h.send({ type: 'branch', requestId: 2, step: 1, tokenId: msg.tokenId, explanation: branch });
    assert.equal(h.$('#alt-original .alt-translation')!.textContent, base.translation);
    assert.equal(h.$('#alt-branch .alt-translation')!.textContent, branch.translation);
    assert.equal(h.$$('#alt-branch tbody tr').length, branch.steps.length);
    assert.ok(h.$('#alt-branch tbody tr.branch-point'));
  });
});

describe('compare view', () => {
  it('the demo asks for the lion/tiger pair; the same sentence twice is refused', () => {
    const h = boot();
    assert.ok(h.$('#compare-demo'), 'the demo is there in an empty panel');
    h.$('#compare-demo')!.click();
    assert.deepEqual(h.sent('compare'), [{ type: 'compare', a: COMPARE_DEMO.a, b: COMPARE_DEMO.b }]);
    (h.$('#compare-a') as HTMLInputElement).value = 'Same.';
    (h.$('#compare-b') as HTMLInputElement).value = ' Same. ';
    h.$('#compare-run')!.click();
    assert.equal(h.sent('compare').length, 1);
    assert.match(h.$('#compare-message')!.textContent!, /Both sentences are the same/);
  });

  it('renders both sides: differing tokens, identical positional encodings, swapped embeddings, A − B', () => {
    const a = explain(lm, COMPARE_DEMO.a), b = explain(lm, COMPARE_DEMO.b);
    const h = boot();
    h.send({ type: 'comparison', requestId: 1, a, b });
    assert.equal(h.$('#compare-side-a .alt-translation')!.textContent, a.translation);
    assert.equal(h.$('#compare-side-b .alt-translation')!.textContent, b.translation);
    assert.equal(h.$$('#compare-side-a .chip').length, a.steps.length);
    const rows = h.$$('#compare-table tbody tr') as HTMLTableRowElement[];
    assert.equal(rows.length, a.sourceIds.length);
    const differing = rows.filter((r) => r.classList.contains('differs')).map((r) => r.cells[0].textContent);
    const expected = a.sourceIds.map((id, p) => (id !== b.sourceIds[p] ? String(p + 1) : '')).filter(Boolean);
    assert.deepEqual(differing, expected);
    assert.ok(differing.length >= 2);
    for (const r of rows) assert.equal(r.cells[4].textContent, 'identical');
    for (const r of rows.filter((x) => x.classList.contains('differs'))) assert.match(r.cells[5].textContent!, /swapped/);
    // A − B of the last encoder layer, mean over heads
    const L = a.attentions.encoder.layers - 1, ma = meanOverHeads(a.attentions.encoder, L), mb = meanOverHeads(b.attentions.encoder, L);
    const cells = h.$$('#compare-diff rect.diff-cell');
    const n = a.sourceIds.length;
    assert.equal(cells.length, n * n);
    cells.forEach((c, i) => assert.ok(Math.abs(Number(c.getAttribute('data-value')) - (ma.values[i] - mb.values[i])) < 1e-6));
    assert.ok(cells.some((c) => Math.abs(Number(c.getAttribute('data-value'))) > 0.01));
  });
});


describe('untrusted pieces stay text', () => {
  it('an HTML-looking token is shown, never parsed, in every why view', async () => {
    const e = makeExplanation();
    const lens = { layers: [0, 1].map(() => ({ topIds: e.steps.map(() => [900]), topProbs: e.steps.map(() => [0.5]), topPieces: e.steps.map(() => [XSS]) })) };
    const h = boot();
    h.send({ type: 'explanation', requestId: 1, explanation: { ...e, logitLens: lens, forced: true, targetNotes: [XSS] } });
    h.send({ type: 'comparison', requestId: 2, a: e, b: makeExplanation({ sourcePieces: ['▁Bye', XSS, '</s>'] }) });
    h.send({ type: 'branch', requestId: 3, step: 0, tokenId: 900, explanation: e });
    h.send({ type: 'whyError', feature: 'compare', message: XSS });
    await openHeadView(h);
    assert.equal(h.$$('img').length, 0);
    for (const sel of ['#forced', '#logit-lens', '#head-view', '#alternatives', '#compare']) assert.ok(h.$(sel)!.textContent!.includes(XSS), sel);
    assert.deepEqual(h.errors, []);
  });
});
