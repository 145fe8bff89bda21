/**
 * The walk-through: one token followed through the model, step by step, with the engine's own numbers (a trace from
 * the host, src/shared/trace.ts). Steps as a reader of "Attention Is All You Need" meets them:
 * (1) embedding × √d_model + position = input; (2) q, k, v; (3) q·k, ÷ √d_k, mask, softmax; (4) Σ weight · value;
 * (5) heads concatenated → W_O; (6) + residual → LayerNorm; the decoder repeats (2)–(6) for the encoder–decoder
 * attention; (7) feed-forward + residual → LayerNorm = the layer's output; (8) on the target side, the logits.
 * Opened by clicking a source or generated token, double-clicking a heatmap row (or W on it), or from the palette.
 */
import { attentionRow } from '../../../src/shared/attention';
import type { Explanation } from '../../../src/shared/explanation';
import type { Trace, TraceAttention, TraceSide } from '../../../src/shared/trace';
import { appendPiece, clear, el, formatPercent, pieceLabel, setHidden } from '../../shared/dom';
import type { PanelContext } from '../context';
import { colorStrip, exact, short, stripColors, type StripColors } from './strip';

/** One stop of the walk: step number (1–8), its layer, and for (2)–(6) which attention sublayer. */
export interface StepRef {
  n: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;
  layer: number;
  sub: number;
}

/** Every stop for `trace`, in reading order: per layer (1), (2)–(6) per attention sublayer, (7); then (8) on the target side. */
export function stepList(trace: Trace): StepRef[] {
  const out: StepRef[] = [];
  trace.layers.forEach((layer, l) => {
    out.push({ n: 1, layer: l, sub: 0 });
    layer.attention.forEach((_, s) => {
      for (const n of [2, 3, 4, 5, 6] as const) out.push({ n, layer: l, sub: s });
    });
    out.push({ n: 7, layer: l, sub: 0 });
  });
  if (trace.logits) out.push({ n: 8, layer: trace.layers.length - 1, sub: 0 });
  return out;
}

const KIND_NAMES: Record<TraceAttention['kind'], string> = {
  encoder: 'encoder self-attention',
  decoder: 'masked decoder self-attention',
  cross: 'encoder–decoder attention',
};

export function stepTitle(trace: Trace, s: StepRef): string {
  const a = trace.layers[s.layer]?.attention[s.sub];
  const kind = a ? ` — ${KIND_NAMES[a.kind]}` : '';
  switch (s.n) {
    case 1:
      return s.layer === 0 ? '(1) Input: token embedding × √d_model + positional encoding' : `(1) Input of layer ${s.layer + 1}: the output of layer ${s.layer}`;
    case 2:
      return `(2) Query, keys and values${kind}`;
    case 3:
      return `(3) Scores: q·k, ÷ √d_k${a?.kind === 'decoder' ? ', causal mask' : ''}, softmax${kind}`;
    case 4:
      return `(4) Weighted sum of the values: this head's output${kind}`;
    case 5:
      return `(5) All heads concatenated → W_O → attention output${kind}`;
    case 6:
      return `(6) Residual connection + LayerNorm${kind}`;
    case 7:
      return '(7) Feed-forward (fc1 → activation → fc2) + residual → LayerNorm: the layer\'s output';
    case 8:
      return '(8) Output: logits = h·Eᵀ + bias → softmax → the next token';
  }
}

export interface WalkthroughHooks {
  /** Shows this attention in the heatmap with `row` under the cursor. */
  showInHeatmap(kind: TraceAttention['kind'], layer: number, head: number, row: number): void;
  /** Scrolls to the positional-encoding plot. */
  showPositions(): void;
}

export class WalkthroughSection {
  readonly root: HTMLElement;
  private readonly title: HTMLElement;
  private readonly status: HTMLElement;
  private readonly stepBox: HTMLElement;
  private readonly stepTitleEl: HTMLElement;
  private readonly layerSelect: HTMLSelectElement;
  private readonly headSelect: HTMLSelectElement;
  private readonly prevStep: HTMLButtonElement;
  private readonly nextStep: HTMLButtonElement;
  private readonly prevToken: HTMLButtonElement;
  private readonly nextToken: HTMLButtonElement;
  private readonly counter: HTMLElement;
  private trace?: Trace;
  private steps: StepRef[] = [];
  private position = 0;
  private head = 0;

