/**
 * Positional encodings: a line chart of chosen dimensions over positions (d3 scales, shapes and axes,
 * source tokens marked on the x-axis), a dimension picker, and a positions × dimensions heatmap.
 */
import { axisBottom, axisLeft } from 'd3-axis';
import { scaleLinear } from 'd3-scale';
import { select } from 'd3-selection';
import { line } from 'd3-shape';
import type { Explanation } from '../../src/shared/explanation';
import type { PanelViewState } from '../../src/shared/protocol';
import { valueRange } from '../shared/valueRange';
import { CATEGORICAL, buildLut, divergingScale } from '../shared/colorScale';
import { button } from '../shared/controls';
import { clear, customEl, el, formatValue, pieceLabel, svgEl } from '../shared/dom';
import { drawPixels, matrixToRgba, moveCell, truncateLabel } from '../shared/heatmap';
import { createLegend, type Legend } from '../shared/legend';
import type { PanelContext, Section } from './context';
import { MAX_PE_DIMS, defaultPeDimensions } from './state';

type Positional = Explanation['positional'];

/** The values of one dimension over all positions. */
export function peColumn(pe: Positional, dim: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < pe.positions; p++) {
    const v = pe.values[p * pe.dModel + dim];
    out.push(typeof v === 'number' && Number.isFinite(v) ? v : 0);
  }
  return out;
}

/**
 * Describes a dimension under Marian's layout: sines in dims [0, d/2), cosines in [d/2, d); dims k and k + d/2
 * share the angular frequency 1 / 10000^(2k/d), so the wavelength is 2π · 10000^(2k/d) positions.
 */
export function describeDimension(dim: number, dModel: number): { fn: 'sin' | 'cos'; wavelength: number; label: string } {
  const half = Math.floor(dModel / 2);
  const fn = dim < half ? 'sin' : 'cos';
  const i = dim < half ? dim : dim - half;
  const wavelength = 2 * Math.PI * Math.pow(10000, (2 * i) / dModel);
  const w = wavelength < 100 ? wavelength.toFixed(1) : String(Math.round(wavelength));
  return { fn, wavelength, label: `dim ${dim} · ${fn} · wavelength ≈ ${w}` };
}

/**
 * The encoding of dimension `dim` at a real-valued position, with Marian's layout (sines in the first
 * half, cosines in the second, pair j at angle pos / 10000^(2j/d)): the continuous curve the model
 * samples at the whole-number token positions.
 */
export function sinusoidAt(pos: number, dim: number, dModel: number): number {
  const half = dModel % 2 === 0 ? dModel / 2 : (dModel + 1) / 2;
  const j = dim < half ? dim : dim - half;
  const angle = pos / Math.pow(10000, (2 * j) / dModel);
  return dim < half ? Math.sin(angle) : Math.cos(angle);
}

/** Samples per position unit for the continuous curves (at least 400 points over the plot). */
export function curveSamples(positions: number): number[] {
  const last = Math.max(1, positions - 1);
  const n = Math.max(400, Math.ceil(last * 16));
  return Array.from({ length: n + 1 }, (_, i) => (i / n) * last);
}

const W = 720;
const H = 300;
const M = { top: 12, right: 16, bottom: 84, left: 44 };

export class PeSection implements Section {
  private readonly svg: SVGSVGElement;
  private readonly chips: HTMLUListElement;
  private readonly input: HTMLElement & { value: string };
  private readonly message: HTMLElement;
  private readonly heatmap: HTMLCanvasElement;
  private readonly legend: Legend;
  private readonly readout: HTMLElement;
  private cursor = { row: 0, col: 0 };
  private renderedDims = '';
  private divergingLut?: Uint8ClampedArray;

