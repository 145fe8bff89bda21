/**
 * The large heatmap: controls (kind, layer, head, aggregation, colour scheme, zoom), the cells with their row and
 * column labels, a colour legend and an exact-value readout driven by hover or keyboard.
 *
 * Layers, so that a click redraws only what it changed (a 128-token matrix is ~1800 × 1900 px): the cells are a
 * bitmap of one pixel per cell scaled up by CSS; the row labels, the column labels (one pair per attention kind) and
 * the decoder's hatching are each their own canvas, drawn again only when what they show changes; the selected step and the keyboard/hover
 * cell are outlined by positioned elements; a transparent canvas on top takes the pointer and the keyboard.
 */
import type { Explanation } from '../../src/shared/explanation';
import { ZOOMS, type Aggregation, type AttentionKindName, type PanelViewState, type Zoom } from '../../src/shared/protocol';
import type { Matrix } from '../../src/shared/attention';
import { attentionRange } from '../shared/valueRange';
import type { ColorFn, ScaleMode } from '../shared/colorScale';
import { rgbToCss } from '../shared/colorScale';
import { button, selectControl, type SelectControl } from '../shared/controls';
import { el, formatValue, pieceLabel, setHidden } from '../shared/dom';
import {
  cellAt,
  computeLayout,
  drawPixels,
  get2d,
  liftAboveFloor,
  matrixToRgba,
  moveCell,
  truncateLabel,
  widestLabel,
  type HeatmapLayout,
  type Range,
  type VisibleFloor,
} from '../shared/heatmap';
import { createLegend, type Legend } from '../shared/legend';
import type { PanelContext, Section } from './context';
import { KIND_TITLES, crossFocus, selectMatrix, type SelectedMatrix } from './selection';
import { KINDS } from './state';

type Cell = { row: number; col: number };

const AGG_LABELS: Record<Aggregation, string> = {
  head: 'Single head',
  mean: 'Mean over heads',
  max: 'Max over heads',
  rollout: 'Attention rollout (encoder)',
};

/** The readout text for one cell. */
export function readoutText(sel: SelectedMatrix, cell: Cell): string {
  const v = sel.matrix.values[cell.row * sel.matrix.cols + cell.col];
  return `${pieceLabel(sel.rowLabels[cell.row])} → ${pieceLabel(sel.colLabels[cell.col])}: ${formatValue(v)}`;
}

/** Zoom of the detail heatmap (kept in the view state): the whole matrix in the frame, or every label readable (100 %) and twice that. */
export { ZOOMS, type Zoom };
const ZOOM_LABELS: Record<string, string> = { fit: 'Fit', 1: '100 %', 2: '200 %' };

/**
 * The cell side for a zoom: `readable` at 100 % (every label drawn), twice it at 200 %, and for Fit the largest
 * side that puts the grid and its labels inside `avail` (never above `readable`, never under 1 px).
 */
export function zoomedCell(
  zoom: Zoom,
  readable: number,
  grid: { rows: number; cols: number; left: number; top: number; pad: number },
  avail: { width: number; height: number },
): number {
  if (zoom !== 'fit') return readable * zoom;
  const byWidth = Math.floor((avail.width - grid.left - grid.pad) / Math.max(1, grid.cols));
  const byHeight = Math.floor((avail.height - grid.top - grid.pad) / Math.max(1, grid.rows));
  return Math.max(1, Math.min(readable, byWidth, byHeight));
}

/** One label layer: a canvas covering part of the heatmap, redrawn only when its signature changes. */
interface Layer {
  canvas: HTMLCanvasElement;
  signature: string;
}

export class DetailSection implements Section {
  /** The transparent top layer: takes focus, keys and the pointer (its bitmap stays 1 × 1). */
  readonly canvas: HTMLCanvasElement;
  private readonly kindCtl: SelectControl;
  private readonly layerCtl: SelectControl;
  private readonly headCtl: SelectControl;
  private readonly aggCtl: SelectControl;
  private readonly schemeCtl: SelectControl;
  private readonly titleEl: HTMLElement;
  private readonly note: HTMLElement;
  private readonly legend: Legend;
  private readonly readout: HTMLElement;
  private readonly body: HTMLElement;
  private readonly stack: HTMLElement;
  readonly exportBar: HTMLElement;
  private readonly zoomButtons = new Map<Zoom, HTMLElement>();