  constructor(private readonly ctx: PanelContext, private readonly hooks: WalkthroughHooks) {
    const doc = ctx.doc;
    this.root = el(doc, 'section', { id: 'walkthrough', className: 'section walkthrough', attrs: { 'aria-labelledby': 'walkthrough-heading' } });
    const heading = el(doc, 'div', { className: 'wt-heading' });
    heading.append(el(doc, 'h2', { id: 'walkthrough-heading', text: 'Step through the math' }));
    const close = el(doc, 'button', { id: 'wt-close', className: 'wt-button', text: 'Close', attrs: { type: 'button', title: 'Close the walk-through' } });
    close.addEventListener('click', () => this.reset());
    heading.append(close);
    this.title = el(doc, 'p', { id: 'wt-title', className: 'wt-title' });
    this.status = el(doc, 'p', { id: 'wt-status', className: 'caption', attrs: { role: 'status', 'aria-live': 'polite' } });

    const nav = el(doc, 'div', { className: 'wt-nav', attrs: { role: 'toolbar', 'aria-label': 'Walk-through navigation' } });
    const btn = (id: string, text: string, title: string, onClick: () => void) => {
      const b = el(doc, 'button', { id, className: 'wt-button', text, attrs: { type: 'button', title } });
      b.addEventListener('click', onClick);
      return b;
    };
    this.prevStep = btn('wt-prev-step', '◀ Previous step', 'Previous step (P)', () => this.go(this.position - 1));
    this.nextStep = btn('wt-next-step', 'Next step ▶', 'Next step (N)', () => this.go(this.position + 1));
    this.layerSelect = this.select('wt-layer', 'Layer', () => this.goLayer(Number(this.layerSelect.value)));
    this.headSelect = this.select('wt-head', 'Head', () => this.setHead(Number(this.headSelect.value)));
    this.prevToken = btn('wt-prev-token', '◀ Previous token', 'Previous token ([)', () => this.moveToken(-1));
    this.nextToken = btn('wt-next-token', 'Next token ▶', 'Next token (])', () => this.moveToken(1));
    this.counter = el(doc, 'span', { id: 'wt-counter', className: 'caption' });
    nav.append(this.prevStep, this.nextStep, this.labelled('wt-layer', 'Layer', this.layerSelect), this.labelled('wt-head', 'Head', this.headSelect), this.prevToken, this.nextToken, this.counter);

    this.stepTitleEl = el(doc, 'h3', { id: 'wt-step-title', className: 'wt-step-title', attrs: { tabindex: -1 } });
    this.stepBox = el(doc, 'div', { id: 'wt-step', className: 'wt-step' });
    const keys = el(doc, 'p', {
      className: 'caption',
      text: 'Keys: N / P next or previous step, [ / ] previous or next token, H next head. On a colour strip: ←/→ read the numbers, + / − zoom.',
    });
    this.root.append(heading, this.title, this.status, nav, this.stepTitleEl, this.stepBox, keys);
    this.root.addEventListener('keydown', (e) => this.onKey(e));
    setHidden(this.root, true);
  }

  private select(id: string, label: string, onChange: () => void): HTMLSelectElement {
    const s = el(this.ctx.doc, 'select', { id, attrs: { 'aria-label': label } });
    s.addEventListener('change', onChange);
    return s;
  }

  private labelled(id: string, label: string, control: HTMLElement): HTMLElement {
    const w = el(this.ctx.doc, 'span', { className: 'wt-control' });
    w.append(el(this.ctx.doc, 'label', { text: label, attrs: { for: id } }), control);
    return w;
  }

  /** Asks the host for the numbers of `token` on `side` (the section shows that it is waiting). */
  request(side: TraceSide, token: number, scroll = false): void {
    const e = this.ctx.explanation();
    if (!e) return;
    const piece = side === 'source' ? e.sourcePieces[token] : e.targetPieces[token];
    this.status.textContent = `Following ${side} token ${token} “${pieceLabel(piece ?? '')}” through the model…`;
    setHidden(this.root, false);
    if (scroll && typeof this.root.scrollIntoView === 'function') this.root.scrollIntoView({ block: 'start' });
    this.ctx.post({ type: 'trace', side, token });
  }

