/**
 * Export buttons: PNG of the large heatmap canvas, an SVG built with DOM APIs, and the explanation as JSON.
 * The data goes to the host, which asks where to save it.
 */
import { explanationToJson } from '../../src/shared/attention';
import type { FromWebviewMessage } from '../../src/shared/protocol';
import { lutColor, rgbToCss } from '../shared/colorScale';
import { button } from '../shared/controls';
import { buildHeatmapSvg, serializeSvg } from '../shared/svgExport';
import type { PanelContext } from './context';
import type { DetailSection } from './detail';

type ExportMessage = Extract<FromWebviewMessage, { type: 'export' }>;

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
    this.detail.paint(true);
    let data: string | undefined;
    try {
      data = this.detail.canvas.toDataURL('image/png');
    } finally {
      this.detail.paint();
    }
    if (typeof data !== 'string' || !data.startsWith('data:image/png')) throw new Error('this webview cannot encode PNG images');
    return { type: 'export', format: 'png', fileName: `${sel.fileStem}.png`, data };
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
    return { type: 'export', format: 'svg', fileName: `${sel.fileStem}.svg`, data: serializeSvg(svg) };
  }

  json(): ExportMessage | undefined {
    const explanation = this.ctx.explanation();
    if (!explanation) return undefined;
    return { type: 'export', format: 'json', fileName: 'attention-lens-explanation.json', data: JSON.stringify(explanationToJson(explanation)) };
  }
}
