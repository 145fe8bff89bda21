/**
 * Pure colour helpers: value in [0, 1] → [r, g, b] (0–255), CSS colour parsing, lookup tables.
 * No DOM access here, so everything is unit-testable in Node.
 */
import { interpolateRdBu, interpolateViridis } from 'd3-scale-chromatic';

export type RGB = [number, number, number];
/** Maps t ∈ [0, 1] (clamped) to an sRGB colour. */
export type ColorFn = (t: number) => RGB;

export type SchemeName = 'theme' | 'colorblind';

/** Used when the webview's CSS variables are unavailable (tests, plain browsers). */
export const FALLBACK_BACKGROUND: RGB = [30, 30, 30];
export const FALLBACK_ACCENT: RGB = [55, 148, 255];

const clamp01 = (t: number): number => (Number.isFinite(t) ? (t < 0 ? 0 : t > 1 ? 1 : t) : 0);
const clampByte = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/**
 * Parses the colour formats VS Code themes put in CSS variables: #rgb, #rgba, #rrggbb, #rrggbbaa,
 * rgb(r, g, b) and rgba(r, g, b, a) (space- or comma-separated). Alpha is ignored.
 * Returns undefined for anything else (named colours, var(), empty strings).
 */
export function parseCssColor(input: string | null | undefined): RGB | undefined {
  if (!input) return undefined;
  const s = input.trim().toLowerCase();
  const hex = /^#([0-9a-f]{3,8})$/.exec(s);
  if (hex) {
    const h = hex[1];
    if (h.length === 3 || h.length === 4) {
      return [0, 1, 2].map((i) => parseInt(h[i] + h[i], 16)) as RGB;
    }
    if (h.length === 6 || h.length === 8) {
      return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)) as RGB;
    }
    return undefined;
  }
  const fn = /^rgba?\(\s*([^)]*)\)$/.exec(s);
  if (fn) {
    const parts = fn[1].split(/[\s,/]+/).filter((p) => p.length > 0);
    if (parts.length < 3) return undefined;
    const channels = parts.slice(0, 3).map((p) => (p.endsWith('%') ? (parseFloat(p) * 255) / 100 : parseFloat(p)));
    if (channels.some((c) => !Number.isFinite(c))) return undefined;
    return channels.map(clampByte) as RGB;
  }
  return undefined;
}

/** Straight sRGB interpolation between two colours. */
export function lerpColor(a: RGB, b: RGB, t: number): RGB {
  const u = clamp01(t);
  return [clampByte(a[0] + (b[0] - a[0]) * u), clampByte(a[1] + (b[1] - a[1]) * u), clampByte(a[2] + (b[2] - a[2]) * u)];
}

/** The "theme" scheme: from the editor background (t = 0) to a theme accent colour (t = 1). */
export function themeScale(background: RGB, accent: RGB): ColorFn {
  return (t) => lerpColor(background, accent, t);
}

/** The colour-blind-safe scheme: viridis (perceptually uniform, luminance rises monotonically). */
export const colorblindScale: ColorFn = (t) => parseCssColor(interpolateViridis(clamp01(t))) ?? [0, 0, 0];

/** WCAG relative luminance of an sRGB colour, in [0, 1]. */
export function relativeLuminance(rgb: RGB): number {
  const lin = rgb.map((c) => {
    const v = c / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
}

export const LUT_SIZE = 256;

/** Samples a colour function into a flat [r, g, b, r, g, b, …] table of `size` entries. */
export function buildLut(fn: ColorFn, size = LUT_SIZE): Uint8ClampedArray {
  const lut = new Uint8ClampedArray(size * 3);
  for (let i = 0; i < size; i++) {
    const [r, g, b] = fn(size === 1 ? 0 : i / (size - 1));
    lut[i * 3] = r;
    lut[i * 3 + 1] = g;
    lut[i * 3 + 2] = b;
  }
  return lut;
}

/** Colour of t ∈ [0, 1] read from a lookup table. */
export function lutColor(lut: Uint8ClampedArray, t: number): RGB {
  const size = lut.length / 3;
  const i = Math.round(clamp01(t) * (size - 1)) * 3;
  return [lut[i], lut[i + 1], lut[i + 2]];
}

export function rgbToCss(rgb: RGB, alpha?: number): string {
  return alpha === undefined ? `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})` : `rgba(${rgb[0]}, ${rgb[1]}, ${rgb[2]}, ${clamp01(alpha)})`;
}

/** A CSS linear-gradient running through the scale (for legends; set it through CSSOM, never a style attribute). */
export function cssGradient(fn: ColorFn, stops = 11, direction = 'to right'): string {
  const parts: string[] = [];
  for (let i = 0; i < stops; i++) {
    const t = i / (stops - 1);
    parts.push(`${rgbToCss(fn(t))} ${(t * 100).toFixed(1)}%`);
  }
  return `linear-gradient(${direction}, ${parts.join(', ')})`;
}

/**
 * The palette for line charts: Okabe & Ito's colour-blind-safe set (black swapped for grey so it shows on dark themes; yellow, weak on light themes, moved back).
 */
export const CATEGORICAL: readonly string[] = ['#e69f00', '#56b4e9', '#009e73', '#0072b2', '#d55e00', '#cc79a7', '#f0e442', '#999999'];

/**
 * Diverging scale for signed values (positional encodings, −1…1): t = 0.5 is the middle (value 0, near
 * white), below it blue, above it red (ColorBrewer RdBu, readable by most colour-blind viewers).
 */
export const divergingScale: ColorFn = (t) => parseCssColor(interpolateRdBu(1 - clamp01(t))) ?? [0, 0, 0];

/** Text colour (black or white) with the higher WCAG contrast on `background`. */
export function textColorOn(background: RGB): RGB {
  const l = relativeLuminance(background);
  // contrast with black: (l + 0.05) / 0.05; with white: 1.05 / (l + 0.05)
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? [0, 0, 0] : [255, 255, 255];
}

/** WCAG contrast ratio of two colours (1…21). */
export function contrastRatio(a: RGB, b: RGB): number {
  const la = relativeLuminance(a);
  const lb = relativeLuminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/** Where the colour scale starts and ends: absolute 0–1 (comparable across matrices) or this matrix's own range. */
export type ScaleMode = 'absolute' | 'matrix';