  /** The host's numbers arrived: keep the reader's step, layer and head where they still exist. */
  show(trace: Trace): void {
    const before = this.trace ? this.steps[this.position] : undefined;
    this.trace = trace;
    this.steps = stepList(trace);
    const heads = trace.layers[0]?.attention[0]?.heads.length ?? 1;
    this.head = Math.min(this.head, heads - 1);
    let at = 0;
    if (before) {
      const same = this.steps.findIndex((s) => s.n === before.n && s.layer === before.layer && s.sub === before.sub);
      at = same >= 0 ? same : Math.min(this.position, this.steps.length - 1);
    }
    this.position = at;
    this.status.textContent = '';
    const side = trace.side === 'source' ? 'source' : 'target';
    const pieces = trace.side === 'source' ? trace.source.pieces : trace.target.pieces;
    const nextPiece = trace.side === 'target' ? (trace.logits?.nextPiece ?? trace.target.pieces[trace.token + 1]) : undefined;
    clear(this.title);
    this.title.append(`${side === 'source' ? 'Source' : 'Decoder input'} token ${trace.token} `);
    const tok = el(this.ctx.doc, 'span', { className: 'wt-token' });
    appendPiece(this.ctx.doc, tok, pieces[trace.token] ?? '');
    this.title.append(tok, ` of ${pieces.length}, through ${trace.layers.length} ${side === 'source' ? 'encoder' : 'decoder'} layers`);
    if (nextPiece !== undefined) this.title.append(': it predicts the next target token, ', this.tokenLabelIn(nextPiece));
    this.title.append('.');
    setHidden(this.root, false);
    this.render();
  }

  private tokenLabelIn(piece: string): HTMLElement {
    const span = el(this.ctx.doc, 'span', { className: 'wt-token' });
    appendPiece(this.ctx.doc, span, piece);
    return span;
  }

  error(message: string): void {
    this.status.textContent = message;
    setHidden(this.root, false);
  }

  /** A new explanation: the old numbers no longer apply. */
  reset(): void {
    this.trace = undefined;
    this.steps = [];
    this.position = 0;
    clear(this.stepBox);
    this.status.textContent = '';
    setHidden(this.root, true);
  }

  get current(): { trace: Trace; step: StepRef; head: number } | undefined {
    return this.trace ? { trace: this.trace, step: this.steps[this.position], head: this.head } : undefined;
  }

  private go(position: number): void {
    if (!this.trace) return;
    this.position = Math.max(0, Math.min(this.steps.length - 1, position));
    this.render();
    this.stepTitleEl.focus({ preventScroll: true });
  }

  private goLayer(layer: number): void {
    const cur = this.steps[this.position];
    let i = this.steps.findIndex((s) => s.layer === layer && s.n === cur.n && s.sub === cur.sub);
    if (i < 0) i = this.steps.findIndex((s) => s.layer === layer);
    if (i >= 0) this.go(i);
  }

  private setHead(head: number): void {
    this.head = head;
    this.render();
  }

  private moveToken(delta: number): void {
    const t = this.trace;
    if (!t) return;
    const count = t.side === 'source' ? t.source.ids.length : t.target.ids.length;
    const next = t.token + delta;
    if (next < 0 || next >= count) return;
    this.request(t.side, next);
  }

  private onKey(e: KeyboardEvent): void {
    const target = e.target as HTMLElement | null;
    if (target && (target.tagName === 'SELECT' || target.tagName === 'INPUT')) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const heads = this.trace?.layers[0]?.attention[0]?.heads.length ?? 1;
    switch (e.key) {
      case 'n':
      case 'N':
        this.go(this.position + 1);
        break;
      case 'p':
      case 'P':
        this.go(this.position - 1);
        break;
      case ']':
        this.moveToken(1);
        break;
      case '[':
        this.moveToken(-1);
        break;
      case 'h':
      case 'H':
        this.setHead((this.head + 1) % heads);
        break;
      default:
        return;
    }
    e.preventDefault();
  }

