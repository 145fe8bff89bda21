/**
 * The list of a selection's sentences: each one is explained on its own, the panel shows one of them in
 * full. One tab per sentence (source, then its translation as soon as the model has it); the arrow keys
 * move between tabs, as in any tab list.
 */
import type { SentenceSummary } from '../../src/shared/protocol';
import { clear, el, setHidden } from '../shared/dom';

export class SentenceList {
  readonly root: HTMLElement;
  private readonly list: HTMLElement;
  private tabs: HTMLButtonElement[] = [];
  private sentences: SentenceSummary[] = [];
  private index = 0;

  constructor(private readonly doc: Document, container: HTMLElement, private readonly onSelect: (index: number) => void) {
    this.root = el(doc, 'section', { id: 'sentences', className: 'section sentences', attrs: { 'aria-labelledby': 'sentences-heading' } });
    this.root.append(el(doc, 'h2', { id: 'sentences-heading', text: 'Sentences' }));
    this.root.append(
      el(doc, 'p', { className: 'intro', text: 'The model translates one sentence at a time, so each sentence is explained on its own. Select one to see how the model read it.' }),
    );
    this.list = el(doc, 'div', { id: 'sentence-tabs', className: 'sentence-tabs', attrs: { role: 'tablist', 'aria-label': 'Sentences', 'aria-orientation': 'vertical' } });
    this.root.append(this.list);
    setHidden(this.root, true);
    container.prepend(this.root);
  }

  /** Shows the sentences (hidden for a single one) with `index` selected. */
  set(sentences: readonly SentenceSummary[] | undefined, index: number): void {
    const valid = Array.isArray(sentences) ? sentences.filter((s) => s && typeof s.text === 'string') : [];
    this.sentences = valid;
    this.index = Math.max(0, Math.min(valid.length - 1, Number.isInteger(index) ? index : 0));
    setHidden(this.root, valid.length < 2);
    clear(this.list);
    this.tabs = valid.map((s, i) => this.tab(s, i));
    this.list.append(...this.tabs);
  }

  /** What the list shows (for tests): per sentence its source text and translation (or status). */
  shown(): Array<{ text: string; translation: string }> {
    return this.sentences.map((s) => ({ text: s.text, translation: s.translation ?? '' }));
  }

  private tab(s: SentenceSummary, i: number): HTMLButtonElement {
    const doc = this.doc;
    const on = i === this.index;
    const b = el(doc, 'button', {
      className: 'sentence-tab',
      attrs: { type: 'button', role: 'tab', 'aria-selected': String(on), tabindex: on ? 0 : -1, 'data-index': i },
    });
    b.classList.toggle('selected', on);
    const head = el(doc, 'span', { className: 'sentence-source' });
    head.append(el(doc, 'span', { className: 'sentence-number', text: `${i + 1}` }), doc.createTextNode(s.text.replace(/\s+/g, ' ')));
    const status = s.error ? `Failed: ${s.error}` : s.translation === undefined ? 'Translating…' : undefined;
    const out = el(doc, 'span', { className: `sentence-translation${status ? ' pending' : ''}`, text: status ?? `→ ${s.translation}` });
    b.append(head, out);
    if (s.notice) {
      b.append(el(doc, 'span', { className: 'sentence-notice', text: `⚠ ${s.notice}` }));
      b.classList.add('has-notice');
    }
    b.disabled = s.translation === undefined && !on;
    b.addEventListener('click', () => {
      if (i !== this.index && s.translation !== undefined) this.onSelect(i);
    });
    b.addEventListener('keydown', (e) => {
      const step = e.key === 'ArrowDown' || e.key === 'ArrowRight' ? 1 : e.key === 'ArrowUp' || e.key === 'ArrowLeft' ? -1 : 0;
      if (!step) return;
      e.preventDefault();
      const next = this.tabs[(i + step + this.tabs.length) % this.tabs.length];
      next?.focus();
    });
    return b;
  }
}
