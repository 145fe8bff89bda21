/**
 * A colour-scale legend: minimum, gradient bar (background set through CSSOM), maximum, caption, and
 * optional marks on the bar (the uniform-attention level 1/n).
 */
import { cssGradient, type ColorFn } from './colorScale';
import { clear, el, formatValue } from './dom';

export interface LegendMark {
  value: number;
  label: string;
}

export interface Legend {
  root: HTMLElement;
  update(fn: ColorFn, min: number, max: number, digits?: number, marks?: readonly LegendMark[], caption?: string): void;
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
    update(fn, min, max, digits = 3, marks = [], newCaption) {
      minEl.textContent = formatValue(min, digits);
      maxEl.textContent = formatValue(max, digits);
      bar.style.backgroundImage = cssGradient(fn);
      if (newCaption !== undefined) cap.textContent = newCaption;
      clear(bar);
      const shown: string[] = [];
      for (const m of marks) {
        if (!(max > min) || m.value < min || m.value > max) continue;
        const tick = el(doc, 'span', { className: 'legend-mark', attrs: { 'data-value': m.value.toFixed(4), title: m.label } });
        tick.style.left = `${((m.value - min) / (max - min)) * 100}%`;
        tick.append(el(doc, 'span', { className: 'legend-mark-label', text: m.label }));
        bar.append(tick);
        shown.push(`${m.label} at ${formatValue(m.value, digits)}`);
      }
      const marksText = shown.length ? `; marked: ${shown.join(', ')}` : '';
      root.setAttribute('aria-label', `colour scale from ${formatValue(min, digits)} to ${formatValue(max, digits)}${marksText}`);
    },
  };
}