  constructor(private readonly ctx: PanelContext, container: HTMLElement) {
    const doc = ctx.doc;
    container.append(
      el(doc, 'p', {
        className: 'intro',
        text: 'What the model adds to each token embedding at each position. Marian puts sines in the first half of the dimensions and cosines in the second half; dimension k and k + d/2 share a frequency, which falls as k grows.',
      }),
    );
    this.svg = svgEl(doc, 'svg', { id: 'pe-curves', attrs: { viewBox: `0 0 ${W} ${H}`, role: 'img', preserveAspectRatio: 'xMinYMin meet' } });
    container.append(this.svg);

    const picker = el(doc, 'div', { id: 'pe-dims', className: 'pe-dims', attrs: { role: 'group', 'aria-label': 'Dimensions shown' } });
    this.chips = el(doc, 'ul', { id: 'pe-dim-list', className: 'pe-dim-list' });
    const addRow = el(doc, 'div', { className: 'pe-add' });
    addRow.append(el(doc, 'label', { text: 'Add dimension', attrs: { for: 'pe-dim-input' } }));
    this.input = customEl<HTMLElement & { value: string }>(doc, 'vscode-textfield', {
      id: 'pe-dim-input',
      attrs: { type: 'number', min: 0, placeholder: 'e.g. 64', 'aria-label': 'Dimension to add' },
    });
    this.input.addEventListener('keydown', (e) => {
      if ((e as KeyboardEvent).key === 'Enter') {
        e.preventDefault();
        this.addFromInput();
      }
    });
    addRow.append(
      this.input,
      button(doc, 'pe-dim-add', 'Add', () => this.addFromInput()),
      button(doc, 'pe-dim-reset', 'Defaults', () => this.ctx.updateView({ peDimensions: defaultPeDimensions(this.ctx.explanation()?.positional.dModel ?? 0) })),
    );
    this.message = el(doc, 'span', { id: 'pe-dim-message', className: 'hint', attrs: { 'aria-live': 'polite' } });
    addRow.append(this.message);
    picker.append(this.chips, addRow);
    container.append(picker);

    container.append(el(doc, 'h3', { text: 'All dimensions (rows: positions, columns: dimensions)' }));
    this.heatmap = el(doc, 'canvas', {
      id: 'pe-heatmap',
      attrs: { tabindex: 0, role: 'img', 'aria-describedby': 'pe-readout', 'aria-label': 'Positional encoding heatmap. Arrow keys move, Enter adds or removes the dimension.' },
    });
    this.legend = createLegend(doc, 'pe-legend', 'encoding value');
    this.readout = el(doc, 'div', { id: 'pe-readout', className: 'readout', attrs: { 'aria-live': 'polite' } });
    container.append(this.heatmap, this.legend.root, this.readout);

    this.heatmap.addEventListener('mousemove', (e) => {
      const cell = this.cellFromEvent(e);
      if (cell) this.showValue(cell);
    });
    this.heatmap.addEventListener('click', (e) => {
      const cell = this.cellFromEvent(e);
      if (cell) this.toggleDim(cell.col);
    });
    this.heatmap.addEventListener('focus', () => this.showValue(this.cursor));
    this.heatmap.addEventListener('keydown', (e) => {
      const pe = this.ctx.explanation()?.positional;
      if (!pe) return;
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        this.toggleDim(this.cursor.col);
        return;
      }
      const next = moveCell(this.cursor, e.key, pe.positions, pe.dModel);
      if (!next) return;
      e.preventDefault();
      this.cursor = next;
      this.showValue(next);
    });
  }

  render(explanation: Explanation): void {
    this.renderedDims = '';
    this.cursor = { row: 0, col: 0 };
    this.readout.textContent = 'Hover over the heatmap (or focus it and use the arrow keys) to read values; click a column to plot that dimension.';
    this.input.setAttribute('max', String(Math.max(0, explanation.positional.dModel - 1)));
    this.drawHeatmap();
    this.update(this.ctx.view());
  }

  update(view: PanelViewState): void {
    const key = view.peDimensions.join(',');
    if (key === this.renderedDims) return;
    this.renderedDims = key;
    this.renderChips(view.peDimensions);
    this.drawCurves(view.peDimensions);
  }

  recolor(): void {
    this.drawHeatmap();
  }

  private addFromInput(): void {
    const pe = this.ctx.explanation()?.positional;
    if (!pe) return;
    const raw = String(this.input.value ?? '').trim();
    const dim = Number(raw);
    if (raw === '' || !Number.isInteger(dim) || dim < 0 || dim >= pe.dModel) {
      this.message.textContent = `Enter a whole number from 0 to ${pe.dModel - 1}.`;
      return;
    }
    const dims = this.ctx.view().peDimensions;
    if (dims.includes(dim)) {
      this.message.textContent = `Dimension ${dim} is already shown.`;
      return;
    }
    if (dims.length >= MAX_PE_DIMS) {
      this.message.textContent = `At most ${MAX_PE_DIMS} dimensions; remove one first.`;
      return;
    }
    this.message.textContent = '';
    this.input.value = '';
    this.ctx.updateView({ peDimensions: [...dims, dim] });
  }

  private toggleDim(dim: number): void {
    const dims = this.ctx.view().peDimensions;
    if (dims.includes(dim)) {
      if (dims.length > 1) this.ctx.updateView({ peDimensions: dims.filter((d) => d !== dim) });
    } else if (dims.length < MAX_PE_DIMS) {
      this.ctx.updateView({ peDimensions: [...dims, dim] });
    } else {
      this.message.textContent = `At most ${MAX_PE_DIMS} dimensions; remove one first.`;
    }
  }

  private renderChips(dims: readonly number[]): void {
    const doc = this.ctx.doc;
    const dModel = this.ctx.explanation()?.positional.dModel ?? 0;
    clear(this.chips);
    dims.forEach((d, i) => {
      const li = el(doc, 'li', { className: 'pe-dim', attrs: { 'data-dim': d } });
      const sw = el(doc, 'span', { className: 'swatch', attrs: { 'aria-hidden': 'true' } });
      sw.style.backgroundColor = CATEGORICAL[i % CATEGORICAL.length];
      li.append(sw, el(doc, 'span', { text: describeDimension(d, dModel).label }));
      const remove = el(doc, 'button', {
        className: 'icon-button',
        text: '×',
        attrs: { type: 'button', 'aria-label': `Remove dimension ${d}`, title: `Remove dimension ${d}`, disabled: dims.length <= 1 },
      });
      remove.addEventListener('click', () => this.ctx.updateView({ peDimensions: dims.filter((x) => x !== d) }));
      li.append(remove);
      this.chips.append(li);
    });
  }

  private drawCurves(dims: readonly number[]): void {
    const explanation = this.ctx.explanation();
    const doc = this.ctx.doc;
    clear(this.svg);
    if (!explanation) return;
    const pe = explanation.positional;
    const columns = dims.map((d) => peColumn(pe, d));
    const range = valueRange(columns.flat());
    const lo = Math.min(-1, range.min);
    const hi = Math.max(1, range.max);
    const x = scaleLinear().domain([0, Math.max(1, pe.positions - 1)]).range([M.left, W - M.right]);
    const y = scaleLinear().domain([lo, hi]).nice().range([H - M.bottom, M.top]);
    const bottom = H - M.bottom;

    this.svg.append(svgEl(doc, 'title', { text: `Positional encoding values for dimensions ${dims.join(', ')} over ${pe.positions} positions` }));

    const guides = svgEl(doc, 'g', { attrs: { class: 'token-guides' } });
    const marks = svgEl(doc, 'g', { attrs: { class: 'token-marks' } });
    const n = Math.min(explanation.sourcePieces.length, pe.positions);
    const labelEvery = Math.max(1, Math.ceil(n / 40));
    for (let i = 0; i < n; i++) {
      const px = x(i);
      guides.append(svgEl(doc, 'line', { attrs: { x1: px, x2: px, y1: M.top, y2: bottom, class: 'token-guide' } }));
      const mark = svgEl(doc, 'g', { attrs: { class: 'token-mark', 'data-position': i } });
      mark.append(svgEl(doc, 'title', { text: `position ${i}: ${pieceLabel(explanation.sourcePieces[i])}` }));
      mark.append(svgEl(doc, 'circle', { attrs: { cx: px, cy: bottom, r: 3 } }));
      if (i % labelEvery === 0) {
        const ty = bottom + 26;
        mark.append(
          svgEl(doc, 'text', {
            text: truncateLabel(explanation.sourcePieces[i], 12),
            attrs: { x: px, y: ty, 'text-anchor': 'end', transform: `rotate(-45 ${px} ${ty})`, class: 'token-label' },
          }),
        );
      }
      marks.append(mark);
    }
    this.svg.append(guides);

    const zero = svgEl(doc, 'line', { attrs: { x1: M.left, x2: W - M.right, y1: y(0), y2: y(0), class: 'zero-line' } });
    this.svg.append(zero);

    const xAxis = svgEl(doc, 'g', { attrs: { class: 'axis x-axis', transform: `translate(0, ${bottom})` } });
    const yAxis = svgEl(doc, 'g', { attrs: { class: 'axis y-axis', transform: `translate(${M.left}, 0)` } });
    this.svg.append(xAxis, yAxis);
    select(xAxis).call(axisBottom(x).ticks(Math.min(10, Math.max(1, pe.positions - 1))).tickFormat((v) => String(v)));
    select(yAxis).call(axisLeft(y).ticks(5));
    this.svg.append(svgEl(doc, 'text', { text: 'position', attrs: { x: W - M.right, y: H - 4, 'text-anchor': 'end', class: 'axis-title' } }));

    // The sinusoid itself is continuous: draw it smoothly and mark the values the tokens actually get.
    const samples = curveSamples(pe.positions);
    const lines = svgEl(doc, 'g', { attrs: { class: 'pe-lines' } });
    columns.forEach((col, i) => {
      const dim = dims[i];
      const colour = CATEGORICAL[i % CATEGORICAL.length];
      const path = line<number>()
        .x((p) => x(p))
        .y((p) => y(sinusoidAt(p, dim, pe.dModel)));
      const p = svgEl(doc, 'path', { attrs: { d: path(samples) ?? '', class: 'pe-line', stroke: colour, 'data-dim': dim } });
      p.append(svgEl(doc, 'title', { text: describeDimension(dim, pe.dModel).label }));
      lines.append(p);
      const dots = svgEl(doc, 'g', { attrs: { class: 'pe-points', 'data-dim': dim, fill: colour } });
      col.slice(0, n).forEach((v, pos) => {
        const dot = svgEl(doc, 'circle', { attrs: { cx: x(pos), cy: y(v), r: 3, class: 'pe-point', 'data-position': pos } });
        dot.append(svgEl(doc, 'title', { text: `position ${pos} (${pieceLabel(explanation.sourcePieces[pos])}), dim ${dim}: ${formatValue(v)}` }));
        dots.append(dot);
      });
      lines.append(dots);
    });
    this.svg.append(lines, marks);
  }

  private drawHeatmap(): void {
    const explanation = this.ctx.explanation();
    if (!explanation) return;
    const pe = explanation.positional;
    const r = valueRange(pe.values);
    const m = Math.max(Math.abs(r.min), Math.abs(r.max)) || 1;
    // Signed values: a diverging scale centred on 0 (blue negative, white 0, red positive).
    const fn = divergingScale;
    const lut = (this.divergingLut ??= buildLut(divergingScale));
    drawPixels(this.heatmap, matrixToRgba(pe.values, pe.positions, pe.dModel, lut, { min: -m, max: m }), pe.dModel, pe.positions);
    this.heatmap.style.height = `${Math.max(80, Math.min(360, pe.positions * 8))}px`;
    this.legend.update(fn, -m, m, 2);
  }

  private cellFromEvent(e: MouseEvent): { row: number; col: number } | undefined {
    const pe = this.ctx.explanation()?.positional;
    if (!pe) return undefined;
    const rect = this.heatmap.getBoundingClientRect();
    if (rect.width <= 0 || rect.height <= 0) return undefined;
    const col = Math.floor(((e.clientX - rect.left) / rect.width) * pe.dModel);
    const row = Math.floor(((e.clientY - rect.top) / rect.height) * pe.positions);
    if (row < 0 || col < 0 || row >= pe.positions || col >= pe.dModel) return undefined;
    return { row, col };
  }

  private showValue(cell: { row: number; col: number }): void {
    const explanation = this.ctx.explanation();
    if (!explanation) return;
    const pe = explanation.positional;
    const v = pe.values[cell.row * pe.dModel + cell.col];
    const tok = explanation.sourcePieces[cell.row];
    const tokText = tok !== undefined ? ` (${pieceLabel(tok)})` : '';
    this.readout.textContent = `position ${cell.row}${tokText}, ${describeDimension(cell.col, pe.dModel).label}: ${formatValue(v)}`;
  }
}