  private render(): void {
    const t = this.trace;
    if (!t) return;
    const s = this.steps[this.position];
    const doc = this.ctx.doc;
    const heads = t.layers[0]?.attention[0]?.heads.length ?? 1;
    fillSelect(doc, this.layerSelect, t.layers.length, (i) => `${i + 1} of ${t.layers.length}`, s.layer);
    fillSelect(doc, this.headSelect, heads, (i) => `${i + 1} of ${heads}`, this.head);
    this.prevStep.disabled = this.position === 0;
    this.nextStep.disabled = this.position === this.steps.length - 1;
    const count = t.side === 'source' ? t.source.ids.length : t.target.ids.length;
    this.prevToken.disabled = t.token === 0;
    this.nextToken.disabled = t.token >= count - 1;
    this.counter.textContent = `step ${this.position + 1} of ${this.steps.length}`;
    this.stepTitleEl.textContent = stepTitle(t, s);
    clear(this.stepBox);
    const colors = stripColors(doc, this.ctx.palette().theme);
    const r = new StepRenderer(doc, this.stepBox, t, this.head, colors, this.ctx.explanation(), this.hooks);
    r.render(s);
  }
}

function fillSelect(doc: Document, s: HTMLSelectElement, n: number, label: (i: number) => string, value: number): void {
  if (s.options.length !== n) {
    clear(s);
    for (let i = 0; i < n; i++) s.append(el(doc, 'option', { text: label(i), attrs: { value: i } }));
  }
  s.value = String(value);
}

/** Builds the content of one step into `box`. */
class StepRenderer {
  constructor(
    private readonly doc: Document,
    private readonly box: HTMLElement,
    private readonly t: Trace,
    private readonly head: number,
    private readonly colors: StripColors,
    private readonly explanation: Explanation | undefined,
    private readonly hooks: WalkthroughHooks,
  ) {}

  render(s: StepRef): void {
    switch (s.n) {
      case 1:
        return this.input(s.layer);
      case 2:
        return this.projections(s);
      case 3:
        return this.scores(s);
      case 4:
        return this.context(s);
      case 5:
        return this.outputProjection(s);
      case 6:
        return this.addAndNorm(s);
      case 7:
        return this.feedForward(s.layer);
      case 8:
        return this.logits();
    }
  }

  // ---- helpers ------------------------------------------------------------------------------------
  private p(text: string, className = 'wt-math'): HTMLElement {
    const node = el(this.doc, 'p', { className, text });
    this.box.append(node);
    return node;
  }

  private strip(values: number[], label: string, opts: { groupSize?: number; max?: number } = {}): HTMLElement {
    const node = colorStrip(this.doc, values, { label, colors: this.colors, ...opts });
    this.box.append(node);
    return node;
  }

  /** A number with its exact value kept in data-value (and the title), shown short. */
  private num(v: number, className = 'wt-num'): HTMLElement {
    return el(this.doc, 'span', { className, text: short(v), attrs: { 'data-value': exact(v), title: exact(v) } });
  }

  private line(...parts: Array<string | Node>): HTMLElement {
    const node = el(this.doc, 'p', { className: 'wt-math' });
    node.append(...parts);
    this.box.append(node);
    return node;
  }

  private attention(s: StepRef): TraceAttention {
    return this.t.layers[s.layer].attention[s.sub];
  }

  /** Labels of the keys an attention sees: source pieces (encoder, cross) or the target pieces 0..token. */
  private keyPieces(a: TraceAttention): string[] {
    return a.kind === 'decoder' ? this.t.target.pieces.slice(0, a.heads[0].keys.length) : this.t.source.pieces;
  }

  private tokenLabel(piece: string): HTMLElement {
    const span = el(this.doc, 'span', { className: 'wt-token' });
    appendPiece(this.doc, span, piece);
    return span;
  }

