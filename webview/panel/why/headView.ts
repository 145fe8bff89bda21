/**
 * BertViz-style head view: query tokens on the left, key tokens on the right, one line per (query, key) pair and
 * head, as opaque as that head's attention weight, one colour per head. Heads can be toggled; hovering or focusing a
 * token keeps only its lines. Shows encoder self-, decoder masked self- or cross-attention of one layer.
 * Collapsed until opened, and drawn only while open: a long sentence has tens of thousands of lines, too many to
 * rebuild on every explanation or layer change nobody is looking at.
 */
import { schemeTableau10 } from 'd3-scale-chromatic';
import { headMatrix } from '../../../src/shared/attention';
import { ATTENTION_KINDS, type AttentionKind, type AttentionKindName, type Explanation } from '../../../src/shared/explanation';
import type { FromWebviewMessage } from '../../../src/shared/protocol';
import { clear, el, pieceLabel, svgEl } from '../../shared/dom';
import { serializeSvg } from '../../shared/svgExport';
import type { PanelContext } from '../context';

/** Lines for weights below this are not drawn (invisible anyway; keeps long sentences light). */
export const MIN_LINE_WEIGHT = 0.01;
const ROW = 18, LEFT = 140, GAP = 200, PAD = 8;

const KIND_LABEL: Record<AttentionKindName, string> = {
  encoder: 'Encoder self-attention',
  decoder: 'Decoder masked self-attention',
  cross: 'Cross-attention (decoder → source)',
};

export function headColor(h: number): string {
  return schemeTableau10[h % schemeTableau10.length];
}

/** The SVG drawing of one layer of one kind with the given heads (exported as is). */
export function buildHeadViewSvg(doc: Document, kind: AttentionKind, layer: number, heads: readonly boolean[], foreground: string): SVGSVGElement {
  const rows = Math.max(kind.queryLen, kind.keyLen);
  const width = LEFT + GAP + LEFT, height = rows * ROW + 2 * PAD;
  const svg = svgEl(doc, 'svg', { attrs: { width, 'font-family': 'sans-serif', height, viewBox: `0 0 ${width} ${height}`, role: 'img' } });
  const y = (i: number) => PAD + i * ROW + ROW / 2;
  const lines = svgEl(doc, 'g', { className: 'hv-lines' });
  for (let h = 0; h < kind.heads; h++) {
    if (!heads[h]) continue;
    const m = headMatrix(kind, layer, h);
    for (let q = 0; q < kind.queryLen; q++) {
      for (let k = 0; k < kind.keyLen; k++) {
        const w = m[q * kind.keyLen + k];
        if (!(w >= MIN_LINE_WEIGHT)) continue;
        lines.append(svgEl(doc, 'line', {
          attrs: {
            x1: LEFT, y1: y(q), x2: LEFT + GAP, y2: y(k), stroke: headColor(h), 'stroke-width': 2,
            'stroke-opacity': Math.min(1, w).toFixed(3), 'data-q': q, 'data-k': k, 'data-h': h,
          },
        }));
      }
    }
  }
  svg.append(lines);
  const label = (text: string, x: number, i: number, anchor: 'end' | 'start', side: 'q' | 'k') =>
    svgEl(doc, 'text', {
      className: `hv-token hv-${side}`, text: pieceLabel(text),
      attrs: { x, y: y(i), 'text-anchor': anchor, 'dominant-baseline': 'middle', fill: foreground, 'font-size': 12, tabindex: 0, 'data-index': i },
    });
  kind.queryTokens.forEach((t, i) => svg.append(label(t, LEFT - 6, i, 'end', 'q')));
  kind.keyTokens.forEach((t, i) => svg.append(label(t, LEFT + GAP + 6, i, 'start', 'k')));
  return svg;
}

export class HeadView {
  readonly root: HTMLDetailsElement;
  private readonly kindSelect: HTMLSelectElement;
  private readonly layerSelect: HTMLSelectElement;
  private readonly toggles: HTMLElement;
  private readonly drawing: HTMLElement;
  private current?: Explanation;
  private kind: AttentionKindName = 'cross';
  private layer = -1;
  private heads: boolean[] = [];
  /** The drawing no longer shows the current kind, layer and heads (it is redrawn when the view is opened). */
  private stale = false;