  private selected?: SelectedMatrix;
  private range: Range = { min: 0, max: 1 };
  private layout?: HeatmapLayout;
  /** The cells at one pixel each (CSS scales them up): a head or layer change redraws only this small bitmap. */
  private readonly cells: HTMLCanvasElement;
  /** Each attention kind keeps its own label canvases: switching kinds (a thumbnail of another kind) redraws no label. */
  private readonly labelLayers = new Map<AttentionKindName, { rows: Layer; cols: Layer }>();
  private readonly hatch: Layer;
  /** Outlines of the selected decoding step's row and of the hover/keyboard cell. */
  private readonly stepOutline: HTMLElement;
  private readonly cellOutline: HTMLElement;
  private hover?: Cell;
  private cursor?: Cell;
  private matrixKey = '';
  private readonly labelWidths = new Map<string, number>();
  /** Absolute 0–1 by default, so equal colours mean equal weights in every matrix. */
  private scaleMode: ScaleMode = 'absolute';
  private readonly scaleCtl: SelectControl;
  private zoom: Zoom = 1;
  /** The high-contrast floor of the cells drawn now (the legend shows the same lift). */
  private floor?: VisibleFloor;

  constructor(private readonly ctx: PanelContext, container: HTMLElement) {
    const doc = ctx.doc;
    const controls = el(doc, 'div', { id: 'controls', className: 'controls' });
    this.kindCtl = selectControl(doc, 'kind-select', 'Attention', (v) => {
      const explanation = ctx.explanation();
      // Cross-attention opens on the last layer, mean over heads (see crossFocus).
      ctx.updateView(v === 'cross' && explanation ? { ...crossFocus(explanation, ctx.view(), ctx.view().selectedStep), kind: 'cross' } : { kind: v as AttentionKindName });
    });
    this.layerCtl = selectControl(doc, 'layer-select', 'Layer', (v) => ctx.updateView({ layer: Number(v) }));
    this.headCtl = selectControl(doc, 'head-select', 'Head', (v) => ctx.updateView({ head: Number(v), aggregation: 'head' }));
    this.aggCtl = selectControl(doc, 'aggregation-select', 'Aggregation', (v) => {
      const layers = ctx.explanation()?.attentions[ctx.view().kind].layers ?? 1;
      ctx.updateView(v === 'rollout' ? { aggregation: 'rollout', layer: Math.max(0, layers - 1) } : { aggregation: v as Aggregation });
    });
    this.schemeCtl = selectControl(doc, 'scheme-select', 'Colours', (v) =>
      ctx.updateView({ colorScheme: v === 'colorblind' ? 'colorblind' : 'theme' }),
    );
    this.scaleCtl = selectControl(doc, 'scale-select', 'Colour scale', (v) => ctx.updateView({ colorScale: v === 'matrix' ? 'matrix' : 'absolute' }));
    const zoomGroup = el(doc, 'div', { id: 'zoom', className: 'zoom-buttons', attrs: { role: 'group', 'aria-label': 'Zoom' } });
    for (const z of ZOOMS) {
      const title = z === 'fit' ? 'Fit the whole matrix in view' : z === 1 ? 'Every label readable (the frame scrolls)' : 'Twice the readable size';
      const b = button(doc, `zoom-${z}`, ZOOM_LABELS[String(z)], () => this.setZoom(z), title);
      this.zoomButtons.set(z, b);
      zoomGroup.append(b);
    }
    const zoomControl = el(doc, 'div', { className: 'control zoom-control' });
    zoomControl.append(el(doc, 'span', { className: 'control-label', text: 'Zoom (+ / − on the heatmap)' }), zoomGroup);
    controls.append(this.kindCtl.wrapper, this.layerCtl.wrapper, this.headCtl.wrapper, this.aggCtl.wrapper, this.schemeCtl.wrapper, this.scaleCtl.wrapper, zoomControl);

    this.titleEl = el(doc, 'h3', { id: 'detail-title', className: 'detail-title' });
    this.note = el(doc, 'p', { id: 'detail-note', className: 'caption' });

    this.body = el(doc, 'div', { className: 'detail-body' });
    const frame = el(doc, 'div', { className: 'canvas-frame' });
    this.canvas = el(doc, 'canvas', {
      id: 'detail-canvas',
      attrs: {
        tabindex: 0,
        role: 'img',
        'aria-describedby': 'readout',
        'aria-roledescription': 'heatmap',
        width: 1,
        height: 1,
      },
    });
    this.cells = el(doc, 'canvas', { className: 'detail-layer detail-cells', attrs: { 'aria-hidden': 'true' } });
    this.hatch = this.newLayer('detail-hatch');
    this.stepOutline = el(doc, 'div', { className: 'detail-layer detail-step-outline', attrs: { 'aria-hidden': 'true' } });
    this.cellOutline = el(doc, 'div', { className: 'detail-layer detail-cell-outline', attrs: { 'aria-hidden': 'true' } });
    setHidden(this.stepOutline, true);
    setHidden(this.cellOutline, true);
    this.stack = el(doc, 'div', { className: 'detail-stack' });
    this.stack.append(this.cells, this.hatch.canvas, this.stepOutline, this.cellOutline, this.canvas);
    frame.append(this.stack);

    this.legend = createLegend(doc, 'legend', 'attention weight (rows: queries, columns: keys)');
    this.body.append(frame, this.legend.root);

    this.readout = el(doc, 'div', { id: 'readout', className: 'readout', attrs: { 'aria-live': 'polite' } });
    this.exportBar = el(doc, 'div', { id: 'export', className: 'export', attrs: { role: 'group', 'aria-label': 'Export' } });
    container.append(controls, this.titleEl, this.note, this.body, this.readout, this.exportBar);

    this.canvas.addEventListener('mousemove', (e) => {
      const cell = this.cellFromEvent(e);
      if (cell?.row === this.hover?.row && cell?.col === this.hover?.col) return;
      this.hover = cell;
      this.showReadout();
      this.paint();
    });
    this.canvas.addEventListener('mouseleave', () => {
      this.hover = undefined;
      this.showReadout();
      this.paint();
    });
    this.canvas.addEventListener('click', (e) => {
      const cell = this.cellFromEvent(e);
      if (!cell) return;
      this.cursor = cell;
      this.activate(cell);
    });
    this.canvas.addEventListener('focus', () => {
      if (!this.cursor && this.selected) {
        const step = this.ctx.view().selectedStep;
        this.cursor = { row: step >= 0 && step < this.selected.matrix.rows ? step : 0, col: 0 };
      }
      this.showReadout();
      this.paint();
    });
    this.canvas.addEventListener('blur', () => {
      // Keep the readout's text: swapping it for the hint here reflowed the page between the mouse-down
      // and mouse-up of a click on the export buttons below, so the first click was lost.
      this.paint();
    });
    this.canvas.addEventListener('keydown', (e) => this.onKey(e));
    // Fit follows the panel's size.
    ctx.doc.defaultView?.addEventListener('resize', () => {
      if (this.zoom === 'fit') this.relayout();
    });
    this.syncZoomButtons();
  }

