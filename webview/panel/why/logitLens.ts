/**
 * The decoder's logit lens as a grid: one row per decoder layer, one column per target position; each cell is the
 * token the model would predict if the decoder stopped after that layer, coloured by its probability. Hover or
 * focus a cell for the layer's top-k.
 */
import type { Explanation } from '../../../src/shared/explanation';
import { lutColor, relativeLuminance, rgbToCss } from '../../shared/colorScale';
import { clear, el, formatPercent, pieceLabel } from '../../shared/dom';
import type { PanelContext } from '../context';

export const LENS_NOTE =
  'Marian is post-LayerNorm: every decoder layer ends in a LayerNorm, so each layer’s output goes straight through the tied output projection + final_logits_bias and softmax (with generation’s logits processors), with no extra norm. The last row is the model’s real prediction.';

export class LogitLensView {
  readonly root: HTMLElement;
  private readonly grid: HTMLElement;
  private readonly detail: HTMLElement;
  private current?: Explanation;

  constructor(private readonly ctx: PanelContext) {
    const doc = ctx.doc;
    this.root = el(doc, 'div', { id: 'logit-lens', className: 'why-block' });
    this.root.append(el(doc, 'h3', { text: 'Logit lens: when did the decoder decide?' }));
    this.root.append(el(doc, 'p', { className: 'intro', text: LENS_NOTE }));
    this.grid = el(doc, 'div', { className: 'lens-scroll' });
    this.detail = el(doc, 'div', { id: 'lens-detail', className: 'why-summary', attrs: { 'aria-live': 'polite' } });
    this.root.append(this.grid, this.detail);
  }

  render(e: Explanation): void {
    this.current = e;
    this.draw();
  }

  recolor(): void {
    if (this.current) this.draw();
  }

  private draw(): void {
    const e = this.current!;
    const doc = this.ctx.doc;
    clear(this.grid);
    this.detail.textContent = 'Hover or focus a cell for that layer’s top candidates.';
    const lens = e.logitLens;
    if (!lens || lens.layers.length === 0) {
      this.grid.append(el(doc, 'p', { className: 'muted', text: 'This explanation carries no logit lens (made by an older version): explain the sentence again.' }));
      return;
    }
    const lut = this.ctx.palette().lut;
    const table = el(doc, 'table', { id: 'lens-grid', className: 'lens-grid' });
    const head = el(doc, 'tr');
    head.append(el(doc, 'th', { text: 'layer \\ token', attrs: { scope: 'col' } }));
    e.steps.forEach((s, p) => head.append(el(doc, 'th', { text: pieceLabel(s.chosenPiece), attrs: { scope: 'col', title: `position ${p + 1}: the token at this step` } })));
    table.append(el(doc, 'thead', { children: [head] }));
    const body = el(doc, 'tbody');
    const L = lens.layers.length;
    lens.layers.forEach((layer, l) => {
      const tr = el(doc, 'tr');
      tr.append(el(doc, 'th', { text: l === L - 1 ? `${l + 1} (output)` : String(l + 1), attrs: { scope: 'row' } }));
      layer.topIds.forEach((ids, p) => {
        const prob = layer.topProbs[p][0] ?? 0;
        const piece = layer.topPieces?.[p]?.[0] ?? String(ids[0]);
        const match = ids[0] === e.steps[p]?.chosenId;
        const td = el(doc, 'td', {
          className: match ? 'lens-cell match' : 'lens-cell',
          text: pieceLabel(piece),
          attrs: { tabindex: 0, 'data-layer': l, 'data-position': p },
        });
        const rgb = lutColor(lut, Math.max(0, Math.min(1, prob)));
        td.style.backgroundColor = rgbToCss(rgb);
        td.style.color = relativeLuminance(rgb) > 0.4 ? '#000' : '#fff';
        const topk = ids.map((_, i) => `${pieceLabel(layer.topPieces?.[p]?.[i] ?? String(ids[i]))} ${formatPercent(layer.topProbs[p][i])}`).join(', ');
        const text = `Layer ${l + 1}, position ${p + 1} (actual: ${pieceLabel(e.steps[p]?.chosenPiece ?? '')}): ${topk}`;
        td.setAttribute('title', text);
        td.setAttribute('aria-label', text);
        const show = () => {
          this.detail.textContent = text;
        };
        td.addEventListener('mouseenter', show);
        td.addEventListener('focus', show);
        tr.append(td);
      });
      body.append(tr);
    });
    table.append(body);
    this.grid.append(table);
  }
}
