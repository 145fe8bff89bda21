/**
 * Compare two sentences side by side, aligned by position ("The lion kills the tiger." / "The tiger kills the
 * lion."): which tokens differ, the positional encodings (identical per position: word order lives there), the
 * token embeddings (swapped rows), the difference of the encoder attention maps (A − B, diverging colours), and
 * both translations with their step probabilities.
 */
import { interpolateRdBu } from 'd3-scale-chromatic';
import { meanOverHeads } from '../../../src/shared/attention';
import type { Explanation } from '../../../src/shared/explanation';
import { COMPARE_DEMO } from '../../../src/shared/protocol';
import { appendPiece, clear, el, formatPercent, formatValue, pieceLabel, svgEl } from '../../shared/dom';
import type { PanelContext } from '../context';

export interface AlignedRow {
  position: number;
  a?: { id: number; piece: string };
  b?: { id: number; piece: string };
  differs: boolean;
  /** Largest |PE_A − PE_B| over the dimensions at this position (undefined when one side has no token here). */
  peDiff?: number;
  /** Where B's token sits in A (another position), when the two differ. */
  bTokenInA?: number;
  /** True when the two positions trade tokens (A's token here is B's token there): swapped embeddings. */
  swapped?: boolean;
}

/** The two sources aligned by position. */
export function alignSources(a: Explanation, b: Explanation): AlignedRow[] {
  const n = Math.max(a.sourceIds.length, b.sourceIds.length);
  const d = a.positional.dModel;
  const rows: AlignedRow[] = [];
  for (let p = 0; p < n; p++) {
    const ta = p < a.sourceIds.length ? { id: a.sourceIds[p], piece: a.sourcePieces[p] } : undefined;
    const tb = p < b.sourceIds.length ? { id: b.sourceIds[p], piece: b.sourcePieces[p] } : undefined;
    let peDiff: number | undefined;
    if (ta && tb && p < a.positional.positions && p < b.positional.positions && b.positional.dModel === d) {
      peDiff = 0;
      for (let c = 0; c < d; c++) peDiff = Math.max(peDiff, Math.abs(a.positional.values[p * d + c] - b.positional.values[p * d + c]));
    }
    const differs = ta?.id !== tb?.id;
    const j = differs && tb ? a.sourceIds.indexOf(tb.id) : -1;
    const swapped = j >= 0 && ta !== undefined && b.sourceIds[j] === ta.id;
    rows.push({ position: p, a: ta, b: tb, differs, peDiff, bTokenInA: j >= 0 ? j : undefined, swapped });
  }
  return rows;
}

/** A − B of the encoder self-attention (one layer, mean over heads) over the first n = min(lengths) positions. */
export function attentionDifference(a: Explanation, b: Explanation, layer: number): { n: number; values: Float64Array; max: number } {
  const ea = a.attentions.encoder, eb = b.attentions.encoder;
  const n = Math.min(ea.queryLen, eb.queryLen);
  const ma = meanOverHeads(ea, layer), mb = meanOverHeads(eb, layer);
  const values = new Float64Array(n * n);
  let max = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = ma.values[i * ma.cols + j] - mb.values[i * mb.cols + j];
      values[i * n + j] = v;
      max = Math.max(max, Math.abs(v));
    }
  }
  return { n, values, max };
}

export class CompareView {
  readonly root: HTMLElement;
  private readonly inputA: HTMLInputElement;
  private readonly inputB: HTMLInputElement;
  private readonly message: HTMLElement;
  private readonly result: HTMLElement;
  private pair?: { a: Explanation; b: Explanation };
  private layer = -1;

