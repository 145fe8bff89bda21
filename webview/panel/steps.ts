/**
 * Token probabilities: one entry per decoding step with its top-k candidates and probability bars.
 */
import type { DecodingStep, Explanation } from '../../src/shared/explanation';
import type { PanelViewState } from '../../src/shared/protocol';
import { appendPiece, clear, el, formatPercent, makeActivatable, pieceLabel } from '../shared/dom';
import type { PanelContext, Section } from './context';
import { crossFocus } from './selection';

interface CandidateRow {
  piece: string;
  prob: number;
  chosen: boolean;
  outsideTopK?: boolean;
}

/** The rows to show for a step: its top-k, plus the chosen token when (beam search) it is not among them. */
export function candidateRows(step: DecodingStep): CandidateRow[] {
  const n = Math.min(step.topPieces.length, step.topProbs.length);
  const rows: CandidateRow[] = [];
  let chosenSeen = false;
  for (let i = 0; i < n; i++) {
    const chosen = !chosenSeen && (step.topIds?.[i] === step.chosenId || (step.topIds === undefined && step.topPieces[i] === step.chosenPiece));
    if (chosen) chosenSeen = true;
    rows.push({ piece: step.topPieces[i], prob: step.topProbs[i], chosen });
  }
  if (!chosenSeen) rows.push({ piece: step.chosenPiece, prob: step.chosenProb, chosen: true, outsideTopK: true });
  return rows;
}

export class StepsSection implements Section {
  private readonly list: HTMLOListElement;
  private items: HTMLLIElement[] = [];

  constructor(private readonly ctx: PanelContext, container: HTMLElement) {
    this.list = el(ctx.doc, 'ol', { id: 'steps-list', className: 'steps-list' });
    container.append(this.list);
  }

  render(explanation: Explanation): void {
    const doc = this.ctx.doc;
    clear(this.list);
    this.items = explanation.steps.map((step, i) => {
      const li = el(doc, 'li', { className: 'step', attrs: { 'data-step': i } });
      const head = el(doc, 'div', { className: 'step-head' });
      head.append(el(doc, 'span', { className: 'step-index', text: `${i + 1}` }));
      const piece = el(doc, 'span', { className: 'step-piece' });
      appendPiece(doc, piece, step.chosenPiece);
      head.append(piece, el(doc, 'span', { className: 'step-prob', text: formatPercent(step.chosenProb) }));
      li.append(head);

      const cands = el(doc, 'ul', { className: 'candidates' });
      for (const row of candidateRows(step)) {
        const c = el(doc, 'li', { className: row.chosen ? 'candidate chosen' : 'candidate' });
        const p = el(doc, 'span', { className: 'cand-piece' });
        appendPiece(doc, p, row.piece);
        const track = el(doc, 'span', { className: 'prob-track', attrs: { 'aria-hidden': 'true' } });
        const bar = el(doc, 'span', { className: 'prob-bar' });
        bar.style.width = `${Math.max(0, Math.min(1, Number.isFinite(row.prob) ? row.prob : 0)) * 100}%`;
        track.append(bar);
        c.append(p, track, el(doc, 'span', { className: 'cand-prob', text: formatPercent(row.prob) }));
        if (row.outsideTopK) c.append(el(doc, 'span', { className: 'cand-note', text: '(chosen, outside top-k)' }));
        cands.append(c);
      }
      li.append(cands);
      makeActivatable(li, () => {
        const cur = this.ctx.view();
        this.ctx.updateView(cur.selectedStep === i ? { selectedStep: -1 } : crossFocus(this.ctx.explanation(), cur, i));
      }, `Step ${i + 1}: ${pieceLabel(step.chosenPiece)}, ${formatPercent(step.chosenProb)}`);
      this.list.append(li);
      return li;
    });
    if (this.items.length === 0) this.list.append(el(doc, 'li', { className: 'empty', text: 'No decoding steps.' }));
    this.update(this.ctx.view());
  }

  update(view: PanelViewState): void {
    // Only the entries whose state changes are touched (a 128-step list restyled every entry on every click).
    this.items.forEach((li, i) => {
      const on = i === view.selectedStep;
      if (li.getAttribute('aria-pressed') === String(on)) return;
      li.classList.toggle('selected', on);
      li.setAttribute('aria-pressed', String(on));
    });
  }
}
