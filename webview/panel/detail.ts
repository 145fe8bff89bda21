/**
 * The large heatmap: controls (kind, layer, head, aggregation, colour scheme), a labelled canvas,
 * a colour legend and an exact-value readout driven by hover or keyboard.
 */
import type { Explanation } from '../../src/shared/explanation';
import type { Aggregation, AttentionKindName, PanelViewState } from '../../src/shared/protocol';
import type { Matrix } from '../../src/shared/attention';
import { attentionRange } from '../shared/valueRange';
import type { ColorFn, ScaleMode } from '../shared/colorScale';
import { selectControl, type SelectControl } from '../shared/controls';
import { el, formatValue, pieceLabel } from '../shared/dom';
import {
  cellAt,
  computeLayout,
  drawPixels,
  get2d,
  matrixToRgba,
  moveCell,
  truncateLabel,
  widestLabel,
  type HeatmapLayout,
  type Range,
} from '../shared/heatmap';
import { createLegend, type Legend } from '../shared/legend';
import { cssVar } from '../shared/theme';
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

export class DetailSection implements Section {
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
  readonly exportBar: HTMLElement;

  private selected?: SelectedMatrix;
  private range: Range = { min: 0, max: 1 };
  private layout?: HeatmapLayout;
  /**
   * The cells at one pixel each, shown under the labelled canvas (CSS scales it up): a head or layer change
   * redraws only this small bitmap, not the large labelled one (each redraw of that cost ~50 ms in Chromium).
   */
  private readonly cells: HTMLCanvasElement;
  /** What the labelled canvas shows now (see `paint`): unchanged, it is not drawn again. */
  private painted = '';
  /** The theme's focus colour, read once per theme (reading it forces a style recalculation). */
  private focusBorder?: string;
  private hover?: Cell;
  private cursor?: Cell;
  private matrixKey = '';
  private readonly labelWidths = new Map<string, number>();
  /** Absolute 0–1 by default, so equal colours mean equal weights in every matrix. */
  private scaleMode: ScaleMode = 'absolute';
  private readonly scaleCtl: SelectControl;

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
    this.scaleCtl = selectControl(doc, 'scale-select', 'Colour scale', (v) => {
      this.scaleMode = v === 'matrix' ? 'matrix' : 'absolute';
      this.matrixKey = '';
      this.rebuild();
    });
    controls.append(this.kindCtl.wrapper, this.layerCtl.wrapper, this.headCtl.wrapper, this.aggCtl.wrapper, this.schemeCtl.wrapper, this.scaleCtl.wrapper);

    this.titleEl = el(doc, 'h3', { id: 'detail-title', className: 'detail-title' });
    this.note = el(doc, 'p', { id: 'detail-note', className: 'caption' });

    const body = el(doc, 'div', { className: 'detail-body' });
    const frame = el(doc, 'div', { className: 'canvas-frame' });
    this.canvas = el(doc, 'canvas', {
      id: 'detail-canvas',
      attrs: {
        tabindex: 0,
        role: 'img',
        'aria-describedby': 'readout',
        'aria-roledescription': 'heatmap',
      },
    });
    this.cells = el(doc, 'canvas', { className: 'detail-cells', attrs: { 'aria-hidden': 'true' } });
    const stack = el(doc, 'div', { className: 'detail-stack' });
    stack.append(this.cells, this.canvas);
    frame.append(stack);

    this.legend = createLegend(doc, 'legend', 'attention weight (rows: queries, columns: keys)');
    body.append(frame, this.legend.root);