  // ---- (1) ----------------------------------------------------------------------------------------
  private input(layer: number): void {
    const t = this.t;
    if (layer > 0) {
      this.p(`Layer ${layer + 1} reads what layer ${layer} wrote for this token (step 7 of layer ${layer}).`);
      this.strip(t.layers[layer].attention[0].input, `input of layer ${layer + 1}`);
      return;
    }
    const e = t.embedding;
    const d = e.input.length;
    const ids = t.side === 'source' ? t.source.ids : t.target.ids;
    this.p(`Each token is a row of the embedding table (id ${ids[t.token]}); Marian multiplies it by √d_model = √${d} = ${short(e.scale)}.`);
    this.strip(e.token, 'token embedding (the stored row)');
    this.p(`Then adds the sinusoids of position ${t.token}: sin in the first ${d / 2} dimensions, cos in the last ${d / 2}.`);
    this.strip(e.position, `positional encoding at position ${t.token}`);
    const note = this.line();
    const positional = this.explanation?.positional;
    if (positional && t.token < positional.positions && positional.dModel === d) {
      const row = positional.values.subarray(t.token * d, (t.token + 1) * d);
      const same = e.position.every((v, i) => v === row[i]);
      note.append(
        el(this.doc, 'span', {
          id: 'wt-pe-check',
          text: same ? `The same ${d} values as row ${t.token} of the positional-encoding plot ✓ ` : `Differs from the positional-encoding plot's row ${t.token} ✗ `,
        }),
      );
    }
    const link = el(this.doc, 'button', { className: 'wt-link', text: 'Show the positional-encoding plot', attrs: { type: 'button' } });
    link.addEventListener('click', () => this.hooks.showPositions());
    note.append(link);
    this.p(`input = embedding × ${short(e.scale)} + position:`);
    this.strip(e.input, 'input x');
  }

  // ---- (2) ----------------------------------------------------------------------------------------
  private projections(s: StepRef): void {
    const a = this.attention(s);
    const h = a.heads[this.head];
    const dh = h.q.length;
    const from = a.kind === 'cross' ? 'the encoder\'s output y for every source token (computed once per sentence)' : 'the layer input y of every visible token';
    this.p(`Head ${this.head + 1} uses ${dh} of the ${a.input.length} columns of each projection: q = x·W_Q + b_Q for this token; k = y·W_K + b_K and v = y·W_V + b_V from ${from}.`);
    this.strip(a.input, a.kind === 'cross' ? 'x (this token, after the self-attention step)' : 'x (this token\'s layer input)');
    this.strip(h.q, `q, head ${this.head + 1}`);
    const pieces = this.keyPieces(a);
    if (a.kind === 'decoder') this.p(`The decoder's self-attention sees tokens 0…${this.t.token} only: later tokens are not there yet when this one is predicted.`, 'caption');
    const list = el(this.doc, 'div', { className: 'wt-keys' });
    h.keys.forEach((k, j) => {
      const row = el(this.doc, 'div', { className: 'wt-key-row' });
      const head = el(this.doc, 'div', { className: 'wt-key-label' });
      head.append(`key/value ${j} `, this.tokenLabel(pieces[j] ?? ''));
      row.append(head);
      row.append(colorStrip(this.doc, k, { label: `k${j}`, colors: this.colors, compact: true }), colorStrip(this.doc, h.values[j], { label: `v${j}`, colors: this.colors, compact: true }));
      list.append(row);
    });
    this.box.append(list);
  }