  /** The matrix currently shown (for export). */
  current(): SelectedMatrix | undefined {
    return this.selected;
  }

  currentRange(): Range {
    return this.range;
  }

  /** The zoom in use and the cell side it gives (CSS pixels). */
  zoomState(): { zoom: Zoom; cell: number | undefined } {
    return { zoom: this.zoom, cell: this.layout?.cell };
  }

  /** A zoom the user chose: kept in the view state (and so across reloads), applied by `update`. */
  setZoom(zoom: Zoom): void {
    this.ctx.updateView({ zoom });
  }

  /**
   * The heatmap with its labels at the readable zoom, drawn at `scale` × its CSS size into a new canvas (for a
   * figure export), or undefined where no 2D context exists.
   */
  snapshot(scale: number): { canvas: HTMLCanvasElement; width: number; height: number } | undefined {
    const sel = this.selected;
    const copy = this.ctx.doc.createElement('canvas');
    const g = get2d(copy);
    if (!sel || !g) return undefined;
    const layout = this.layoutFor(sel, 1);
    copy.width = Math.round(layout.width * scale);
    copy.height = Math.round(layout.height * scale);
    g.setTransform(scale, 0, 0, scale, 0, 0);
    const theme = this.ctx.palette().theme;
    g.fillStyle = `rgb(${theme.background.join(',')})`;
    g.fillRect(0, 0, layout.width, layout.height);
    const { cell, left, top, rows, cols } = layout;
    g.imageSmoothingEnabled = false;
    g.drawImage(this.cells, left, top, cols * cell, rows * cell);
    if (this.ctx.view().kind === 'decoder' && rows === cols) this.drawHatch(g, layout);
    this.drawRowLabels(g, sel, layout);
    this.drawColLabels(g, sel, layout);
    return { canvas: copy, width: layout.width, height: layout.height };
  }

