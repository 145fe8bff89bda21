/**
 * Source tokens, the translation and the generated tokens. Selecting a generated token selects its decoding
 * step and tints each source token by that step's cross-attention weight.
 */
import type { Explanation } from '../../src/shared/explanation';
import type { PanelViewState } from '../../src/shared/protocol';
import { lerpColor, rgbToCss, textColorOn } from '../shared/colorScale';
import { appendPiece, clear, el, formatPercent, isSpecialPiece } from '../shared/dom';
import type { PanelContext, Section } from './context';
import { aggregationLabel, crossFocus, crossWeightsForStep } from './selection';

export class TokensSection implements Section {
  private readonly sourceList: HTMLElement;
  private readonly translation: HTMLElement;
  private readonly targetList: HTMLElement;
  private readonly caption: HTMLElement;
  private readonly glossary: HTMLElement;
  private sourceButtons: HTMLButtonElement[] = [];
  private targetButtons: HTMLButtonElement[] = [];
  /** What each source button's tint shows now (weight, colour), so an unchanged one is not restyled. */
  private tints: Array<string | undefined> = [];

  constructor(private readonly ctx: PanelContext, container: HTMLElement) {
    const doc = ctx.doc;
    container.append(el(doc, 'h3', { text: 'Source', attrs: { id: 'source-heading' } }));
    this.sourceList = el(doc, 'div', { id: 'source-tokens', className: 'token-list', attrs: { role: 'group', 'aria-labelledby': 'source-heading' } });
    this.caption = el(doc, 'p', { id: 'source-caption', className: 'caption' });
    this.glossary = el(doc, 'p', { id: 'token-glossary', className: 'caption glossary' });
    container.append(this.sourceList, this.glossary, this.caption);
    container.append(el(doc, 'h3', { text: 'Translation', attrs: { id: 'translation-heading' } }));
    this.translation = el(doc, 'p', { id: 'translation', className: 'translation', attrs: { 'aria-labelledby': 'translation-heading' } });
    container.append(this.translation);
    container.append(el(doc, 'h3', { text: 'Generated tokens', attrs: { id: 'target-heading' } }));
    this.targetList = el(doc, 'div', { id: 'target-tokens', className: 'token-list', attrs: { role: 'group', 'aria-labelledby': 'target-heading' } });
    container.append(this.targetList);
  }

  render(explanation: Explanation): void {
    const doc = this.ctx.doc;
    this.glossary.textContent = glossaryText(explanation);
    clear(this.sourceList);
    clear(this.targetList);
    this.tints = [];
    this.sourceButtons = explanation.sourcePieces.map((piece, i) => {
      const b = this.tokenButton(piece);
      b.dataset.index = String(i);
      const off = explanation.sourceOffsets?.[i];
      if (off && Number.isInteger(off[0]) && Number.isInteger(off[1]) && off[1] >= off[0]) {
        b.title = `Source token ${i + 1}: reveal in editor`;
        b.addEventListener('click', () => this.ctx.post({ type: 'revealSource', start: off[0], end: off[1] }));
      } else {
        b.title = `Source token ${i + 1}`;
      }
      this.sourceList.append(b);
      return b;
    });
    this.translation.textContent = explanation.translation;
    // The first target piece is the decoder start token; generated token i belongs to decoding step i.
    this.targetButtons = explanation.targetPieces.slice(1).map((piece, i) => {
      const b = this.tokenButton(piece);
      b.dataset.step = String(i);
      const step = explanation.steps[i];
      b.title = step ? `Step ${i + 1}: p = ${formatPercent(step.chosenProb)} — show its cross-attention` : `Step ${i + 1}`;
      b.addEventListener('click', () => {
        const cur = this.ctx.view();
        this.ctx.updateView(cur.selectedStep === i ? { selectedStep: -1 } : crossFocus(this.ctx.explanation(), cur, i));
      });
      this.targetList.append(b);
      return b;
    });
    if (this.targetButtons.length === 0) this.targetList.append(el(doc, 'span', { className: 'empty', text: '(no tokens generated)' }));
    this.update(this.ctx.view());
  }

  private tokenButton(piece: string): HTMLButtonElement {
    const b = el(this.ctx.doc, 'button', { className: 'token', attrs: { type: 'button' } });
    if (isSpecialPiece(piece)) b.classList.add('special');
    const text = el(this.ctx.doc, 'span', { className: 'token-text' });
    appendPiece(this.ctx.doc, text, piece);
    b.append(text);
    return b;
  }