  // ---- (3) ----------------------------------------------------------------------------------------
  private scores(s: StepRef): void {
    const a = this.attention(s);
    const h = a.heads[this.head];
    const dk = h.q.length;
    this.p(`Similarity of this token's query with every key: q·k, divided by √d_k = √${dk} = ${short(Math.sqrt(dk))} so the softmax does not saturate, then softmax turns the scores into percentages.`);
    const pieces = this.keyPieces(a);
    const row = this.heatmapRow(a, s.layer);
    const table = el(this.doc, 'table', { id: 'wt-scores', className: 'wt-table' });
    const head = el(this.doc, 'tr');
    for (const c of ['key', 'q·k', '÷ √d_k', 'softmax', '', 'heatmap row']) head.append(el(this.doc, 'th', { text: c, attrs: { scope: 'col' } }));
    table.append(el(this.doc, 'thead', { children: [head] }));
    const body = el(this.doc, 'tbody');
    let best = 0;
    h.weights.forEach((w, j) => (w > h.weights[best] ? (best = j) : 0));
    h.scores.forEach((score, j) => {
      const tr = el(this.doc, 'tr', { attrs: { 'data-key': j } });
      if (j === best) tr.classList.add('wt-best');
      const keyCell = el(this.doc, 'th', { attrs: { scope: 'row' } });
      keyCell.append(`${j} `, this.tokenLabel(pieces[j] ?? ''));
      const pct = el(this.doc, 'td');
      pct.append(this.num(h.weights[j], 'wt-num wt-weight'), ` (${formatPercent(h.weights[j])})`);
      const barCell = el(this.doc, 'td', { className: 'wt-bar-cell', attrs: { 'aria-hidden': 'true' } });
      const bar = el(this.doc, 'span', { className: 'wt-bar' });
      bar.style.width = `${(h.weights[j] * 100).toFixed(1)}%`;
      barCell.append(bar);
      const hm = el(this.doc, 'td');
      if (row) hm.append(this.num(row[j], 'wt-num wt-heatmap'));
      tr.append(keyCell, el(this.doc, 'td', { children: [this.num(score, 'wt-num wt-score')] }), el(this.doc, 'td', { children: [this.num(h.scaled[j], 'wt-num wt-scaled')] }), pct, barCell, hm);
      body.append(tr);
    });
    if (a.kind === 'decoder') {
      // the causal mask: later target tokens get −∞ before the softmax, so weight 0
      for (let j = h.scores.length; j < this.t.target.pieces.length; j++) {
        const tr = el(this.doc, 'tr', { className: 'wt-masked', attrs: { 'data-key': j } });
        const keyCell = el(this.doc, 'th', { attrs: { scope: 'row' } });
        keyCell.append(`${j} `, this.tokenLabel(this.t.target.pieces[j]));
        tr.append(keyCell, el(this.doc, 'td', { text: 'masked' }), el(this.doc, 'td', { text: '−∞' }), el(this.doc, 'td', { text: '0 (0.0%)' }), el(this.doc, 'td'), el(this.doc, 'td', { text: row && j < row.length ? `${short(row[j])}` : '' }));
        body.append(tr);
      }
    }
    table.append(body);
    this.box.append(el(this.doc, 'div', { className: 'wt-table-wrap', children: [table] }));
    if (row) {
      const same = h.weights.every((w, j) => w === row[j]);
      const check = this.line(el(this.doc, 'span', { id: 'wt-heatmap-check', text: same ? 'The softmax column is the heatmap row, number for number ✓ ' : 'The softmax column differs from the heatmap row ✗ ' }));
      const link = el(this.doc, 'button', { className: 'wt-link', text: 'Show this row in the heatmap', attrs: { type: 'button' } });
      link.addEventListener('click', () => this.hooks.showInHeatmap(a.kind, s.layer, this.head, this.t.token));
      check.append(link);
    }
  }

  /** This head's row of the explanation's attention (what the heatmap draws), when the explanation is the trace's. */
  private heatmapRow(a: TraceAttention, layer: number): Float32Array | undefined {
    const e = this.explanation;
    if (!e) return undefined;
    const sameSentence = e.sourceIds.length === this.t.source.ids.length && e.sourceIds.every((id, i) => id === this.t.source.ids[i]);
    const sameTarget = this.t.target.ids.every((id, i) => e.targetIds[i] === id);
    if (!sameSentence || (a.kind !== 'encoder' && !sameTarget)) return undefined;
    const kind = e.attentions[a.kind];
    if (this.t.token >= kind.queryLen || layer >= kind.layers || this.head >= kind.heads) return undefined;
    return attentionRow(kind, layer, this.head, this.t.token);
  }