  constructor(private readonly ctx: PanelContext) {
    const doc = ctx.doc;
    this.root = el(doc, 'div', { id: 'compare', className: 'why-block' });
    this.root.append(el(doc, 'h3', { text: 'Compare two sentences' }));
    this.root.append(el(doc, 'p', {
      className: 'intro',
      text: 'Two sentences aligned by position: what differs, what stays (the positional encodings), and how the attention changes. Also: “Attention Lens: Compare with…” in the command palette.',
    }));
    const form = el(doc, 'div', { className: 'why-form' });
    this.inputA = el(doc, 'input', { id: 'compare-a', className: 'why-input', attrs: { type: 'text', 'aria-label': 'First sentence', placeholder: COMPARE_DEMO.a } });
    this.inputB = el(doc, 'input', { id: 'compare-b', className: 'why-input', attrs: { type: 'text', 'aria-label': 'Second sentence', placeholder: COMPARE_DEMO.b } });
    const run = el(doc, 'button', { id: 'compare-run', className: 'why-button', text: 'Compare', attrs: { type: 'button' } });
    run.addEventListener('click', () => this.request(this.inputA.value, this.inputB.value));
    const demo = el(doc, 'button', { id: 'compare-demo', className: 'why-button secondary', text: 'Demo: lion / tiger word order', attrs: { type: 'button' } });
    demo.addEventListener('click', () => {
      this.inputA.value = COMPARE_DEMO.a;
      this.inputB.value = COMPARE_DEMO.b;
      this.request(COMPARE_DEMO.a, COMPARE_DEMO.b);
    });
    form.append(this.inputA, this.inputB, run, demo);
    this.message = el(doc, 'div', { id: 'compare-message', className: 'why-message', attrs: { role: 'status', 'aria-live': 'polite' } });
    this.result = el(doc, 'div', { id: 'compare-result' });
    this.root.append(form, this.message, this.result);
  }

  say(text: string, error = false): void {
    this.message.textContent = text;
    this.message.classList.toggle('error-text', error);
  }

  private request(a: string, b: string): void {
    if (!a.trim() || !b.trim()) return this.say('Give two sentences to compare: one of them is empty.', true);
    if (a.trim() === b.trim()) return this.say('Both sentences are the same: change one of them (for example swap two words) to see what differs.', true);
    this.say('Explaining both sentences…');
    this.ctx.post({ type: 'compare', a, b });
  }

  /** Prefills the first sentence with the one the panel shows. */
  suggest(text: string): void {
    if (!this.inputA.value) this.inputA.value = text;
  }

  show(a: Explanation, b: Explanation): void {
    this.pair = { a, b };
    this.inputA.value = a.sourceText;
    this.inputB.value = b.sourceText;
    this.layer = a.attentions.encoder.layers - 1;
    this.say('');
    this.draw();
    if (typeof this.root.scrollIntoView === 'function') this.root.scrollIntoView({ block: 'start' });
  }

  recolor(): void {
    if (this.pair) this.draw();
  }

  private draw(): void {
    const { a, b } = this.pair!;
    const doc = this.ctx.doc;
    clear(this.result);
    // translations and step probabilities
    const sides = el(doc, 'div', { id: 'compare-translations', className: 'alt-sides' });
    for (const [label, e, id] of [['A', a, 'compare-side-a'], ['B', b, 'compare-side-b']] as const) {
      const col = el(doc, 'div', { id, className: 'alt-side' });
      col.append(el(doc, 'h4', { text: `${label}: ${e.sourceText}` }));
      col.append(el(doc, 'p', { className: 'alt-translation', text: e.translation }));
      const chips = el(doc, 'div', { className: 'compare-steps' });
      for (const s of e.steps) {
        const chip = el(doc, 'span', { className: 'chip' });
        appendPiece(doc, chip, s.chosenPiece);
        chip.append(` ${formatPercent(s.chosenProb)}`);
        chips.append(chip);
      }
      col.append(chips);
      sides.append(col);
    }
    this.result.append(sides);

    // tokens aligned by position
    const rows = alignSources(a, b);
    const differing = rows.filter((r) => r.differs).length;
    this.result.append(el(doc, 'p', {
      id: 'compare-summary', className: 'why-summary',
      text: differing
        ? `${differing} of ${rows.length} positions hold different tokens. The positional encodings are the same at every position (they depend on the position only), so the order of the words reaches the model only through which embedding sits at which position.`
        : 'Both sentences have the same tokens at every position.',
    }));
    const table = el(doc, 'table', { id: 'compare-table', className: 'why-table' });
    const head = el(doc, 'tr');
    for (const h of ['Position', 'A token', 'B token', 'Tokens', 'Positional encoding', 'Token embedding']) head.append(el(doc, 'th', { text: h, attrs: { scope: 'col' } }));
    table.append(el(doc, 'thead', { children: [head] }));
    const body = el(doc, 'tbody');
    for (const r of rows) {
      const tr = el(doc, 'tr', { className: r.differs ? 'differs' : undefined });
      const ta = el(doc, 'td');
      if (r.a) appendPiece(doc, ta, r.a.piece);
      const tb = el(doc, 'td');
      if (r.b) appendPiece(doc, tb, r.b.piece);
      const pe = r.peDiff === undefined ? '–' : r.peDiff === 0 ? 'identical' : `differs (max |Δ| ${formatValue(r.peDiff)})`;
      const emb = !r.a || !r.b ? 'only one side' : !r.differs ? 'same row' : r.bTokenInA !== undefined ? `B’s is A’s row at position ${r.bTokenInA + 1}${r.swapped ? ' (swapped)' : ' (moved)'}` : 'different row';
      tr.append(el(doc, 'td', { text: String(r.position + 1) }), ta, tb, el(doc, 'td', { text: r.differs ? 'differ' : 'same' }), el(doc, 'td', { text: pe }), el(doc, 'td', { text: emb }));
      body.append(tr);
    }
    table.append(body);
    this.result.append(table);

    // A − B attention difference
    const bar = el(doc, 'div', { className: 'why-form' });
    const layerSelect = el(doc, 'select', { id: 'compare-layer', attrs: { 'aria-label': 'Encoder layer' } });
    for (let l = 0; l < a.attentions.encoder.layers; l++) layerSelect.append(el(doc, 'option', { text: `Encoder layer ${l + 1}`, attrs: { value: l } }));
    layerSelect.value = String(this.layer);
    layerSelect.addEventListener('change', () => {
      this.layer = Number(layerSelect.value);
      this.draw();
    });
    bar.append(el(doc, 'span', { text: 'Encoder self-attention, A − B (mean over heads), aligned positions:' }), layerSelect);
    this.result.append(bar);
    this.result.append(this.differenceSvg(a, b));
  }

