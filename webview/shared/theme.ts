/**
 * Reads VS Code's theme CSS variables at render time and turns them into colour scales.
 */
import {
  FALLBACK_ACCENT,
  FALLBACK_BACKGROUND,
  buildLut,
  colorblindScale,
  parseCssColor,
  themeScale,
  type ColorFn,
  type RGB,
  type SchemeName,
} from './colorScale';
import { visibleFloorFor, type VisibleFloor } from './heatmap';

export interface ThemeColors {
  background: RGB;
  accent: RGB;
  foreground: string;
  fontFamily: string;
  monoFontFamily: string;
  kind: 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';
}

export function cssVar(doc: Document, name: string): string {
  const win = doc.defaultView;
  if (!win || typeof win.getComputedStyle !== 'function') return '';
  for (const node of [doc.documentElement, doc.body]) {
    if (!node) continue;
    const v = win.getComputedStyle(node).getPropertyValue(name).trim();
    if (v) return v;
  }
  return '';
}

function firstColor(doc: Document, names: readonly string[]): RGB | undefined {
  for (const n of names) {
    const c = parseCssColor(cssVar(doc, n));
    if (c) return c;
  }
  return undefined;
}

export function themeKind(doc: Document): ThemeColors['kind'] {
  const cl = doc.body?.classList;
  if (cl?.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (cl?.contains('vscode-high-contrast')) return 'high-contrast';
  if (cl?.contains('vscode-light')) return 'light';
  return 'dark';
}

export function readTheme(doc: Document): ThemeColors {
  const kind = themeKind(doc);
  const light = kind === 'light' || kind === 'high-contrast-light';
  const background =
    firstColor(doc, ['--vscode-editor-background', '--vscode-sideBar-background']) ?? (light ? [255, 255, 255] : FALLBACK_BACKGROUND);
  const accent =
    firstColor(doc, ['--vscode-charts-blue', '--vscode-focusBorder', '--vscode-textLink-foreground']) ??
    (light ? [0, 95, 184] : FALLBACK_ACCENT);
  return {
    background,
    accent,
    foreground: cssVar(doc, '--vscode-editor-foreground') || cssVar(doc, '--vscode-foreground') || (light ? '#1f1f1f' : '#cccccc'),
    fontFamily: cssVar(doc, '--vscode-font-family') || 'sans-serif',
    monoFontFamily: cssVar(doc, '--vscode-editor-font-family') || 'monospace',
    kind,
  };
}

export function colorFnFor(scheme: SchemeName, theme: ThemeColors): ColorFn {
  return scheme === 'colorblind' ? colorblindScale : themeScale(theme.background, theme.accent);
}

/** A colour scale plus its lookup table, rebuilt only when the scheme or theme colours change. */
export class PaletteCache {
  private key = '';
  private fn: ColorFn = colorblindScale;
  private lutCache: Uint8ClampedArray = buildLut(colorblindScale);
  private floor: VisibleFloor | undefined;

  /** The colour scale, its lookup table and (high-contrast themes) the visible floor, computed once per scheme and theme. */
  get(scheme: SchemeName, theme: ThemeColors): { fn: ColorFn; lut: Uint8ClampedArray; floor: VisibleFloor | undefined } {
    const key = `${scheme}|${theme.kind}|${theme.background.join(',')}|${theme.accent.join(',')}`;
    if (key !== this.key) {
      this.key = key;
      this.fn = colorFnFor(scheme, theme);
      this.lutCache = buildLut(this.fn);
      this.floor = visibleFloorFor(theme, this.lutCache);
    }
    return { fn: this.fn, lut: this.lutCache, floor: this.floor };
  }
}
