/**
 * Export buttons: PNG of the large heatmap canvas, an SVG built with DOM APIs, and the explanation as JSON (typed
 * arrays as number arrays, the layout of the CLI's `explain --json`). The data goes to the host, which asks where to
 * save it.
 */
import { explanationToJson } from '../../src/shared/attention';
import type { FromWebviewMessage } from '../../src/shared/protocol';
import { lutColor, rgbToCss } from '../shared/colorScale';
import { button } from '../shared/controls';
import { svgEl } from '../shared/dom';
import { buildHeatmapSvg, serializeSvg } from '../shared/svgExport';
import type { PanelContext } from './context';
import type { DetailSection } from './detail';

type ExportMessage = Extract<FromWebviewMessage, { type: 'export' }>;

/** Exported figures are drawn at twice their on-screen size (print and slides). */
export const FIGURE_SCALE = 2;

export interface FigureLayout {
  width: number;
  height: number;
  pad: number;
  /** Baselines of the title and the text lines under it. */
  titleY: number;
  lineYs: number[];
  /** Where the heatmap (with its labels) goes. */
  heatmapX: number;
  heatmapY: number;
  /** The colour legend: bar position and size. */
  legendX: number;
  legendY: number;
  legendWidth: number;
  legendHeight: number;
}

/** The texts of a figure: title, then the sentence and its translation. */
export function figureTexts(title: string, source: string, translation: string): { title: string; lines: string[] } {
  const clip = (s: string) => {
    const flat = s.replace(/\s+/g, ' ').trim();
    return flat.length > 110 ? `${flat.slice(0, 109)}…` : flat;
  };
  return { title, lines: [`Source: ${clip(source)}`, `Translation: ${clip(translation)}`] };
}

/** Geometry of a figure (CSS pixels; drawn at FIGURE_SCALE): title, text lines, heatmap, legend. */
export function figureLayout(heatmapWidth: number, heatmapHeight: number, lines: number): FigureLayout {
  const pad = 16;
  const width = Math.ceil(Math.max(heatmapWidth, 520) + 2 * pad);
  const titleY = pad + 14;
  const lineYs = Array.from({ length: lines }, (_, i) => titleY + 20 + i * 16);
  const heatmapY = (lineYs[lineYs.length - 1] ?? titleY) + 12;
  const legendY = heatmapY + heatmapHeight + 16;
  const legendHeight = 10;
  return {
    width, height: Math.ceil(legendY + legendHeight + 34 + pad), pad, titleY, lineYs,
    heatmapX: pad, heatmapY, legendX: pad + 36, legendY, legendWidth: 220, legendHeight,
  };
}

export class ExportControls {
  constructor(private readonly ctx: PanelContext, private readonly detail: DetailSection) {
    const doc = ctx.doc;
    detail.exportBar.append(
      button(doc, 'export-png', 'Export PNG', () => this.send(() => this.png()), 'Save the large heatmap as a PNG image'),
      button(doc, 'export-svg', 'Export SVG', () => this.send(() => this.svg()), 'Save the large heatmap as an SVG drawing'),
      button(doc, 'export-json', 'Export JSON', () => this.send(() => this.json()), 'Save all numbers of this explanation as JSON'),
    );
  }