  private differenceSvg(a: Explanation, b: Explanation): SVGSVGElement {
    const doc = this.ctx.doc;
    const diff = attentionDifference(a, b, this.layer);
    const fg = this.ctx.palette().theme.foreground;
    const cell = 26, left = 150, top = 80;
    const label = (p: number) => {
      const x = pieceLabel(a.sourcePieces[p]), y = pieceLabel(b.sourcePieces[p]);
      return x === y ? x : `${x} / ${y}`;
    };
    const lw = Math.max(300, diff.n * cell);
    const width = left + lw + 20, height = top + diff.n * cell + 50;
    const svg = svgEl(doc, 'svg', { id: 'compare-diff', attrs: { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'font-size': 11, 'font-family': 'sans-serif' } });
    svg.setAttribute('aria-label', `Attention difference A minus B, encoder layer ${this.layer + 1}; largest difference ${formatValue(diff.max, 3)}`);
    const m = diff.max || 1;
    for (let i = 0; i < diff.n; i++) {
      svg.append(svgEl(doc, 'text', { text: label(i), attrs: { x: left - 6, y: top + i * cell + cell / 2, 'text-anchor': 'end', 'dominant-baseline': 'middle', fill: fg } }));
      const x = left + i * cell + cell / 2, y = top - 6;
      svg.append(svgEl(doc, 'text', { text: label(i), attrs: { x, y, transform: `rotate(-60 ${x} ${y})`, fill: fg } }));
      for (let j = 0; j < diff.n; j++) {
        const v = diff.values[i * diff.n + j];
        // blue where A attends more, red where B does (RdBu runs red → white → blue)
        const rect = svgEl(doc, 'rect', { className: 'diff-cell', attrs: { x: left + j * cell, y: top + i * cell, width: cell - 1, height: cell - 1, fill: interpolateRdBu(0.5 + v / (2 * m)), 'data-value': v.toFixed(6) } });
        rect.append(svgEl(doc, 'title', { text: `${label(i)} → ${label(j)}: A − B = ${formatValue(v, 3)}` }));
        svg.append(rect);
      }
    }
    const ly = top + diff.n * cell + 18;
    const steps = 20;
    for (let s = 0; s < steps; s++) svg.append(svgEl(doc, 'rect', { attrs: { x: left + (s * lw) / steps, y: ly, width: lw / steps + 0.5, height: 10, fill: interpolateRdBu(s / (steps - 1)) } }));
    svg.append(svgEl(doc, 'text', { text: `−${formatValue(m, 2)} (B attends more)`, attrs: { x: left, y: ly + 24, fill: fg } }));
    svg.append(svgEl(doc, 'text', { text: `+${formatValue(m, 2)} (A attends more)`, attrs: { x: left + lw, y: ly + 24, 'text-anchor': 'end', fill: fg } }));
    return svg;
  }
}