  update(view: PanelViewState): void {
    const explanation = this.ctx.explanation();
    // Only the buttons whose state changes are touched (a 128-token translation restyled all on every click).
    this.targetButtons.forEach((b, i) => {
      const on = i === view.selectedStep;
      if (b.getAttribute('aria-pressed') === String(on)) return;
      b.classList.toggle('selected', on);
      b.setAttribute('aria-pressed', String(on));
    });
    const weights = explanation && view.selectedStep >= 0 ? crossWeightsForStep(explanation, view, view.selectedStep) : undefined;
    let max = 0;
    if (weights) for (const w of weights) if (w > max) max = w;
    const { theme, floor } = this.ctx.palette();
    const accent = theme.accent;
    // High-contrast themes (those whose heatmaps lift small weights to a visible floor): a small weight keeps a visible tint too.
    const minAlpha = floor ? 0.3 : 0.08;
    this.sourceButtons.forEach((b, i) => {
      if (!weights || i >= weights.length) {
        b.classList.remove('weighted');
        b.style.removeProperty('background-color');
        b.style.removeProperty('color');
        delete b.dataset.weight;
        delete b.dataset.weightLabel;
        this.tints[i] = undefined;
        b.removeAttribute('aria-description');
        return;
      }
      const w = weights[i];
      const alpha = max > 0 ? minAlpha + (0.8 - minAlpha) * (w / max) : 0;
      // Unchanged tint (a click that changed only the head or kind shown): the button is not touched.
      const tint = rgbToCss(accent, alpha);
      const shown = `${w.toFixed(6)}|${tint}|${theme.background.join(',')}`;
      if (this.tints[i] === shown) return;
      this.tints[i] = shown;
      b.classList.add('weighted');
      b.dataset.weight = w.toFixed(6);
      b.style.backgroundColor = tint;
      // Black or white text, whichever reads better on the tint over the editor background ("93 %" on blue).
      b.style.color = rgbToCss(textColorOn(lerpColor(theme.background, accent, alpha)));
      // Shown by CSS (::after { content: attr(data-weight-label) }) so the token's text stays exactly the piece.
      b.dataset.weightLabel = formatPercent(w, 0);
      b.setAttribute('aria-description', `cross-attention weight ${w.toFixed(4)}`);
    });
    if (weights && explanation) {
      const piece = explanation.targetPieces[view.selectedStep + 1] ?? '';
      const layers = explanation.attentions.cross.layers;
      const layer = (view.kind === 'cross' ? Math.min(view.layer, layers - 1) : layers - 1) + 1;
      const agg = view.kind === 'cross' && view.aggregation !== 'rollout' ? aggregationLabel(view) : 'mean over heads';
      this.caption.textContent = `Cross-attention of output token ${view.selectedStep + 1} (“${piece}”) over the source · layer ${layer} · ${agg}`;
    } else {
      this.caption.textContent = 'Select a generated token to see which source tokens it attended to. Select a source token to reveal it in the editor.';
    }
  }

  recolor(): void {
    this.update(this.ctx.view());
  }
}

/**
 * Explains the two marks a newcomer meets first: SentencePiece's `▁` (a word starts here: the space
 * before it) and the decoder start token (Marian's is `<pad>`), where they first appear.
 */
export function glossaryText(explanation: Explanation): string {
  const parts: string[] = [];
  const pieces = explanation.sourcePieces;
  const word = pieces.find((p) => p.startsWith('▁') && p.length > 1);
  if (word) {
    // Examples from this very sentence: a word-start piece and, when there is one, a piece that continues a word.
    const cont = pieces.find((p, i) => i > 0 && !p.startsWith('▁') && /\p{L}/u.test(p) && !/^<.*>$/.test(p));
    const example = cont ? `“${word}” starts a word and “${cont}” continues the one before it` : `“${word}” starts a word`;
    parts.push(`“▁” marks the start of a word (SentencePiece writes the space before a word as ▁): ${example}.`);
  }
  const start = explanation.targetPieces[0];
  if (typeof start === 'string') {
    parts.push(`The decoder starts every translation from “${start}”, Marian's decoder start token, so the first row of the decoder and cross-attention heatmaps reads it.`);
  }
  parts.push('“</s>” ends the sentence.');
  return parts.join(' ');
}