  /** Puts the keyboard cursor on a query row (the hovered word the panel was opened on), reads it out and scrolls to it. */
  focusRow(row: number): void {
    const m = this.selected?.matrix;
    if (!m || !Number.isInteger(row) || row < 0 || row >= m.rows) return;
    let col = 0;
    for (let c = 1; c < m.cols; c++) if (m.values[row * m.cols + c] > m.values[row * m.cols + col]) col = c;
    this.cursor = { row, col };
    this.canvas.focus({ preventScroll: true });
    this.showReadout();
    this.paint();
    if (typeof this.canvas.scrollIntoView === 'function') this.canvas.scrollIntoView({ block: 'center' });
  }

  /** The cell the readout describes: hover wins over the keyboard cursor. */
  activeCell(): Cell | undefined {
    return this.hover ?? this.cursor;
  }

  render(explanation: Explanation): void {
    this.hover = undefined;
    this.cursor = undefined;
    this.matrixKey = '';
    this.adopt(this.ctx.view());
    this.syncControls(explanation, this.ctx.view());
    this.rebuild();
  }

  /** Takes the view's colour scale and zoom; says which changed. */
  private adopt(view: PanelViewState): { scaleChanged: boolean; zoomChanged: boolean } {
    const scaleChanged = view.colorScale !== this.scaleMode;
    if (scaleChanged) {
      this.scaleMode = view.colorScale;
      this.matrixKey = '';
    }
    const zoomChanged = view.zoom !== this.zoom;
    if (zoomChanged) {
      this.zoom = view.zoom;
      this.syncZoomButtons();
    }
    return { scaleChanged, zoomChanged };
  }

  update(view: PanelViewState, previous: PanelViewState | undefined): void {
    const { scaleChanged, zoomChanged } = this.adopt(view);
    const explanation = this.ctx.explanation();
    if (!explanation) return;
    this.syncControls(explanation, view);
    if (!previous || scaleChanged || previous.kind !== view.kind || previous.layer !== view.layer || previous.head !== view.head || previous.aggregation !== view.aggregation || previous.colorScheme !== view.colorScheme) {
      this.rebuild();
    } else if (zoomChanged) {
      // the cell the readout describes stays in view
      this.relayout();
      const cell = this.activeCell();
      if (cell) this.scrollCellIntoView(cell);
    } else {
      this.paint();
    }
  }

  recolor(): void {
    this.matrixKey = '';
    this.rebuild();
  }

  private syncZoomButtons(): void {
    for (const [z, b] of this.zoomButtons) {
      const on = z === this.zoom;
      b.setAttribute('aria-pressed', String(on));
      // vscode-button: the chosen zoom is the primary button, the others secondary
      if (on) b.removeAttribute('secondary');
      else b.setAttribute('secondary', '');
    }
  }

  private syncControls(explanation: Explanation, view: PanelViewState): void {
    const att = explanation.attentions[view.kind];
    this.kindCtl.set(KINDS.map((k) => ({ value: k, label: KIND_TITLES[k] })), view.kind);
    this.layerCtl.set(Array.from({ length: att.layers }, (_, l) => ({ value: String(l), label: `Layer ${l + 1}` })), String(view.layer));
    this.headCtl.set(Array.from({ length: att.heads }, (_, h) => ({ value: String(h), label: `Head ${h + 1}` })), String(view.head));
    this.headCtl.setDisabled(view.aggregation !== 'head');
    // Rollout multiplies every layer up to the last: the layer choice has no effect there.
    this.layerCtl.setDisabled(view.aggregation === 'rollout');
    this.aggCtl.set(
      (['head', 'mean', 'max', 'rollout'] as const).map((a) => ({
        value: a,
        label: AGG_LABELS[a],
        disabled: a === 'rollout' && view.kind !== 'encoder',
      })),
      view.aggregation,
    );
    this.scaleCtl.set(
      [
        { value: 'absolute', label: 'Absolute 0–1 (comparable)' },
        { value: 'matrix', label: 'Contrast: 0 to this matrix’s max' },
      ],
      this.scaleMode,
    );
    this.schemeCtl.set(
      [
        { value: 'theme', label: 'Theme colours' },
        { value: 'colorblind', label: 'Colour-blind safe (viridis)' },
      ],
      view.colorScheme,
    );
  }