  constructor(private readonly ctx: PanelContext) {
    const doc = ctx.doc;
    this.root = el(doc, 'details', { id: 'head-view', className: 'why-block' });
    const summary = el(doc, 'summary', { id: 'hv-summary' });
    summary.append(el(doc, 'h3', { text: 'Head view: lines between tokens' }));
    this.root.append(summary);
    this.root.addEventListener('toggle', () => {
      if (this.root.open && this.stale) this.draw();
    });
    this.root.append(el(doc, 'p', {
      className: 'intro',
      text: 'Queries on the left, keys on the right; each line is one head’s attention from a query to a key (more opaque = more weight). Toggle heads below; hover or focus a token to keep only its lines.',
    }));
    const bar = el(doc, 'div', { className: 'why-form' });
    this.kindSelect = el(doc, 'select', { id: 'hv-kind', attrs: { 'aria-label': 'Attention kind' } });
    for (const k of ATTENTION_KINDS) this.kindSelect.append(el(doc, 'option', { text: KIND_LABEL[k], attrs: { value: k } }));
    this.kindSelect.addEventListener('change', () => {
      this.kind = this.kindSelect.value as AttentionKindName;
      this.resetHeads();
      this.draw();
    });
    this.layerSelect = el(doc, 'select', { id: 'hv-layer', attrs: { 'aria-label': 'Layer' } });
    this.layerSelect.addEventListener('change', () => {
      this.layer = Number(this.layerSelect.value);
      this.draw();
    });
    const png = el(doc, 'button', { id: 'hv-export-png', className: 'why-button secondary', text: 'Export PNG', attrs: { type: 'button' } });
    png.addEventListener('click', () => void this.exportPng());
    const svgButton = el(doc, 'button', { id: 'hv-export-svg', className: 'why-button secondary', text: 'Export SVG', attrs: { type: 'button' } });
    svgButton.addEventListener('click', () => this.send(this.exportSvg()));
    bar.append(this.kindSelect, this.layerSelect, svgButton, png);
    this.toggles = el(doc, 'div', { id: 'hv-heads', className: 'hv-heads', attrs: { role: 'group', 'aria-label': 'Heads shown' } });
    this.drawing = el(doc, 'div', { id: 'hv-drawing', className: 'hv-drawing' });
    this.root.append(bar, this.toggles, this.drawing);
  }

  render(e: Explanation): void {
    this.current = e;
    // start on the panel's kind and layer
    const view = this.ctx.view();
    this.kind = view.kind;
    this.layer = view.layer;
    this.kindSelect.value = this.kind;
    this.resetHeads();
    this.draw();
  }

  /** The panel's main view chose another kind or layer: draw that one here too. */
  follow(kind: AttentionKindName, layer: number): void {
    if (!this.current || (kind === this.kind && layer === this.layer)) return;
    const changedKind = kind !== this.kind;
    this.kind = kind;
    this.layer = layer;
    this.kindSelect.value = kind;
    if (changedKind) this.resetHeads();
    const k = this.kindData();
    if (k && layer < k.layers) this.layerSelect.value = String(layer);
    this.draw();
  }

  private kindData(): AttentionKind | undefined {
    return this.current?.attentions[this.kind];
  }

  private resetHeads(): void {
    const k = this.kindData();
    if (!k) return;
    const doc = this.ctx.doc;
    clear(this.layerSelect);
    for (let l = 0; l < k.layers; l++) this.layerSelect.append(el(doc, 'option', { text: `Layer ${l + 1}`, attrs: { value: l } }));
    if (this.layer < 0 || this.layer >= k.layers) this.layer = k.layers - 1;
    this.layerSelect.value = String(this.layer);
    this.heads = Array.from({ length: k.heads }, () => true);
    clear(this.toggles);
    for (let h = 0; h < k.heads; h++) {
      const label = el(doc, 'label', { className: 'hv-toggle' });
      const box = el(doc, 'input', { attrs: { type: 'checkbox', checked: true, 'data-head': h } });
      box.checked = true;
      box.addEventListener('change', () => {
        this.heads[h] = box.checked;
        this.draw();
      });
      const swatch = el(doc, 'span', { className: 'hv-swatch', attrs: { 'aria-hidden': 'true' } });
      swatch.style.backgroundColor = headColor(h);
      label.append(box, swatch, `head ${h + 1}`);
      this.toggles.append(label);
    }
  }

