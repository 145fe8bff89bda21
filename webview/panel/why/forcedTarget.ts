/**
 * Score your own translation (teacher forcing): the user types a target, the host runs the model on it, and every
 * view of the panel then shows that target. This view lists each token's probability and rank, the model's top
 * alternatives, the sentence log-probability, and highlights the tokens the model finds unlikely.
 */
import type { DecodingStep, Explanation } from '../../../src/shared/explanation';
import { appendPiece, clear, el, formatPercent, isActivationKey, setHidden } from '../../shared/dom';
import type { PanelContext } from '../context';

/** A token is "unlikely" when the model gives it less than this and prefers another. */
export const UNLIKELY_PROB = 0.1;

export function isUnlikely(step: DecodingStep): boolean {
  return (step.chosenRank ?? 1) > 1 && step.chosenProb < UNLIKELY_PROB;
}

/** A probability as a percentage that stays readable when tiny (0.0031%, 4.2e-7%), never a bare 0.00%. */
export function formatProb(p: number): string {
  if (!Number.isFinite(p)) return '–';
  const pct = p * 100;
  if (pct === 0 || pct >= 0.01) return `${pct.toFixed(2)}%`;
  return `${pct >= 1e-4 ? pct.toPrecision(2) : pct.toExponential(1)}%`;
}

export function ordinalRank(rank: number | undefined): string {
  if (rank === undefined) return '–';
  return rank === 1 ? '1st (model’s choice)' : `#${rank}`;
}

/** Sentence log-probability, per-token mean and perplexity, as one line. */
export function logProbSummary(e: Explanation): string {
  const lp = e.logProb ?? e.steps.reduce((s, st) => s + Math.log(st.chosenProb), 0);
  const n = Math.max(1, e.steps.length);
  return `Sentence log-probability ${lp.toFixed(3)} (ln) over ${e.steps.length} tokens · ${(lp / n).toFixed(3)} per token · perplexity ${Math.exp(-lp / n).toFixed(2)}`;
}

export class ForcedTargetView {
  readonly root: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly clearButton: HTMLButtonElement;
  private readonly message: HTMLElement;
  private readonly result: HTMLElement;

  constructor(private readonly ctx: PanelContext) {
    const doc = ctx.doc;
    this.root = el(doc, 'div', { id: 'forced', className: 'why-block' });
    this.root.append(el(doc, 'h3', { text: 'Score your own translation' }));
    this.root.append(el(doc, 'p', {
      className: 'intro',
      text: 'Type or edit a translation: the model reads it as if it had written it (teacher forcing) and says how likely each token is. Every view of this panel then shows that translation.',
    }));
    const form = el(doc, 'div', { className: 'why-form' });
    this.input = el(doc, 'input', { id: 'forced-input', className: 'why-input', attrs: { type: 'text', 'aria-label': 'Translation to score', placeholder: 'El tigre mata al león.', spellcheck: 'false' } });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') this.submit();
    });
    const score = el(doc, 'button', { id: 'forced-score', className: 'why-button', text: 'Score translation', attrs: { type: 'button' } });
    score.addEventListener('click', () => this.submit());
    this.clearButton = el(doc, 'button', { id: 'forced-clear', className: 'why-button secondary', text: 'Back to the model’s translation', attrs: { type: 'button' } });
    this.clearButton.addEventListener('click', () => ctx.post({ type: 'clearTarget' }));
    form.append(this.input, score, this.clearButton);
    this.message = el(doc, 'div', { id: 'forced-message', className: 'why-message', attrs: { role: 'status', 'aria-live': 'polite' } });
    this.result = el(doc, 'div', { id: 'forced-result' });
    this.root.append(form, this.message, this.result);
  }

  private submit(): void {
    const target = this.input.value;
    if (!target.trim()) {
      this.say('The target translation is empty: type the translation the model should score.', true);
      return;
    }
    this.say('Scoring the translation…');
    this.ctx.post({ type: 'scoreTarget', target });
  }

  say(text: string, error = false): void {
    this.message.textContent = text;
    this.message.classList.toggle('error-text', error);
  }

  render(e: Explanation): void {
    const doc = this.ctx.doc;
    clear(this.result);
    setHidden(this.clearButton, !e.forced);
    if (this.input.value === '' || !e.forced) this.input.value = e.translation;
    this.say(e.targetNotes?.length ? e.targetNotes.join(' ') : '');
    if (!e.forced) {
      this.result.append(el(doc, 'p', { className: 'muted', text: `Showing the model’s own translation (${logProbSummary(e)}).` }));
      return;
    }
    this.result.append(el(doc, 'p', { id: 'forced-logprob', className: 'why-summary', text: logProbSummary(e) }));
    const unlikely = e.steps.filter(isUnlikely).length;
    this.result.append(el(doc, 'p', {
      className: 'muted',
      text: unlikely
        ? `${unlikely} token${unlikely === 1 ? '' : 's'} highlighted: the model gives ${unlikely === 1 ? 'it' : 'them'} under ${formatPercent(UNLIKELY_PROB, 0)} and prefers another.`
        : 'The model finds every token plausible (none under 10 % with a preferred alternative).',
    }));
    const table = el(doc, 'table', { id: 'forced-table', className: 'why-table' });
    const head = el(doc, 'tr');
    for (const h of ['#', 'Token', 'Probability', 'Rank', 'Model’s top alternatives']) head.append(el(doc, 'th', { text: h, attrs: { scope: 'col' } }));
    table.append(el(doc, 'thead', { children: [head] }));
    const body = el(doc, 'tbody');
    e.steps.forEach((s, i) => {
      const tr = el(doc, 'tr', { className: isUnlikely(s) ? 'forced-row unlikely' : 'forced-row', attrs: { 'data-step': i, tabindex: 0 } });
      const tok = el(doc, 'td', { className: 'forced-token' });
      appendPiece(doc, tok, s.chosenPiece);
      const alts = el(doc, 'td', { className: 'forced-alts' });
      s.topIds.forEach((id, j) => {
        if (id === s.chosenId) return;
        const chip = el(doc, 'span', { className: 'chip' });
        appendPiece(doc, chip, s.topPieces[j]);
        chip.append(` ${formatProb(s.topProbs[j])}`);
        alts.append(chip);
      });
      tr.append(
        el(doc, 'td', { text: String(i + 1) }), tok,
        el(doc, 'td', { className: 'forced-prob', text: formatProb(s.chosenProb) }),
        el(doc, 'td', { className: 'forced-rank', text: ordinalRank(s.chosenRank) }), alts,
      );
      // selecting a row shows that token's cross-attention in the detail view
      const select = () => this.ctx.updateView({ selectedStep: i, kind: 'cross' });
      tr.addEventListener('click', select);
      tr.addEventListener('keydown', (ev) => {
        if (isActivationKey(ev)) {
          ev.preventDefault();
          select();
        }
      });
      body.append(tr);
    });
    table.append(body);
    this.result.append(table);
  }
}