  /** Recomputes the matrix and its cell bitmap when the matrix changed, then lays out and paints. */
  private rebuild(): void {
    const explanation = this.ctx.explanation();
    if (!explanation) return;
    const view = this.ctx.view();
    const palette = this.ctx.palette();
    const key = `${view.kind}|${view.layer}|${view.head}|${view.aggregation}|${view.colorScheme}|${this.scaleMode}|${palette.theme.kind}`;
    if (key !== this.matrixKey || !this.selected) {
      this.matrixKey = key;
      this.selected = selectMatrix(explanation, view);
      const m: Matrix = this.selected.matrix;
      // Keep the keyboard cursor where it was when the new matrix still has that cell.
      if (this.cursor && (this.cursor.row >= m.rows || this.cursor.col >= m.cols)) this.cursor = undefined;
      this.hover = undefined;
      this.range = this.scaleMode === 'matrix' ? attentionRange(m.values) : { min: 0, max: 1 };
      this.floor = palette.floor;
      drawPixels(this.cells, matrixToRgba(m.values, m.rows, m.cols, palette.lut, this.range, this.floor), m.cols, m.rows);
    }
    const sel = this.selected;
    this.titleEl.textContent = sel.title;
    this.canvas.setAttribute('aria-label', `${sel.title}. ${sel.matrix.rows} query rows by ${sel.matrix.cols} key columns. Use the arrow keys to read values, + and − to zoom.`);
    this.note.textContent = noteFor(view, this.scaleMode, this.floor);
    this.renderLegend(palette.fn);
    this.relayout();
  }

  /** The layout of `sel` at `zoom` (the label sizes are measured once per set of labels). */
  private layoutFor(sel: SelectedMatrix, zoom: Zoom): HeatmapLayout {
    const ctx2d = get2d(this.hatch.canvas);
    const font = this.font();
    const options = {
      rowLabelWidth: this.labelWidth(ctx2d, sel.rowLabels.map((l) => truncateLabel(l, ROW_LABEL_MAX)), font),
      colLabelHeight: this.labelWidth(ctx2d, sel.colLabels.map((l) => truncateLabel(l)), font),
    };
    const { rows, cols } = sel.matrix;
    // 100 %: never smaller than a label's line height, so every row and column label is drawn (the frame scrolls)
    const readable = computeLayout(rows, cols, { ...options, minCell: MIN_READABLE_CELL });
    if (zoom === 1) return readable;
    const win = this.ctx.doc.defaultView;
    // Fit: the width the heatmap's row has (less a scroll bar) and the frame's 80 % of the window's height
    const avail = {
      width: (this.body.clientWidth || win?.innerWidth || 600) - 16,
      height: Math.max(200, (win?.innerHeight || 700) * 0.8 - 16),
    };
    const cell = zoomedCell(zoom, readable.cell, { rows, cols, left: readable.left, top: readable.top, pad: 4 }, avail);
    return computeLayout(rows, cols, { ...options, minCell: cell, maxCell: cell });
  }

  /** Sizes the stack and its layers for the current zoom and draws what changed. */
  private relayout(): void {
    const sel = this.selected;
    if (!sel) return;
    const layout = (this.layout = this.layoutFor(sel, this.zoom));
    const { width, height, cell, left, top, rows, cols } = layout;
    this.stack.style.width = `${width}px`;
    this.stack.style.height = `${height}px`;
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    place(this.cells, left, top, cols * cell, rows * cell);
    this.stack.dataset.cell = String(cell);
    const view = this.ctx.view();
    const theme = this.ctx.palette().theme;
    const font = this.font();
    const dpr = Math.max(1, this.ctx.doc.defaultView?.devicePixelRatio ?? 1);
    // What each layer's pixels depend on (drawn relative to the layer, so where it is placed is not part of it).
    const common = [cell, dpr, font, theme.foreground].join('|');
    const labels = this.labelsOf(view.kind);
    this.drawLayer(labels.rows, `${common}|${left}|${top}|${sel.rowLabels.join('\u0000')}`, 0, 0, left, height, dpr, (g) => this.drawRowLabels(g, sel, layout));
    this.drawLayer(labels.cols, `${common}|${top}|${sel.colLabels.join('\u0000')}`, left, 0, width - left, top, dpr, (g) => this.drawColLabels(g, sel, layout));
    const hatched = view.kind === 'decoder' && rows === cols;
    setHidden(this.hatch.canvas, !hatched);
    if (hatched) {
      this.drawLayer(this.hatch, `${common}|${rows}|${theme.background.join(',')}`, left, top, cols * cell, rows * cell, dpr, (g) => this.drawHatch(g, layout));
    }
    this.showReadout();
    this.paint();
  }

