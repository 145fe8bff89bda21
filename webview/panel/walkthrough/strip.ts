/**
 * A vector drawn as a colour strip: one cell per number, negative values toward one theme colour, positive toward
 * another, zero the editor background (a d3 diverging scale). The exact value of a cell shows on hover and on
 * keyboard focus (←/→, Home/End); the zoom button widens the cells so single ones can be picked out.
 */
import { scaleDiverging } from 'd3-scale';
import { lerpColor, parseCssColor, rgbToCss, type RGB } from '../../shared/colorScale';
import { cssVar, type ThemeColors } from '../../shared/theme';
import { el } from '../../shared/dom';

export interface StripColors {
  negative: RGB;
  zero: RGB;
  positive: RGB;
}

/** The strip colours from the theme: its red chart colour (or error colour) for negatives, its accent for positives. */
export function stripColors(doc: Document, theme: ThemeColors): StripColors {
  const negative = parseCssColor(cssVar(doc, '--vscode-charts-red')) ?? parseCssColor(cssVar(doc, '--vscode-errorForeground')) ?? [229, 83, 75];
  return { negative, zero: theme.background, positive: theme.accent };
}

/** Exactly the number as JavaScript prints it (shortest text that reads back to the same double). */
export function exact(v: number): string {
  return String(v);
}

/** A short form for labels (6 significant digits); the exact value stays in data-value and the readouts. */
export function short(v: number): string {
  if (!Number.isFinite(v)) return v > 0 ? '∞' : v < 0 ? '−∞' : 'NaN';
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e6 ? String(Number(v.toPrecision(6))) : v.toExponential(4);
}

export interface StripOptions {
  /** Accessible name and visible caption, e.g. "q (head 1)". */
  label: string;
  colors: StripColors;
  /** Symmetric colour domain ±max (default: the largest |value| of this vector). */
  max?: number;
  /** Cell index → label for the readout (default "dim i"). */
  cellLabel?: (i: number) => string;
  /** Dimensions after which a separator is drawn (e.g. head boundaries of a concatenation). */
  groupSize?: number;
  /** One short header line (for lists of small vectors): the colour range goes to the tooltip. */
  compact?: boolean;
}

/** Builds a strip for `values`; the returned element is focusable and self-contained. */
export function colorStrip(doc: Document, values: ArrayLike<number>, o: StripOptions): HTMLElement {
  const n = values.length;
  let max = o.max ?? 0;
  if (o.max === undefined) for (let i = 0; i < n; i++) if (Number.isFinite(values[i])) max = Math.max(max, Math.abs(values[i]));
  if (!(max > 0)) max = 1;
  const { negative, zero, positive } = o.colors;
  const scale = scaleDiverging<string>((t: number) => rgbToCss(t < 0.5 ? lerpColor(negative, zero, t * 2) : lerpColor(zero, positive, (t - 0.5) * 2)))
    .domain([-max, 0, max])
    .clamp(true);
  const label = o.cellLabel ?? ((i: number) => `dim ${i}`);

  const root = el(doc, 'figure', { className: 'wt-strip' });
  const caption = el(doc, 'figcaption', { className: 'wt-strip-label', text: `${o.label} · ${n} numbers` });
  const cells = el(doc, 'div', {
    className: 'wt-strip-cells',
    attrs: { role: 'slider', tabindex: 0, 'aria-label': `${o.label}: ${n} numbers; arrow keys read them one by one`, 'aria-valuemin': 0, 'aria-valuemax': n - 1, 'aria-valuenow': 0 },
  });
  const readout = el(doc, 'div', { className: 'wt-strip-readout', attrs: { 'aria-live': 'polite' } });
  const zoom = el(doc, 'button', { className: 'wt-zoom', text: 'Zoom', attrs: { type: 'button', 'aria-pressed': 'false', title: 'Widen the cells to pick single numbers' } });
  const range = el(doc, 'span', { className: 'wt-strip-range', text: `colour: −${short(max)} … 0 … +${short(max)}` });
  const head = el(doc, 'div', { className: 'wt-strip-head' });
  if (o.compact) {
    caption.textContent = o.label;
    cells.title = range.textContent ?? '';
    head.append(caption, zoom);
  } else {
    head.append(caption, range, zoom);
  }

  const cellEls: HTMLElement[] = [];
  for (let i = 0; i < n; i++) {
    const c = el(doc, 'span', { className: 'wt-cell', attrs: { 'data-index': i, 'data-value': exact(values[i]) } });
    c.style.backgroundColor = scale(values[i]);
    if (o.groupSize && i > 0 && i % o.groupSize === 0) c.classList.add('wt-group-start');
    cells.append(c);
    cellEls.push(c);
  }
  let cursor = -1;
  const show = (i: number) => {
    readout.textContent = i >= 0 ? `${label(i)}: ${exact(values[i])}` : '';
  };
  const moveTo = (i: number) => {
    if (cursor >= 0) cellEls[cursor]?.classList.remove('wt-cursor');
    cursor = Math.max(0, Math.min(n - 1, i));
    cellEls[cursor]?.classList.add('wt-cursor');
    cells.setAttribute('aria-valuenow', String(cursor));
    cells.setAttribute('aria-valuetext', `${label(cursor)}: ${exact(values[cursor])}`);
    show(cursor);
    if (root.classList.contains('zoomed') && typeof cellEls[cursor]?.scrollIntoView === 'function') cellEls[cursor].scrollIntoView({ block: 'nearest', inline: 'nearest' });
  };
  show(-1);
  cells.addEventListener('mouseover', (e) => {
    const t = e.target as HTMLElement;
    if (t?.dataset?.index !== undefined) show(Number(t.dataset.index));
  });
  cells.addEventListener('mouseleave', () => show(cursor));
  cells.addEventListener('click', (e) => {
    const t = e.target as HTMLElement;
    if (t?.dataset?.index !== undefined) moveTo(Number(t.dataset.index));
  });
  cells.addEventListener('focus', () => moveTo(cursor < 0 ? 0 : cursor));
  cells.addEventListener('keydown', (e) => {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : e.key === 'PageDown' ? 16 : e.key === 'PageUp' ? -16 : 0;
    if (step !== 0) moveTo((cursor < 0 ? 0 : cursor) + step);
    else if (e.key === 'Home') moveTo(0);
    else if (e.key === 'End') moveTo(n - 1);
    else if (e.key === '+' || e.key === '-' || e.key === 'z') toggleZoom(e.key === 'z' ? undefined : e.key === '+');
    else return;
    e.preventDefault();
    e.stopPropagation();
  });
  const toggleZoom = (on?: boolean) => {
    const z = on ?? !root.classList.contains('zoomed');
    root.classList.toggle('zoomed', z);
    zoom.setAttribute('aria-pressed', String(z));
    zoom.textContent = z ? 'Unzoom' : 'Zoom';
    if (z && cursor >= 0 && typeof cellEls[cursor]?.scrollIntoView === 'function') cellEls[cursor].scrollIntoView({ block: 'nearest', inline: 'center' });
  };
  zoom.addEventListener('click', () => toggleZoom());
  root.append(head, cells, readout);
  return root;
}