    this.readout = el(doc, 'div', { id: 'readout', className: 'readout', attrs: { 'aria-live': 'polite' } });
    this.exportBar = el(doc, 'div', { id: 'export', className: 'export', attrs: { role: 'group', 'aria-label': 'Export' } });
    container.append(controls, this.titleEl, this.note, body, this.readout, this.exportBar);

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
  }

  /** The matrix currently shown (for export). */
  current(): SelectedMatrix | undefined {
    return this.selected;
  }

  currentRange(): Range {
    return this.range;
  }

  /**
   * The heatmap with its labels drawn at `scale` × its CSS size into a new canvas (for a figure export),
   * or undefined where no 2D context exists.
   */
  snapshot(scale: number): { canvas: HTMLCanvasElement; width: number; height: number } | undefined {
    const layout = this.layout;
    if (!layout || !get2d(this.canvas)) return undefined;
    const { width, height } = this.canvas;
    const copy = this.ctx.doc.createElement('canvas');
    try {
      this.canvas.width = Math.round(layout.width * scale);
      this.canvas.height = Math.round(layout.height * scale);
      this.paint(true);
      copy.width = this.canvas.width;
      copy.height = this.canvas.height;
      get2d(copy)?.drawImage(this.canvas, 0, 0);
    } finally {
      this.canvas.width = width;
      this.canvas.height = height;
      this.paint();
    }
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
    this.syncControls(explanation, this.ctx.view());
    this.rebuild();
  }

  update(view: PanelViewState, previous: PanelViewState | undefined): void {
    const explanation = this.ctx.explanation();
    if (!explanation) return;
    this.syncControls(explanation, view);
    if (!previous || previous.kind !== view.kind || previous.layer !== view.layer || previous.head !== view.head || previous.aggregation !== view.aggregation || previous.colorScheme !== view.colorScheme) {
      this.rebuild();
    } else {
      this.paint();
    }
  }

  recolor(): void {
    this.focusBorder = undefined;
    this.matrixKey = '';
    this.rebuild();
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

  /** Recomputes the matrix, pixels and geometry, then paints. */
  private rebuild(): void {
    const explanation = this.ctx.explanation();
    if (!explanation) return;
    const view = this.ctx.view();
    const palette = this.ctx.palette();
    const key = `${view.kind}|${view.layer}|${view.head}|${view.aggregation}|${view.colorScheme}|${this.scaleMode}`;
    if (key !== this.matrixKey || !this.selected) {
      this.matrixKey = key;
      this.selected = selectMatrix(explanation, view);
      const m: Matrix = this.selected.matrix;
      // Keep the keyboard cursor where it was when the new matrix still has that cell.
      if (this.cursor && (this.cursor.row >= m.rows || this.cursor.col >= m.cols)) this.cursor = undefined;
      this.hover = undefined;
      this.range = this.scaleMode === 'matrix' ? attentionRange(m.values) : { min: 0, max: 1 };
      drawPixels(this.cells, matrixToRgba(m.values, m.rows, m.cols, palette.lut, this.range), m.cols, m.rows);
    }
    const sel = this.selected;
    this.titleEl.textContent = sel.title;
    this.canvas.setAttribute('aria-label', `${sel.title}. ${sel.matrix.rows} query rows by ${sel.matrix.cols} key columns. Use the arrow keys to read values.`);
    this.note.textContent = noteFor(view, this.scaleMode);
    this.renderLegend(palette.fn);

    const ctx2d = get2d(this.canvas);
    const font = this.font();
    this.layout = computeLayout(sel.matrix.rows, sel.matrix.cols, {
      // never smaller than a label's line height: every row and column label is drawn (the frame scrolls)
      minCell: MIN_READABLE_CELL,
      rowLabelWidth: this.labelWidth(ctx2d, sel.rowLabels.map((l) => truncateLabel(l, ROW_LABEL_MAX)), font),
      colLabelHeight: this.labelWidth(ctx2d, sel.colLabels.map((l) => truncateLabel(l)), font),
    });
    const dpr = Math.max(1, this.ctx.doc.defaultView?.devicePixelRatio ?? 1);
    const width = Math.round(this.layout.width * dpr);
    const height = Math.round(this.layout.height * dpr);
    // Assigning a size reallocates the (large) bitmap even when it is unchanged: only on a real change.
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
      this.painted = '';
    }
    this.canvas.style.width = `${this.layout.width}px`;
    this.canvas.style.height = `${this.layout.height}px`;
    // the cell bitmap sits exactly under the grid (the canvas is never scaled: the frame scrolls)
    const { left, top, cell, rows, cols } = this.layout;
    this.cells.style.left = `${left}px`;
    this.cells.style.top = `${top}px`;
    this.cells.style.width = `${cols * cell}px`;
    this.cells.style.height = `${rows * cell}px`;
    this.showReadout();
    this.paint();
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
    this.legend.update(fn, this.range.min, this.range.max, 3, marks, caption);
  }

  /** Draws the cached pixels, labels and overlays. With `clean`, leaves out hover/cursor outlines (for PNG export). */
  paint(clean = false): void {
    const ctx = get2d(this.canvas);
    const sel = this.selected;
    const layout = this.layout;
    if (!ctx || !sel || !layout) return;
    const palette = this.ctx.palette();
    const view = this.ctx.view();
    const focused = this.isFocused();
    const active = this.hover ?? (focused ? this.cursor : undefined);
    // Everything this canvas draws (labels, hatching, outlines): a head or layer change of the same kind changes none of it.
    const showStep = (view.kind === 'cross' || view.kind === 'decoder') && view.selectedStep >= 0 && view.selectedStep < layout.rows;
    const signature = [
      sel.rowLabels.join('\u0000'),
      sel.colLabels.join('\u0000'),
      layout.width, layout.height, layout.cell, layout.left, layout.top, layout.rows, layout.cols,
      this.canvas.width, this.canvas.height,
      view.kind, showStep ? view.selectedStep : -1,
      active ? `${active.row},${active.col}` : '',
      palette.theme.foreground, palette.theme.background.join(','), this.font(),
      this.focusColor(palette.theme.foreground),
    ].join('|');
    if (!clean && signature === this.painted) return;
    this.painted = clean ? '' : signature;
    const dpr = this.canvas.width / layout.width || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, layout.width, layout.height);
    if (clean) {
      ctx.fillStyle = `rgb(${palette.theme.background.join(',')})`;
      ctx.fillRect(0, 0, layout.width, layout.height);
    }
    const { cell, left, top, rows, cols } = layout;
    if (clean) {
      // an exported figure has the cells drawn in (on screen they are the canvas underneath)
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(this.cells, left, top, cols * cell, rows * cell);
    }
    if (this.ctx.view().kind === 'decoder' && rows === cols) this.hatchMasked(ctx, layout);

    ctx.font = this.font();
    ctx.fillStyle = palette.theme.foreground;
    const every = Math.max(1, Math.ceil(12 / cell));
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (let r = 0; r < rows; r += every) ctx.fillText(truncateLabel(sel.rowLabels[r], ROW_LABEL_MAX), left - 4, top + r * cell + cell / 2);
    for (let c = 0; c < cols; c += every) {
      ctx.save();
      ctx.translate(left + c * cell + cell / 2, top - 4);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = 'left';
      ctx.fillText(truncateLabel(sel.colLabels[c]), 0, 0);
      ctx.restore();
    }
    if (clean) return;

    const focusColor = this.focusColor(palette.theme.foreground);
    if (showStep) {
      ctx.strokeStyle = palette.theme.foreground;
      ctx.lineWidth = 1.5;
      ctx.setLineDash([4, 2]);
      ctx.strokeRect(left - 0.5, top + view.selectedStep * cell - 0.5, cols * cell + 1, cell + 1);
      ctx.setLineDash([]);
    }
    if (active) {
      ctx.strokeStyle = focusColor;
      ctx.lineWidth = 2;
      ctx.strokeRect(left + active.col * cell - 1, top + active.row * cell - 1, cell + 2, cell + 2);
    }
  }

  /**
   * Hatches the decoder's masked cells (a position cannot see later positions): they hold no weight,
   * which is different from a weight of zero.
   */
  private hatchMasked(ctx: CanvasRenderingContext2D, layout: HeatmapLayout): void {
    const { cell, left, top, rows, cols } = layout;
    const theme = this.ctx.palette().theme;
    ctx.save();
    ctx.beginPath();
    for (let r = 0; r < rows - 1; r++) ctx.rect(left + (r + 1) * cell, top + r * cell, (cols - r - 1) * cell, cell);
    ctx.clip();
    ctx.fillStyle = `rgb(${theme.background.join(',')})`;
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

  private focusColor(fallback: string): string {
    this.focusBorder ??= cssVar(this.ctx.doc, '--vscode-focusBorder');
    return this.focusBorder || fallback;
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

  private onKey(e: KeyboardEvent): void {
    const sel = this.selected;
    if (!sel) return;
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
  }

  /** Selecting a cell of the cross-attention selects the decoding step of its row. */
  private activate(cell: Cell): void {
    const view = this.ctx.view();
    if (view.kind === 'cross') this.ctx.updateView({ selectedStep: cell.row });
    this.showReadout();
    this.paint();
  }
}

/** Row labels may be "predicted (in: input)": room for both pieces. */
const ROW_LABEL_MAX = 26;

/** Smallest cell side: a row label (11 px font) fits, so no label is skipped. */
export const MIN_READABLE_CELL = 13;

function noteFor(view: PanelViewState, scale: ScaleMode): string {
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
  return parts.join(' ');
}