  /** A canvas of the heatmap's stack, hidden from screen readers (the grid canvas carries the words); `kind`: whose labels. */
  private newLayer(className: string, kind?: AttentionKindName): Layer {
    return { canvas: el(this.ctx.doc, 'canvas', { className: `detail-layer ${className}`, attrs: { 'aria-hidden': 'true', 'data-kind': kind } }), signature: '' };
  }

  /** The label canvases of `kind` (made on first use), shown; those of the other kinds hidden. */
  private labelsOf(kind: AttentionKindName): { rows: Layer; cols: Layer } {
    let labels = this.labelLayers.get(kind);
    if (!labels) {
      labels = { rows: this.newLayer('detail-row-labels', kind), cols: this.newLayer('detail-col-labels', kind) };
      this.labelLayers.set(kind, labels);
      this.stepOutline.before(labels.rows.canvas, labels.cols.canvas);
    }
    for (const [k, l] of this.labelLayers) {
      setHidden(l.rows.canvas, k !== kind);
      setHidden(l.cols.canvas, k !== kind);
    }
    return labels;
  }

  /**
   * Draws one layer covering (x, y, w, h) of the heatmap (CSS pixels) with `draw`, which draws in the heatmap's
   * coordinates; skipped when the layer's signature is unchanged. Its bitmap is reallocated only on a size change.
   */
  private drawLayer(
    layer: Layer,
    signature: string,
    x: number, y: number, w: number, h: number, dpr: number,
    draw: (g: CanvasRenderingContext2D) => void,
  ): void {
    place(layer.canvas, x, y, w, h);
    const full = `${signature}|${w}x${h}`;
    if (full === layer.signature) return;
    layer.signature = full;
    const bw = Math.max(1, Math.round(w * dpr));
    const bh = Math.max(1, Math.round(h * dpr));
    if (layer.canvas.width !== bw || layer.canvas.height !== bh) {
      layer.canvas.width = bw;
      layer.canvas.height = bh;
    }
    const g = get2d(layer.canvas);
    if (!g) return;
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.clearRect(0, 0, bw, bh);
    g.setTransform(dpr, 0, 0, dpr, -x * dpr, -y * dpr);
    draw(g);
  }

  /** The labels' text style: the heatmap's font in the theme's foreground, centred vertically on its point. */
  private labelStyle(g: CanvasRenderingContext2D, align: CanvasTextAlign): void {
    g.font = this.font();
    g.fillStyle = this.ctx.palette().theme.foreground;
    g.textAlign = align;
    g.textBaseline = 'middle';
  }

  /** Row labels, right-aligned left of the grid (every one from the readable zoom up, else every n-th). */
  private drawRowLabels(g: CanvasRenderingContext2D, sel: SelectedMatrix, layout: HeatmapLayout): void {
    const { cell, left, top, rows } = layout;
    this.labelStyle(g, 'right');
    const every = labelStride(cell);
    for (let r = 0; r < rows; r += every) g.fillText(truncateLabel(sel.rowLabels[r], ROW_LABEL_MAX), left - 4, top + r * cell + cell / 2);
  }

  /** Column labels, rotated, above the grid. */
  private drawColLabels(g: CanvasRenderingContext2D, sel: SelectedMatrix, layout: HeatmapLayout): void {
    const { cell, left, top, cols } = layout;
    this.labelStyle(g, 'left');
    const every = labelStride(cell);
    for (let c = 0; c < cols; c += every) {
      g.save();
      g.translate(left + c * cell + cell / 2, top - 4);
      g.rotate(-Math.PI / 2);
      g.fillText(truncateLabel(sel.colLabels[c]), 0, 0);
      g.restore();
    }
  }

