/**
 * The large heatmap: controls (kind, layer, head, aggregation, colour scheme), a labelled canvas,
 * a colour legend and an exact-value readout driven by hover or keyboard.
 */
import type { Explanation } from '../../src/shared/explanation';
import type { Aggregation, AttentionKindName, PanelViewState } from '../../src/shared/protocol';
import type { Matrix } from '../../src/shared/attention';
import { attentionRange } from '../shared/valueRange';
import type { ColorFn } from '../shared/colorScale';
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
import { KIND_TITLES, selectMatrix, type SelectedMatrix } from './selection';
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
  private offscreen?: HTMLCanvasElement;
  private hover?: Cell;
  private cursor?: Cell;
  private matrixKey = '';

  constructor(private readonly ctx: PanelContext, container: HTMLElement) {
    const doc = ctx.doc;
    const controls = el(doc, 'div', { id: 'controls', className: 'controls' });
    this.kindCtl = selectControl(doc, 'kind-select', 'Attention', (v) => ctx.updateView({ kind: v as AttentionKindName }));
    this.layerCtl = selectControl(doc, 'layer-select', 'Layer', (v) => ctx.updateView({ layer: Number(v) }));
    this.headCtl = selectControl(doc, 'head-select', 'Head', (v) => ctx.updateView({ head: Number(v), aggregation: 'head' }));
    this.aggCtl = selectControl(doc, 'aggregation-select', 'Aggregation', (v) => ctx.updateView({ aggregation: v as Aggregation }));
    this.schemeCtl = selectControl(doc, 'scheme-select', 'Colours', (v) =>
      ctx.updateView({ colorScheme: v === 'colorblind' ? 'colorblind' : 'theme' }),
    );
    controls.append(this.kindCtl.wrapper, this.layerCtl.wrapper, this.headCtl.wrapper, this.aggCtl.wrapper, this.schemeCtl.wrapper);

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
    frame.append(this.canvas);

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
      this.showReadout();
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
    this.matrixKey = '';
    this.rebuild();
  }

  private syncControls(explanation: Explanation, view: PanelViewState): void {
    const att = explanation.attentions[view.kind];
    this.kindCtl.set(KINDS.map((k) => ({ value: k, label: KIND_TITLES[k] })), view.kind);
    this.layerCtl.set(Array.from({ length: att.layers }, (_, l) => ({ value: String(l), label: `Layer ${l + 1}` })), String(view.layer));
    this.headCtl.set(Array.from({ length: att.heads }, (_, h) => ({ value: String(h), label: `Head ${h + 1}` })), String(view.head));
    this.headCtl.setDisabled(view.aggregation !== 'head');
    this.aggCtl.set(
      (['head', 'mean', 'max', 'rollout'] as const).map((a) => ({
        value: a,
        label: AGG_LABELS[a],
        disabled: a === 'rollout' && view.kind !== 'encoder',
      })),
      view.aggregation,
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
    const key = `${view.kind}|${view.layer}|${view.head}|${view.aggregation}|${view.colorScheme}`;
    if (key !== this.matrixKey || !this.selected) {
      this.matrixKey = key;
      this.selected = selectMatrix(explanation, view);
      const m: Matrix = this.selected.matrix;
      // Keep the keyboard cursor where it was when the new matrix still has that cell.
      if (this.cursor && (this.cursor.row >= m.rows || this.cursor.col >= m.cols)) this.cursor = undefined;
      this.hover = undefined;
      this.range = attentionRange(m.values);
      this.offscreen = this.ctx.doc.createElement('canvas');
      drawPixels(this.offscreen, matrixToRgba(m.values, m.rows, m.cols, palette.lut, this.range), m.cols, m.rows);
    }
    const sel = this.selected;
    this.titleEl.textContent = sel.title;
    this.canvas.setAttribute('aria-label', `${sel.title}. ${sel.matrix.rows} query rows by ${sel.matrix.cols} key columns. Use the arrow keys to read values.`);
    this.note.textContent = noteFor(view);
    this.renderLegend(palette.fn);

    const ctx2d = get2d(this.canvas);
    const font = this.font();
    this.layout = computeLayout(sel.matrix.rows, sel.matrix.cols, {
      rowLabelWidth: widestLabel(ctx2d, sel.rowLabels.map((l) => truncateLabel(l)), font),
      colLabelHeight: widestLabel(ctx2d, sel.colLabels.map((l) => truncateLabel(l)), font),
    });
    const dpr = Math.max(1, this.ctx.doc.defaultView?.devicePixelRatio ?? 1);
    this.canvas.width = Math.round(this.layout.width * dpr);
    this.canvas.height = Math.round(this.layout.height * dpr);
    this.canvas.style.width = `${this.layout.width}px`;
    this.canvas.style.height = `${this.layout.height}px`;
    this.showReadout();
    this.paint();
  }

  private font(): string {
    return `11px ${this.ctx.palette().theme.monoFontFamily}`;
  }

  private renderLegend(fn: ColorFn): void {
    this.legend.update(fn, this.range.min, this.range.max);
  }

  /** Draws the cached pixels, labels and overlays. With `clean`, leaves out hover/cursor outlines (for PNG export). */
  paint(clean = false): void {
    const ctx = get2d(this.canvas);
    const sel = this.selected;
    const layout = this.layout;
    if (!ctx || !sel || !layout || !this.offscreen) return;
    const palette = this.ctx.palette();
    const dpr = this.canvas.width / layout.width || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, layout.width, layout.height);
    if (clean) {
      ctx.fillStyle = `rgb(${palette.theme.background.join(',')})`;
      ctx.fillRect(0, 0, layout.width, layout.height);
    }
    const { cell, left, top, rows, cols } = layout;
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.offscreen, left, top, cols * cell, rows * cell);

    ctx.font = this.font();
    ctx.fillStyle = palette.theme.foreground;
    const every = Math.max(1, Math.ceil(12 / cell));
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (let r = 0; r < rows; r += every) ctx.fillText(truncateLabel(sel.rowLabels[r]), left - 4, top + r * cell + cell / 2);
    for (let c = 0; c < cols; c += every) {
      ctx.save();
      ctx.translate(left + c * cell + cell / 2, top - 4);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = 'left';
      ctx.fillText(truncateLabel(sel.colLabels[c]), 0, 0);
      ctx.restore();
    }
    if (clean) return;

    const view = this.ctx.view();
    const focusColor = cssVar(this.ctx.doc, '--vscode-focusBorder') || palette.theme.foreground;
    if ((view.kind === 'cross' || view.kind === 'decoder') && view.selectedStep >= 0 && view.selectedStep < rows) {
      ctx.strokeStyle = palette.theme.foreground;
      ctx.lineWidth = 1.5;
      ctx.setLineDash([4, 2]);
      ctx.strokeRect(left - 0.5, top + view.selectedStep * cell - 0.5, cols * cell + 1, cell + 1);
      ctx.setLineDash([]);
    }
    const active = this.hover ?? (this.isFocused() ? this.cursor : undefined);
    if (active) {
      ctx.strokeStyle = focusColor;
      ctx.lineWidth = 2;
      ctx.strokeRect(left + active.col * cell - 1, top + active.row * cell - 1, cell + 2, cell + 2);
    }
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

function noteFor(view: PanelViewState): string {
  const parts: string[] = [];
  if (view.kind === 'decoder') parts.push('Masked: each output position attends only to itself and earlier positions.');
  if (view.kind === 'cross') parts.push('Row i is the decoder input that predicted output token i; select a row to select that step.');
  if (view.aggregation === 'rollout') {
    parts.push('Rollout (Abnar & Zuidema, 2020): product over layers 1…L of (0.5 · mean-over-heads attention + 0.5 · I), each row-normalised.');
  }
  parts.push('Colours are scaled from 0 to the largest weight shown.');
  return parts.join(' ');
}
