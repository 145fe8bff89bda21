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

/** A labelled `vscode-single-select`; `onChange` receives the newly selected value. */
export function selectControl(doc: Document, id: string, label: string, onChange: (value: string) => void): SelectControl {
  const wrapper = el(doc, 'div', { className: 'control' });
  wrapper.append(el(doc, 'label', { text: label, attrs: { for: id } }));
  const select = customEl<ValueElement>(doc, 'vscode-single-select', { id, attrs: { 'aria-label': label } });
  wrapper.append(select);
  let signature = '';
  select.addEventListener('change', () => onChange(String(select.value)));
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