  /** The widest of `labels` in `font`, measured once per set of labels (a head or layer change keeps them). */
  private labelWidth(ctx2d: CanvasRenderingContext2D | null, labels: string[], font: string): number {
    const key = `${ctx2d ? 'm' : 'e'}|${font}|${labels.join('\u0000')}`;
    let w = this.labelWidths.get(key);
    if (w === undefined) {
      w = widestLabel(ctx2d, labels, font);
      if (this.labelWidths.size > 16) this.labelWidths.clear();
      this.labelWidths.set(key, w);
    }
    return w;
  }

  private font(): string {
    return `11px ${this.ctx.palette().theme.monoFontFamily}`;
  }

  private renderLegend(fn: ColorFn): void {
    const keys = this.selected?.matrix.cols ?? 0;
    // Uniform attention spreads 1/n over n keys: colours near this mark mean "no preference".
    const marks = keys > 0 ? [{ value: 1 / keys, label: `1/${keys}` }] : [];
    const caption =
      this.scaleMode === 'absolute'
        ? `attention weight, absolute scale 0–1 (rows: queries, columns: keys); 1/${keys} = uniform attention`
        : `attention weight, contrast scale 0–${this.range.max.toFixed(3)} (this matrix's maximum; not comparable across matrices)`;
    // In high contrast the cells use the lifted scale: the legend shows the same colours (0 itself stays background).
    const floor = this.floor;
    const shown: ColorFn = floor ? (t) => fn(t <= 0 ? 0 : liftAboveFloor(t, floor)) : fn;
    this.legend.update(shown, this.range.min, this.range.max, 3, marks, caption);
  }

  /**
   * Places the outlines of the selected step's row and of the hover/keyboard cell (elements over the grid, so
   * moving them redraws nothing).
   */
  paint(): void {
    const sel = this.selected;
    const layout = this.layout;
    if (!sel || !layout) return;
    const view = this.ctx.view();
    const { cell, left, top, rows, cols } = layout;
    const active = this.hover ?? (this.isFocused() ? this.cursor : undefined);
    const showStep = (view.kind === 'cross' || view.kind === 'decoder') && view.selectedStep >= 0 && view.selectedStep < rows;
    setHidden(this.stepOutline, !showStep);
    if (showStep) place(this.stepOutline, left - 1, top + view.selectedStep * cell - 1, cols * cell + 2, cell + 2);
    setHidden(this.cellOutline, !active);
    if (active) place(this.cellOutline, left + active.col * cell - 2, top + active.row * cell - 2, cell + 4, cell + 4);
  }

  /**
   * Hatches the decoder's masked cells (a position cannot see later positions): they hold no weight,
   * which is different from a weight of zero.
   */
  private drawHatch(ctx: CanvasRenderingContext2D, layout: HeatmapLayout): void {
    const { cell, left, top, rows, cols } = layout;
    const theme = this.ctx.palette().theme;
    ctx.save();
    ctx.beginPath();
    for (let r = 0; r < rows - 1; r++) ctx.rect(left + (r + 1) * cell, top + r * cell, (cols - r - 1) * cell, cell);
    ctx.clip();
    ctx.fillStyle = rgbToCss(theme.background);
    ctx.fillRect(left, top, cols * cell, rows * cell);
    ctx.strokeStyle = theme.foreground;
    ctx.globalAlpha = 0.35;
    ctx.lineWidth = 1;
    ctx.beginPath();
    const size = Math.max(cols, rows) * cell;
    for (let d = -size; d < size; d += 5) {
      ctx.moveTo(left + d, top);
      ctx.lineTo(left + d + size, top + size);
    }
    ctx.stroke();
    ctx.restore();
  }

  private isFocused(): boolean {
    return this.ctx.doc.activeElement === this.canvas;
  }

  private showReadout(): void {
    const sel = this.selected;
    const cell = this.hover ?? (this.isFocused() ? this.cursor : undefined);
    if (!sel) {
      this.readout.textContent = '';
    } else if (cell) {
      this.readout.textContent = readoutText(sel, cell);
    } else {
      this.readout.textContent = 'Hover over the heatmap, or focus it and use the arrow keys, to read exact weights.';
    }
  }

