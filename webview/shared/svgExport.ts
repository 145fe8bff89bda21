/**
 * Builds a standalone SVG of a heatmap with DOM APIs (createElementNS + textContent) and serialises it
 * with XMLSerializer, so token text is always escaped, never spliced into markup.
 */
import type { Matrix } from '../../src/shared/attention';
import { rgbToCss, type RGB } from './colorScale';
import { formatValue, svgEl } from './dom';
import { truncateLabel } from './heatmap';

export interface SvgHeatmapInput {
  matrix: Matrix;
  rowLabels: readonly string[];
  colLabels: readonly string[];
  title: string;
  /** Colour of a raw value. */
  colorOf: (v: number) => RGB;
  background?: string;
  foreground?: string;
  fontFamily?: string;
}

const CHAR_W = 6.6;

export function buildHeatmapSvg(doc: Document, input: SvgHeatmapInput): SVGSVGElement {
  const { matrix, rowLabels, colLabels } = input;
  const fontSize = 11;
  const cell = Math.max(8, Math.min(24, Math.floor(640 / Math.max(matrix.rows, matrix.cols, 1))));
  const rowW = Math.max(0, ...rowLabels.map((l) => Array.from(truncateLabel(l)).length)) * CHAR_W;
  const colH = Math.max(0, ...colLabels.map((l) => Array.from(truncateLabel(l)).length)) * CHAR_W;
  const titleH = 24;
  const left = Math.ceil(rowW) + 10;
  const top = titleH + Math.ceil(colH) + 10;
  const width = left + matrix.cols * cell + 10;
  const height = top + matrix.rows * cell + 10;
  const fg = input.foreground ?? '#000000';

  const svg = svgEl(doc, 'svg', {
    attrs: { width, height, viewBox: `0 0 ${width} ${height}`, 'font-family': input.fontFamily ?? 'sans-serif', 'font-size': fontSize },
  });
  svg.append(svgEl(doc, 'title', { text: input.title }));
  svg.append(svgEl(doc, 'rect', { attrs: { x: 0, y: 0, width, height, fill: input.background ?? '#ffffff' } }));
  svg.append(svgEl(doc, 'text', { text: input.title, attrs: { x: 4, y: 16, fill: fg, 'font-weight': 'bold' } }));

  const cells = svgEl(doc, 'g', { attrs: { class: 'cells' } });
  for (let r = 0; r < matrix.rows; r++) {
    for (let c = 0; c < matrix.cols; c++) {
      const v = matrix.values[r * matrix.cols + c];
      const rect = svgEl(doc, 'rect', {
        attrs: { x: left + c * cell, y: top + r * cell, width: cell, height: cell, fill: rgbToCss(input.colorOf(v)) },
      });
      rect.append(svgEl(doc, 'title', { text: `${rowLabels[r] ?? r} → ${colLabels[c] ?? c}: ${formatValue(v)}` }));
      cells.append(rect);
    }
  }
  svg.append(cells);

  const rowsG = svgEl(doc, 'g', { attrs: { class: 'row-labels', 'text-anchor': 'end', fill: fg } });
  rowLabels.forEach((l, r) => {
    rowsG.append(svgEl(doc, 'text', { text: truncateLabel(l), attrs: { x: left - 4, y: top + r * cell + cell / 2, 'dominant-baseline': 'middle' } }));
  });
  svg.append(rowsG);

  const colsG = svgEl(doc, 'g', { attrs: { class: 'col-labels', 'text-anchor': 'start', fill: fg } });
  colLabels.forEach((l, c) => {
    const x = left + c * cell + cell / 2;
    const y = top - 4;
    colsG.append(
      svgEl(doc, 'text', { text: truncateLabel(l), attrs: { x, y, transform: `rotate(-90 ${x} ${y})`, 'dominant-baseline': 'middle' } }),
    );
  });
  svg.append(colsG);
  return svg;
}

/** Serialises an SVG element as a standalone document string. */
export function serializeSvg(svg: SVGSVGElement): string {
  const win = svg.ownerDocument.defaultView;
  const Serializer = win?.XMLSerializer ?? (globalThis as { XMLSerializer?: typeof XMLSerializer }).XMLSerializer;
  if (!Serializer) throw new Error('XMLSerializer is not available');
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + new Serializer().serializeToString(svg);
}