  // ---- (4) ----------------------------------------------------------------------------------------
  private context(s: StepRef): void {
    const a = this.attention(s);
    const h = a.heads[this.head];
    const pieces = this.keyPieces(a);
    this.p('Each value vector is scaled by its weight and the scaled vectors are added up: the head\'s output mixes the tokens it attends to.');
    const list = el(this.doc, 'div', { className: 'wt-keys' });
    h.values.forEach((v, j) => {
      const row = el(this.doc, 'div', { className: 'wt-key-row' });
      const label = el(this.doc, 'div', { className: 'wt-key-label' });
      label.append(this.num(h.weights[j], 'wt-num wt-weight'), ` (${formatPercent(h.weights[j])}) × v${j} `, this.tokenLabel(pieces[j] ?? ''));
      row.append(label, colorStrip(this.doc, v, { label: `v${j}`, colors: this.colors, compact: true }));
      if (h.weights[j] < 0.01) row.classList.add('wt-faint');
      list.append(row);
    });
    this.box.append(list);
    this.p('Σ weight × value =');
    this.strip(h.context, `context of head ${this.head + 1}`);
  }

  // ---- (5) ----------------------------------------------------------------------------------------
  private outputProjection(s: StepRef): void {
    const a = this.attention(s);
    const dh = a.heads[0].context.length;
    const concatenated = a.heads.flatMap((h) => h.context);
    this.p(`The ${a.heads.length} heads' outputs side by side (${a.heads.length} × ${dh} = ${concatenated.length} numbers; lines mark the heads), then one more linear layer mixes them: output = concat · W_O + b_O.`);
    this.strip(concatenated, 'concatenated heads', { groupSize: dh });
    this.strip(a.output, 'attention output');
  }

  // ---- (6) ----------------------------------------------------------------------------------------
  private addAndNorm(s: StepRef): void {
    const a = this.attention(s);
    this.p('Residual connection: the sublayer adds to its input instead of replacing it.');
    this.strip(a.input, 'input');
    this.strip(a.output, '+ attention output');
    this.strip(a.residual, '= residual');
    this.norm(a.norm, a.residual);
  }

  private norm(n: Trace['layers'][number]['feedForward']['norm'], residual: number[]): void {
    this.line('LayerNorm: mean ', this.num(n.mean, 'wt-num wt-mean'), ', variance ', this.num(n.variance, 'wt-num wt-variance'), ` over the ${residual.length} numbers${n.eps !== undefined ? `, ε = ${exact(n.eps)}` : ''}.`);
    if (n.normalized) this.strip(n.normalized, '(x − mean) / √(variance + ε)');
    if (n.gamma) this.strip(n.gamma, '× γ (learned scale)');
    if (n.beta) this.strip(n.beta, '+ β (learned shift)');
    this.strip(n.output, '= LayerNorm output');
  }

  // ---- (7) ----------------------------------------------------------------------------------------
  private feedForward(layer: number): void {
    const f = this.t.layers[layer].feedForward;
    const act = f.activation ?? 'the activation';
    this.p(`The same two-layer network for every token: widen to ${f.hidden.length} numbers (fc1), ${act}, back to ${f.output.length} (fc2).`);
    this.strip(f.input, 'input (the attention step\'s output)');
    if (f.preActivation) this.strip(f.preActivation, 'fc1: input · W₁ + b₁');
    this.strip(f.hidden, `${act}(fc1)`);
    this.strip(f.output, 'fc2: hidden · W₂ + b₂');
    this.strip(f.residual, '+ input = residual');
    this.norm(f.norm, f.residual);
    const last = layer === this.t.layers.length - 1;
    const next = !last
      ? `This is layer ${layer + 1}'s output: layer ${layer + 2}'s input.`
      : this.t.side === 'source'
        ? 'This is the encoder\'s output for this token: every decoder layer\'s encoder–decoder attention reads its keys and values from it.'
        : 'This is the decoder\'s output for this token: step (8) turns it into the next-token prediction.';
    this.p(next);
  }