  private send(build: () => ExportMessage | undefined): void {
    try {
      const msg = build();
      if (msg) this.ctx.post(msg);
    } catch (e) {
      this.ctx.showError(`Export failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  png(): ExportMessage | undefined {
    const sel = this.detail.current();
    if (!sel) return undefined;
    const figure = this.figure();
    const data: string | undefined = figure?.toDataURL('image/png');
    if (typeof data !== 'string' || !data.startsWith('data:image/png')) throw new Error('this webview cannot encode PNG images');
    return { type: 'export', format: 'png', fileName: `${sel.fileStem}.png`, data };
  }

  /** A figure a paper can use: title, sentence and translation, the labelled heatmap and its colour legend, at 2×. */
  private figure(): HTMLCanvasElement | undefined {
    const sel = this.detail.current();
    const explanation = this.ctx.explanation();
    const shot = this.detail.snapshot(FIGURE_SCALE);
    if (!sel || !explanation || !shot) return undefined;
    const palette = this.ctx.palette();
    const texts = figureTexts(sel.title, explanation.sourceText, explanation.translation);
    const f = figureLayout(shot.width, shot.height, texts.lines.length);
    const canvas = this.ctx.doc.createElement('canvas');
    canvas.width = f.width * FIGURE_SCALE;
    canvas.height = f.height * FIGURE_SCALE;
    const g = canvas.getContext('2d');
    if (!g) return undefined;
    g.scale(FIGURE_SCALE, FIGURE_SCALE);
    g.fillStyle = rgbToCss(palette.theme.background);
    g.fillRect(0, 0, f.width, f.height);
    g.fillStyle = palette.theme.foreground;
    g.textBaseline = 'alphabetic';
    g.font = `600 14px ${palette.theme.fontFamily}`;
    g.fillText(texts.title, f.pad, f.titleY);
    g.font = `12px ${palette.theme.fontFamily}`;
    texts.lines.forEach((line, i) => g.fillText(line, f.pad, f.lineYs[i]));
    g.drawImage(shot.canvas, f.heatmapX, f.heatmapY, shot.width, shot.height);
    // Legend: the colour bar from the range's minimum to maximum, with the uniform level 1/n marked.
    const range = this.detail.currentRange();
    for (let x = 0; x < f.legendWidth; x++) {
      g.fillStyle = rgbToCss(lutColor(palette.lut, x / (f.legendWidth - 1)));
      g.fillRect(f.legendX + x, f.legendY, 1.5, f.legendHeight);
    }
    g.fillStyle = palette.theme.foreground;
    g.font = `11px ${palette.theme.fontFamily}`;
    g.textAlign = 'right';
    g.fillText(range.min.toFixed(2), f.legendX - 4, f.legendY + f.legendHeight);
    g.textAlign = 'left';
    g.fillText(`${range.max.toFixed(2)}  attention weight`, f.legendX + f.legendWidth + 4, f.legendY + f.legendHeight);
    const n = sel.matrix.cols;
    const uniform = 1 / Math.max(1, n);
    const span = range.max - range.min || 1;
    if (uniform >= range.min && uniform <= range.max) {
      const ux = f.legendX + ((uniform - range.min) / span) * f.legendWidth;
      g.strokeStyle = palette.theme.foreground;
      g.lineWidth = 1.5;
      g.beginPath();
      g.moveTo(ux, f.legendY - 3);
      g.lineTo(ux, f.legendY + f.legendHeight + 3);
      g.stroke();
      g.textAlign = 'center';
      g.fillText(`uniform 1/${n}`, ux, f.legendY + f.legendHeight + 16);
    }
    return canvas;
  }

  svg(): ExportMessage | undefined {
    const sel = this.detail.current();
    if (!sel) return undefined;
    const palette = this.ctx.palette();
    const range = this.detail.currentRange();
    const span = range.max - range.min || 1;
    const svg = buildHeatmapSvg(this.ctx.doc, {
      ...sel,
      colorOf: (v) => lutColor(palette.lut, (v - range.min) / span),
      background: rgbToCss(palette.theme.background),
      foreground: palette.theme.foreground,
    });
    const explanation = this.ctx.explanation();
    if (explanation) this.addFigureParts(svg, figureTexts(sel.title, explanation.sourceText, explanation.translation).lines, range, sel.matrix.cols);
    return { type: 'export', format: 'svg', fileName: `${sel.fileStem}.svg`, data: serializeSvg(svg) };
  }

  /** Below the SVG heatmap: the sentence and translation, and a colour legend with the uniform level 1/n. */
  private addFigureParts(svg: SVGSVGElement, lines: string[], range: { min: number; max: number }, keys: number): void {
    const doc = this.ctx.doc;
    const palette = this.ctx.palette();
    const fg = palette.theme.foreground;
    const width = Math.max(Number(svg.getAttribute('width')) || 0, 520);
    const top = Number(svg.getAttribute('height')) || 0;
    const height = top + lines.length * 16 + 56;
    svg.setAttribute('width', String(width));
    svg.setAttribute('height', String(height));
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    const bg = svg.querySelector('rect');
    bg?.setAttribute('width', String(width));
    bg?.setAttribute('height', String(height));
    lines.forEach((line, i) => svg.append(svgEl(doc, 'text', { text: line, attrs: { x: 4, y: top + 14 + i * 16, fill: fg, class: 'figure-line' } })));
    const y = top + lines.length * 16 + 14;
    const gradient = svgEl(doc, 'linearGradient', { attrs: { id: 'legend-gradient' } });
    for (let i = 0; i <= 10; i++) {
      gradient.append(svgEl(doc, 'stop', { attrs: { offset: `${i * 10}%`, 'stop-color': rgbToCss(lutColor(palette.lut, i / 10)) } }));
    }
    const defs = svgEl(doc, 'defs');
    defs.append(gradient);
    svg.append(defs);
    const x0 = 40;
    const w = 220;
    svg.append(svgEl(doc, 'rect', { attrs: { x: x0, y, width: w, height: 10, fill: 'url(#legend-gradient)', class: 'legend-bar' } }));
    svg.append(svgEl(doc, 'text', { text: range.min.toFixed(2), attrs: { x: x0 - 4, y: y + 9, 'text-anchor': 'end', fill: fg } }));
    svg.append(svgEl(doc, 'text', { text: `${range.max.toFixed(2)}  attention weight`, attrs: { x: x0 + w + 4, y: y + 9, fill: fg } }));
    const uniform = 1 / Math.max(1, keys);
    if (uniform >= range.min && uniform <= range.max && range.max > range.min) {
      const ux = x0 + ((uniform - range.min) / (range.max - range.min)) * w;
      svg.append(svgEl(doc, 'line', { attrs: { x1: ux, x2: ux, y1: y - 3, y2: y + 13, stroke: fg, 'stroke-width': 1.5 } }));
      svg.append(svgEl(doc, 'text', { text: `uniform 1/${keys}`, attrs: { x: ux, y: y + 26, 'text-anchor': 'middle', fill: fg, class: 'uniform-mark' } }));
    }
  }

  json(): ExportMessage | undefined {
    const explanation = this.ctx.explanation();
    if (!explanation) return undefined;
    return { type: 'export', format: 'json', fileName: 'attention-lens-explanation.json', data: JSON.stringify(explanationToJson(explanation)) };
  }
}