  private cellFromEvent(e: MouseEvent): Cell | undefined {
    if (!this.layout) return undefined;
    const rect = this.canvas.getBoundingClientRect();
    const sx = rect.width > 0 ? this.layout.width / rect.width : 1;
    const sy = rect.height > 0 ? this.layout.height / rect.height : 1;
    return cellAt(this.layout, (e.clientX - rect.left) * sx, (e.clientY - rect.top) * sy);
  }

  /** Scrolls the frame so that `cell` is visible (after a zoom or a keyboard move). */
  private scrollCellIntoView(cell: Cell): void {
    const layout = this.layout;
    if (!layout) return;
    const frame = this.stack.parentElement;
    if (!frame || !(frame.clientWidth > 0)) return;
    const x = layout.left + cell.col * layout.cell;
    const y = layout.top + cell.row * layout.cell;
    if (x < frame.scrollLeft || x + layout.cell > frame.scrollLeft + frame.clientWidth) frame.scrollLeft = Math.max(0, x - frame.clientWidth / 2);
    if (y < frame.scrollTop || y + layout.cell > frame.scrollTop + frame.clientHeight) frame.scrollTop = Math.max(0, y - frame.clientHeight / 2);
  }

  private onKey(e: KeyboardEvent): void {
    const sel = this.selected;
    if (!sel) return;
    if (e.key === '+' || e.key === '=' || e.key === '-' || e.key === '−') {
      e.preventDefault();
      const i = ZOOMS.indexOf(this.zoom) + (e.key === '+' || e.key === '=' ? 1 : -1);
      this.setZoom(ZOOMS[Math.max(0, Math.min(ZOOMS.length - 1, i))]);
      return;
    }
    const cur = this.cursor ?? { row: 0, col: 0 };
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      this.cursor = cur;
      this.activate(cur);
      return;
    }
    const next = moveCell(cur, e.key, sel.matrix.rows, sel.matrix.cols);
    if (!next) return;
    e.preventDefault();
    this.cursor = next;
    this.hover = undefined;
    this.showReadout();
    this.paint();
    this.scrollCellIntoView(next);
  }

  /** Selecting a cell of the cross-attention selects the decoding step of its row. */
  private activate(cell: Cell): void {
    const view = this.ctx.view();
    if (view.kind === 'cross') this.ctx.updateView({ selectedStep: cell.row });
    this.showReadout();
    this.paint();
  }
}

/** Positions an absolutely placed layer of the stack (CSS pixels). */
function place(node: HTMLElement, x: number, y: number, w: number, h: number): void {
  node.style.left = `${x}px`;
  node.style.top = `${y}px`;
  node.style.width = `${w}px`;
  node.style.height = `${h}px`;
}

/** Every label when a cell is at least a line high (12 px), else every n-th so that they do not overlap. */
function labelStride(cell: number): number {
  return Math.max(1, Math.ceil(12 / cell));
}

/** Row labels may be "predicted (in: input)": room for both pieces. */
const ROW_LABEL_MAX = 26;

/** Smallest cell side: a row label (11 px font) fits, so no label is skipped. */
export const MIN_READABLE_CELL = 13;

function noteFor(view: PanelViewState, scale: ScaleMode, floor: VisibleFloor | undefined): string {
  const parts: string[] = [];
  if (view.kind === 'decoder') parts.push('Masked (hatched): each output position attends only to itself and earlier positions.');
  if (view.kind === 'cross' || view.kind === 'decoder') {
    parts.push('Each row is labelled by the token it predicts, with the decoder input that predicted it in brackets (the first input is the decoder start token).');
  }
  if (view.kind === 'cross') parts.push('Select a row to select that step.');
  if (view.aggregation === 'rollout') {
    parts.push('Rollout (Abnar & Zuidema, 2020): product over layers 1…L of (0.5 · mean-over-heads attention + 0.5 · I), each row-normalised.');
  }
  parts.push(
    scale === 'absolute'
      ? 'Colours use one absolute scale from 0 to 1, so the same colour is the same weight in every matrix; the legend marks 1/n, what uniform attention over n keys gives.'
      : 'Colours are stretched from 0 to the largest weight in this matrix (contrast), so they cannot be compared across matrices.',
  );
  if (floor) parts.push('High contrast: every weight of 0.1 % or more is drawn with at least 2:1 contrast against the background; only a weight of zero is background.');
  return parts.join(' ');
}
