/**
 * The overview grid: for each attention kind, layers × heads thumbnails plus per-layer mean and max.
 */
import type { Explanation } from '../../src/shared/explanation';
import type { AttentionKindName, PanelViewState } from '../../src/shared/protocol';
import { aggregateHeads, type Matrix } from '../../src/shared/attention';
import { attentionRange } from '../shared/valueRange';
import { clear, el, makeActivatable } from '../shared/dom';
import { drawPixels, matrixToRgba } from '../shared/heatmap';
import type { PanelContext, Section } from './context';
import { KIND_TITLES } from './selection';
import { KINDS } from './state';

interface Thumb {
  canvas: HTMLCanvasElement;
  kind: AttentionKindName;
  layer: number;
  /** A head index, or the aggregation for agg thumbnails. */
  head: number | 'mean' | 'max';
  /** The thumbnail's matrix, kept so that recolouring does not recompute it. */
  values: Float32Array;
  rows: number;
  cols: number;
  max: number;
}

export class OverviewSection implements Section {
  private readonly grids: HTMLElement;
  private thumbs: Thumb[] = [];

  constructor(private readonly ctx: PanelContext, container: HTMLElement) {
    this.grids = el(ctx.doc, 'div', { className: 'overview-kinds' });
    container.append(this.grids);
  }

  render(explanation: Explanation): void {
    const doc = this.ctx.doc;
    clear(this.grids);
    this.thumbs = [];
    for (const kind of KINDS) {
      const att = explanation.attentions[kind];
      const block = el(doc, 'div', { className: 'kind-block', attrs: { 'data-kind': kind } });
      block.append(el(doc, 'h3', { text: `${KIND_TITLES[kind]} — ${att.queryLen} × ${att.keyLen}` }));
      const grid = el(doc, 'div', { className: 'thumb-grid', attrs: { role: 'group', 'aria-label': `${kind} heads` } });
      grid.style.gridTemplateColumns = `auto repeat(${att.heads}, min-content) 0.5rem repeat(2, min-content)`;
      grid.append(el(doc, 'span', { className: 'grid-corner' }));
      for (let h = 0; h < att.heads; h++) grid.append(el(doc, 'span', { className: 'col-label', text: `H${h + 1}` }));
      grid.append(el(doc, 'span', { className: 'gap' }));
      grid.append(el(doc, 'span', { className: 'col-label', text: 'mean' }), el(doc, 'span', { className: 'col-label', text: 'max' }));
      for (let l = 0; l < att.layers; l++) {
        grid.append(el(doc, 'span', { className: 'row-label', text: `L${l + 1}` }));
        for (let h = 0; h < att.heads; h++) grid.append(this.thumb(kind, l, h, aggregateHeads(att, { aggregation: 'head', layer: l, head: h })));
        grid.append(el(doc, 'span', { className: 'gap' }));
        grid.append(this.thumb(kind, l, 'mean', aggregateHeads(att, { aggregation: 'mean', layer: l, head: 0 })), this.thumb(kind, l, 'max', aggregateHeads(att, { aggregation: 'max', layer: l, head: 0 })));
      }
      block.append(grid);
      this.grids.append(block);
    }
    this.update(this.ctx.view());
  }

  private thumb(kind: AttentionKindName, layer: number, head: number | 'mean' | 'max', matrix: Matrix): HTMLCanvasElement {
    const doc = this.ctx.doc;
    const isHead = typeof head === 'number';
    const canvas = el(doc, 'canvas', {
      className: isHead ? 'head-thumb thumb' : 'agg-thumb thumb',
      attrs: { 'data-kind': kind, 'data-layer': layer, ...(isHead ? { 'data-head': head } : { 'data-agg': head }) },
    });
    const label = isHead ? `${kind} layer ${layer + 1} head ${head + 1}` : `${kind} layer ${layer + 1} ${head} over heads`;
    makeActivatable(canvas, () => {
      this.ctx.updateView(isHead ? { kind, layer, head, aggregation: 'head' } : { kind, layer, aggregation: head });
      // The enlarged heatmap is below the grid: bring it into view, at once (a smooth scroll kept the click's
      // frame busy ~50 ms for a 128-token heatmap); 'nearest' leaves a visible heatmap where it is.
      const detail = this.ctx.doc.getElementById('detail-canvas') ?? this.ctx.doc.getElementById('detail');
      if (detail && typeof detail.scrollIntoView === 'function') detail.scrollIntoView({ block: 'nearest', behavior: 'instant' });
    }, label);
    canvas.title = label;
    const thumb: Thumb = {
      canvas,
      kind,
      layer,
      head,
      values: Float32Array.from(matrix.values),
      rows: matrix.rows,
      cols: matrix.cols,
      max: attentionRange(matrix.values).max,
    };
    this.thumbs.push(thumb);
    this.paint(thumb);
    return canvas;
  }

  private paint(thumb: Thumb): void {
    const { lut, floor } = this.ctx.palette();
    // Absolute 0–1 like the detail view's default: a uniform head looks pale, not "maximal".
    // High contrast: small weights stay visible, as in the detail view.
    const rgba = matrixToRgba(thumb.values, thumb.rows, thumb.cols, lut, { min: 0, max: 1 }, floor);
    drawPixels(thumb.canvas, rgba, thumb.cols, thumb.rows);
  }

  update(view: PanelViewState): void {
    for (const t of this.thumbs) {
      const on =
        t.kind === view.kind &&
        t.layer === view.layer &&
        (typeof t.head === 'number' ? view.aggregation === 'head' && view.head === t.head : view.aggregation === t.head);
      if (t.canvas.getAttribute('aria-pressed') === String(on)) continue; // unchanged: not touched
      t.canvas.classList.toggle('selected', on);
      t.canvas.setAttribute('aria-pressed', String(on));
    }
  }

  recolor(): void {
    for (const t of this.thumbs) this.paint(t);
  }
}
