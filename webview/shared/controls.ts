/**
 * Thin helpers around the vscode-elements form controls. They only touch the public surface
 * (`value`, `checked`, `disabled`, the `change` event), so they also work on plain elements in tests.
 */
import { customEl, el } from './dom';

export interface ValueElement extends HTMLElement {
  value: string;
  disabled: boolean;
}

export interface OptionSpec {
  value: string;
  label: string;
  disabled?: boolean;
}

export interface SelectControl {
  wrapper: HTMLElement;
  select: ValueElement;
  set(options: readonly OptionSpec[], value: string): void;
  setDisabled(disabled: boolean): void;
}

/** Height of one option in a vscode-single-select list, and of its frame (CSS pixels). */
const OPTION_HEIGHT = 22;
const LIST_PADDING = 8;

/**
 * Which way a select's list should open: below unless it would run past the bottom of the viewport and
 * there is more room above (a dropdown near the bottom of the panel was clipped).
 */
export function dropdownPosition(top: number, bottom: number, viewportHeight: number, options: number): 'above' | 'below' {
  const needed = Math.min(options, 10) * OPTION_HEIGHT + LIST_PADDING;
  const below = viewportHeight - bottom;
  return below < needed && top > below ? 'above' : 'below';
}

/** A labelled `vscode-single-select`; `onChange` receives the newly selected value. */
export function selectControl(doc: Document, id: string, label: string, onChange: (value: string) => void): SelectControl {
  const wrapper = el(doc, 'div', { className: 'control' });
  wrapper.append(el(doc, 'label', { text: label, attrs: { for: id } }));
  const select = customEl<ValueElement>(doc, 'vscode-single-select', { id, attrs: { 'aria-label': label } });
  wrapper.append(select);
  let signature = '';
  select.addEventListener('change', () => onChange(String(select.value)));
  // Decide the direction just before the list opens (mouse or keyboard).
  const place = () => {
    const win = doc.defaultView;
    if (!win) return;
    const r = select.getBoundingClientRect();
    (select as ValueElement & { position?: string }).position = dropdownPosition(r.top, r.bottom, win.innerHeight, select.children.length);
  };
  select.addEventListener('mousedown', place);
  select.addEventListener('keydown', place);
  select.addEventListener('focus', place);
  return {
    wrapper,
    select,
    set(options, value) {
      const sig = JSON.stringify(options);
      if (sig !== signature) {
        signature = sig;
        while (select.firstChild) select.removeChild(select.firstChild);
        for (const o of options) {
          const opt = customEl(doc, 'vscode-option', { text: o.label, attrs: { value: o.value, disabled: o.disabled === true, selected: o.value === value } });
          select.append(opt);
        }
      }
      for (const opt of Array.from(select.children)) {
        if (opt.getAttribute('value') === value) opt.setAttribute('selected', '');
        else opt.removeAttribute('selected');
      }
      if (select.value !== value) select.value = value;
    },
    setDisabled(disabled) {
      select.disabled = disabled;
      if (disabled) select.setAttribute('disabled', '');
      else select.removeAttribute('disabled');
    },
  };
}

/** A `vscode-button` with visible text. */
export function button(doc: Document, id: string, text: string, onClick: () => void, title?: string): HTMLElement {
  const b = customEl(doc, 'vscode-button', { id, text, attrs: { title } });
  b.addEventListener('click', () => onClick());
  return b;
}
