/**
 * A colour-scale legend: minimum, gradient bar (background set through CSSOM), maximum, caption.
 */
import { cssGradient, type ColorFn } from './colorScale';
import { el, formatValue } from './dom';

export interface Legend {
  root: HTMLElement;
  update(fn: ColorFn, min: number, max: number, digits?: number): void;
}

export function createLegend(doc: Document, id: string, caption: string): Legend {
  const root = el(doc, 'div', { id, className: 'legend' });
  const minEl = el(doc, 'span', { className: 'legend-min' });
  const bar = el(doc, 'span', { className: 'legend-bar', attrs: { 'aria-hidden': 'true' } });
  const maxEl = el(doc, 'span', { className: 'legend-max' });
  const cap = el(doc, 'span', { className: 'legend-caption', text: caption });
  root.append(minEl, bar, maxEl, cap);
  return {
    root,
    update(fn, min, max, digits = 3) {
      minEl.textContent = formatValue(min, digits);
      maxEl.textContent = formatValue(max, digits);
      bar.style.backgroundImage = cssGradient(fn);
      root.setAttribute('aria-label', `colour scale from ${formatValue(min, digits)} to ${formatValue(max, digits)}`);
    },
  };
}