  private draw(): void {
    const k = this.kindData();
    clear(this.drawing);
    // closed: draw when opened (the toggle listener)
    this.stale = !this.root.open;
    if (!k || this.stale) return;
    const svg = buildHeadViewSvg(this.ctx.doc, k, this.layer, this.heads, this.ctx.palette().theme.foreground);
    svg.setAttribute('aria-label', `${KIND_LABEL[this.kind]}, layer ${this.layer + 1}: ${this.heads.filter(Boolean).length} heads shown`);
    const lines = Array.from(svg.querySelectorAll('line'));
    const isolate = (side: 'q' | 'k' | undefined, i: number) => {
      for (const line of lines) {
        const on = side === undefined || line.getAttribute(`data-${side}`) === String(i);
        line.style.display = on ? '' : 'none';
      }
    };
    for (const t of Array.from(svg.querySelectorAll<SVGTextElement>('text.hv-token'))) {
      const side = t.classList.contains('hv-q') ? 'q' : 'k';
      const i = Number(t.getAttribute('data-index'));
      t.addEventListener('mouseenter', () => isolate(side, i));
      t.addEventListener('focus', () => isolate(side, i));
      t.addEventListener('mouseleave', () => isolate(undefined, 0));
      t.addEventListener('blur', () => isolate(undefined, 0));
    }
    this.drawing.append(svg);
  }

  private fileStem(): string {
    return `head-view-${this.kind}-layer${this.layer + 1}`;
  }

  private send(msg: FromWebviewMessage | undefined): void {
    if (msg) this.ctx.post(msg);
  }

  exportSvg(): Extract<FromWebviewMessage, { type: 'export' }> | undefined {
    const k = this.kindData();
    if (!k) return undefined;
    const svg = buildHeadViewSvg(this.ctx.doc, k, this.layer, this.heads, this.ctx.palette().theme.foreground);
    return { type: 'export', format: 'svg', fileName: `${this.fileStem()}.svg`, data: serializeSvg(svg) };
  }

  /** Draws the SVG on a canvas (theme background) and sends it as PNG. */
  async exportPng(): Promise<void> {
    const k = this.kindData();
    const win = this.ctx.doc.defaultView;
    if (!k || !win) return;
    try {
      const svg = buildHeadViewSvg(this.ctx.doc, k, this.layer, this.heads, this.ctx.palette().theme.foreground);
      const svgMsg = { data: serializeSvg(svg) };
      const width = Number(svg.getAttribute('width')), height = Number(svg.getAttribute('height'));
      const img = new win.Image();
      const loaded = new Promise<void>((resolve, reject) => {
        img.onload = () => resolve();
        img.onerror = () => reject(new Error('the drawing could not be rendered as an image'));
      });
      img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svgMsg.data)}`;
      await loaded;
      const canvas = this.ctx.doc.createElement('canvas');
      canvas.width = width * 2;
      canvas.height = height * 2;
      const g = canvas.getContext('2d');
      if (!g) throw new Error('this webview cannot draw on a canvas');
      const bg = this.ctx.palette().theme.background;
      g.fillStyle = `rgb(${bg[0]}, ${bg[1]}, ${bg[2]})`;
      g.fillRect(0, 0, canvas.width, canvas.height);
      g.drawImage(img, 0, 0, canvas.width, canvas.height);
      this.ctx.post({ type: 'export', format: 'png', fileName: `${this.fileStem()}.png`, data: canvas.toDataURL('image/png') });
    } catch (e) {
      this.ctx.showError(`Export failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