  // ---- (8) ----------------------------------------------------------------------------------------
  private logits(): void {
    const t = this.t;
    const lg = t.logits;
    if (!lg) return;
    const h = t.layers[t.layers.length - 1].feedForward.norm.output;
    this.p('One score per vocabulary entry: logits = h · Eᵀ + final_logits_bias (E is the embedding table again), then softmax. The pad token is banned, as in generation.');
    this.strip(h, 'h (the decoder\'s output)');
    const table = el(this.doc, 'table', { id: 'wt-logits', className: 'wt-table' });
    const head = el(this.doc, 'tr');
    for (const c of ['candidate', 'logit', 'probability']) head.append(el(this.doc, 'th', { text: c, attrs: { scope: 'col' } }));
    table.append(el(this.doc, 'thead', { children: [head] }));
    const body = el(this.doc, 'tbody');
    lg.topIds.forEach((id, i) => {
      const tr = el(this.doc, 'tr', { attrs: { 'data-id': id } });
      if (id === lg.nextId) tr.classList.add('wt-best');
      const c = el(this.doc, 'th', { attrs: { scope: 'row' } });
      c.append(this.tokenLabel(lg.topPieces[i]), id === lg.nextId ? ' ← next' : '');
      const prob = el(this.doc, 'td');
      prob.append(this.num(lg.topProbs[i], 'wt-num wt-prob'), ` (${formatPercent(lg.topProbs[i])})`);
      tr.append(c, el(this.doc, 'td', { children: [this.num(lg.topLogits[i], 'wt-num wt-logit')] }), prob);
      body.append(tr);
    });
    table.append(body);
    this.box.append(el(this.doc, 'div', { className: 'wt-table-wrap', children: [table] }));
    if (lg.nextId !== undefined && lg.nextPiece !== undefined) {
      const inTop = lg.topIds.includes(lg.nextId);
      this.line('The next target token is ', this.tokenLabel(lg.nextPiece), ` (logit ${short(lg.nextLogit ?? NaN)}, p = ${formatPercent(lg.nextProb ?? NaN)}${inTop ? '' : ', not among the top candidates'}).`);
    } else {
      this.p('This is the last decoder input: the translation ended here without </s> (length limit).');
    }
  }
}

/** A shape check of a trace coming over postMessage (a broken host must not break the panel). */
export function isTraceLike(x: unknown): x is Trace {
  if (!x || typeof x !== 'object') return false;
  const t = x as Record<string, unknown>;
  const tokens = (v: unknown) => !!v && typeof v === 'object' && Array.isArray((v as Trace['source']).pieces) && Array.isArray((v as Trace['source']).ids);
  const layers = t.layers as unknown[];
  return (
    (t.side === 'source' || t.side === 'target') &&
    Number.isInteger(t.token) &&
    tokens(t.source) &&
    tokens(t.target) &&
    !!t.embedding &&
    Array.isArray(layers) &&
    layers.length > 0 &&
    layers.every((l) => {
      const layer = l as Trace['layers'][number];
      return !!layer && Array.isArray(layer.attention) && layer.attention.length > 0 && layer.attention.every((a) => Array.isArray(a?.heads) && a.heads.length > 0) && !!layer.feedForward;
    })
  );
}

/**
 * The ways into the walk-through: a click on a source token or a generated token (generated token i was chosen at
 * decoder input i), and a double-click (or W) on a heatmap row (its query token: source for the encoder's
 * attention, decoder input for the others).
 */
export function connectWalkthrough(
  tokens: HTMLElement, heatmap: HTMLElement, walkthrough: WalkthroughSection,
  heatmapRow: () => { kind: 'encoder' | 'decoder' | 'cross'; row: number } | undefined,
): void {
  tokens.addEventListener('click', (e) => {
    const button = (e.target as Element | null)?.closest?.('.token') as HTMLElement | null;
    if (!button) return;
    if (button.closest('#source-tokens') && button.dataset.index !== undefined) walkthrough.request('source', Number(button.dataset.index));
    else if (button.closest('#target-tokens') && button.dataset.step !== undefined) walkthrough.request('target', Number(button.dataset.step));
  });
  const fromHeatmap = () => {
    const cell = heatmapRow();
    if (cell) walkthrough.request(cell.kind === 'encoder' ? 'source' : 'target', cell.row, true);
  };
  heatmap.addEventListener('dblclick', fromHeatmap);
  heatmap.addEventListener('keydown', (e) => {
    if ((e.key === 'w' || e.key === 'W') && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      fromHeatmap();
    }
  });
}
