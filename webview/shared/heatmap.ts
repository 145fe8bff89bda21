/**
 * Heatmap rendering: pure matrix → RGBA conversion and geometry, plus thin canvas drawing
 * functions that do nothing (and report false) where no 2D context exists (jsdom, headless tests).
 */
import { LUT_SIZE, contrastRatio, type RGB } from './colorScale';

export interface Range {
  min: number;
  max: number;
}

/**
 * Converts a row-major matrix into ImageData-ready RGBA bytes (one pixel per cell), colouring each value
 * by its position within `range` through the lookup table `lut` (flat RGB triples). Non-finite values are transparent.
 */
export function matrixToRgba(
  values: ArrayLike<number>,
  rows: number,
  cols: number,
  lut: Uint8ClampedArray,
  range: Range,
  floor?: VisibleFloor,
): Uint8ClampedArray {
  const out = new Uint8ClampedArray(rows * cols * 4);
  const size = lut.length / 3 || LUT_SIZE;
  const span = range.max - range.min || 1;
  for (let i = 0; i < rows * cols; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    let t = (v - range.min) / span;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    // high contrast: real weights use only the clearly visible part of the scale (zero stays background)
    if (floor && v >= floor.minWeight) t = liftAboveFloor(t, floor);
    const li = Math.round(t * (size - 1)) * 3;
    const o = i * 4;
    out[o] = lut[li];
    out[o + 1] = lut[li + 1];
    out[o + 2] = lut[li + 2];
    out[o + 3] = 255;
  }
  return out;
}

/** Weights of at least `minWeight` are drawn with the scale from position `t` up (see `highContrastFloor`). */
export interface VisibleFloor {
  minWeight: number;
  t: number;
}

/** In high-contrast themes, weights from 0.1 % up stay visible (a 1/n over a few hundred keys included). */
export const HC_MIN_WEIGHT = 0.001;
/** WCAG's contrast for graphics is 3:1; 2:1 keeps the floor well below the strongest colour, so weights still grade. */
export const HC_MIN_CONTRAST = 2;

/** Scale position `t` moved into [floor.t, 1], keeping the order of weights. */
export function liftAboveFloor(t: number, floor: VisibleFloor): number {
  return floor.t + (1 - floor.t) * t;
}

/**
 * The first position of the colour scale `lut` whose colour has `minContrast` against the background: the
 * faintest colour a small weight is drawn with in high-contrast themes, where a 1 % tint of the background vanishes.
 */
export function highContrastFloor(lut: Uint8ClampedArray, background: RGB, minContrast = HC_MIN_CONTRAST): VisibleFloor {
  const size = lut.length / 3;
  for (let i = 0; i < size; i++) {
    if (contrastRatio([lut[i * 3], lut[i * 3 + 1], lut[i * 3 + 2]], background) >= minContrast) {
      return { minWeight: HC_MIN_WEIGHT, t: size > 1 ? i / (size - 1) : 0 };
    }
  }
  return { minWeight: HC_MIN_WEIGHT, t: 1 };
}

/** The floor for a theme: only high-contrast themes (dark or light) get one. */
export function visibleFloorFor(theme: { kind: string; background: RGB }, lut: Uint8ClampedArray): VisibleFloor | undefined {
  return theme.kind.startsWith('high-contrast') ? highContrastFloor(lut, theme.background) : undefined;
}

/** Where a labelled heatmap sits inside its canvas (all in CSS pixels). */
export interface HeatmapLayout {
  rows: number;
  cols: number;
  /** Side of one square cell. */
  cell: number;
  /** Left edge of the grid (row labels sit to its left). */
  left: number;
  /** Top edge of the grid (column labels sit above it). */
  top: number;
  width: number;
  height: number;
}

export interface LayoutOptions {
  rowLabelWidth: number;
  colLabelHeight: number;
  /** Largest side the grid itself may take. */
  maxGrid?: number;
  minCell?: number;
  maxCell?: number;
  padding?: number;
}

export function computeLayout(rows: number, cols: number, o: LayoutOptions): HeatmapLayout {
  const maxGrid = o.maxGrid ?? 560;
  const minCell = o.minCell ?? 4;
  const maxCell = o.maxCell ?? 28;
  const pad = o.padding ?? 4;
  const longest = Math.max(rows, cols, 1);
  const cell = Math.max(minCell, Math.min(maxCell, Math.floor(maxGrid / longest)));
  const left = Math.ceil(o.rowLabelWidth) + pad * 2;
  const top = Math.ceil(o.colLabelHeight) + pad * 2;
  return { rows, cols, cell, left, top, width: left + cols * cell + pad, height: top + rows * cell + pad };
}

/** The cell under a point, or undefined outside the grid. */
export function cellAt(layout: HeatmapLayout, x: number, y: number): { row: number; col: number } | undefined {
  const col = Math.floor((x - layout.left) / layout.cell);
  const row = Math.floor((y - layout.top) / layout.cell);
  if (x < layout.left || y < layout.top || row < 0 || col < 0 || row >= layout.rows || col >= layout.cols) return undefined;
  return { row, col };
}

/** Arrow/Home/End/PageUp/PageDown movement of a cell cursor, clamped to the grid. Undefined for other keys. */
export function moveCell(
  cur: { row: number; col: number },
  key: string,
  rows: number,
  cols: number,
): { row: number; col: number } | undefined {
  let { row, col } = cur;
  switch (key) {
    case 'ArrowUp': row -= 1; break;
    case 'ArrowDown': row += 1; break;
    case 'ArrowLeft': col -= 1; break;
    case 'ArrowRight': col += 1; break;
    case 'Home': col = 0; break;
    case 'End': col = cols - 1; break;
    case 'PageUp': row = 0; break;
    case 'PageDown': row = rows - 1; break;
    default: return undefined;
  }
  return { row: Math.max(0, Math.min(rows - 1, row)), col: Math.max(0, Math.min(cols - 1, col)) };
}

export function get2d(canvas: HTMLCanvasElement): CanvasRenderingContext2D | null {
  try {
    return canvas.getContext('2d');
  } catch {
    return null;
  }
}

/**
 * Puts RGBA pixels onto a canvas at one pixel per cell (CSS scales it up with `image-rendering: pixelated`).
 * Returns false where no 2D context is available; the canvas is still sized so layout stays right.
 */
export function drawPixels(canvas: HTMLCanvasElement, rgba: Uint8ClampedArray, cols: number, rows: number): boolean {
  canvas.width = Math.max(1, cols);
  canvas.height = Math.max(1, rows);
  const ctx = get2d(canvas);
  if (!ctx || cols === 0 || rows === 0) return false;
  const image = ctx.createImageData(cols, rows);
  image.data.set(rgba);
  ctx.putImageData(image, 0, 0);
  return true;
}

/** Shortens a label for axis display. */
export function truncateLabel(s: string, max = 14): string {
  const chars = Array.from(s);
  return chars.length <= max ? s : chars.slice(0, max - 1).join('') + '…';
}

/** Width of the widest label, measured on `ctx` when present, otherwise estimated. */
export function widestLabel(ctx: CanvasRenderingContext2D | null, labels: readonly string[], font: string, charWidth = 7): number {
  let w = 0;
  if (ctx) ctx.font = font;
  for (const l of labels) {
    const lw = ctx ? ctx.measureText(l).width : Array.from(l).length * charWidth;
    if (lw > w) w = lw;
  }
  return w;
}
