/**
 * Alternatives: pick another candidate at any decoding step; the host continues greedily from it and the branch is
 * shown beside the original: tokens and probabilities, and which source token each step attended to most
 * (cross-attention of the last layer, mean over heads), so one sees where the attention moved.
 */
import { meanOverHeads } from '../../../src/shared/attention';
import type { Explanation } from '../../../src/shared/explanation';
import { appendPiece, clear, el, formatPercent, pieceLabel } from '../../shared/dom';
import type { PanelContext } from '../context';

/** For each decoding step, the source token the step attended to most (last layer, mean over heads). */
export function attentionFocus(e: Explanation): Array<{ index: number; piece: string; weight: number }> {
  const cross = e.attentions.cross;
  if (cross.layers === 0 || cross.queryLen === 0) return [];
  const m = meanOverHeads(cross, cross.layers - 1);
  const out: Array<{ index: number; piece: string; weight: number }> = [];
  for (let t = 0; t < m.rows; t++) {
    let best = 0;
    for (let s = 1; s < m.cols; s++) if (m.values[t * m.cols + s] > m.values[t * m.cols + best]) best = s;
    out.push({ index: best, piece: cross.keyTokens[best], weight: m.values[t * m.cols + best] });
  }
  return out;
}

export class AlternativesView {
  readonly root: HTMLElement;
  private readonly picker: HTMLElement;
  private readonly message: HTMLElement;
  private readonly result: HTMLElement;
  private base?: Explanation;

  constructor(private readonly ctx: PanelContext) {
    const doc = ctx.doc;
    this.root = el(doc, 'div', { id: 'alternatives', className: 'why-block' });
    this.root.append(el(doc, 'h3', { text: 'Alternatives: what if it had chosen another word?' }));
    this.root.append(el(doc, 'p', {
      className: 'intro',
      text: 'Pick a candidate the model weighed at some step: it continues greedily from that choice and the branch appears beside the original.',
    }));
    this.picker = el(doc, 'div', { id: 'alt-picker', className: 'alt-picker' });
    this.message = el(doc, 'div', { id: 'alt-message', className: 'why-message', attrs: { role: 'status', 'aria-live': 'polite' } });
    this.result = el(doc, 'div', { id: 'alt-result' });
    this.root.append(this.picker, this.message, this.result);
  }

  say(text: string, error = false): void {
    this.message.textContent = text;
    this.message.classList.toggle('error-text', error);
  }

  render(e: Explanation): void {
    const doc = this.ctx.doc;
    this.base = e;
    clear(this.picker);
    clear(this.result);
    this.say('');
    e.steps.forEach((s, i) => {
      const row = el(doc, 'div', { className: 'alt-row' });
      const chosen = el(doc, 'span', { className: 'alt-chosen' });
      chosen.append(`${i + 1}. `);
      appendPiece(doc, chosen, s.chosenPiece);
      row.append(chosen);
      s.topIds.forEach((id, j) => {
        if (id === s.chosenId) return;
        const b = el(doc, 'button', {
          className: 'chip alt-candidate',
          attrs: { type: 'button', 'data-step': i, 'data-token': id, 'aria-label': `At step ${i + 1} take ${pieceLabel(s.topPieces[j])} (${formatPercent(s.topProbs[j])}) instead` },
        });
        appendPiece(doc, b, s.topPieces[j]);
        b.append(` ${formatPercent(s.topProbs[j])}`);
        b.addEventListener('click', () => {
          this.say(`Decoding from ${pieceLabel(s.topPieces[j])} at step ${i + 1}…`);
          this.ctx.post({ type: 'branch', step: i, tokenId: id });
        });
        row.append(b);
      });
      this.picker.append(row);
    });
  }

  /** The host's answer: the branch taking `tokenId` at `step`. */
  showBranch(step: number, tokenId: number, branch: Explanation): void {
    const base = this.base;
    if (!base || branch.sourceText !== base.sourceText) return; // an answer for a sentence no longer shown
    const doc = this.ctx.doc;
    clear(this.result);
    this.say(`Branch at step ${step + 1}: ${base.translation} → ${branch.translation}`);
    const lp = (e: Explanation) => (e.logProb ?? e.steps.reduce((s, x) => s + Math.log(x.chosenProb), 0)).toFixed(3);
    const sides = el(doc, 'div', { className: 'alt-sides' });
    const fa = attentionFocus(base), fb = attentionFocus(branch);
    const column = (title: string, e: Explanation, focus: ReturnType<typeof attentionFocus>, other: ReturnType<typeof attentionFocus>, id: string) => {
      const col = el(doc, 'div', { id, className: 'alt-side' });
      col.append(el(doc, 'h4', { text: title }));
      col.append(el(doc, 'p', { className: 'alt-translation', text: e.translation }));
      col.append(el(doc, 'p', { className: 'muted', text: `log-probability ${lp(e)}` }));
      const table = el(doc, 'table', { className: 'why-table' });
      const head = el(doc, 'tr');
      for (const h of ['#', 'Token', 'Probability', 'Looks at']) head.append(el(doc, 'th', { text: h, attrs: { scope: 'col' } }));
      table.append(el(doc, 'thead', { children: [head] }));
      const body = el(doc, 'tbody');
      e.steps.forEach((s, i) => {
        const moved = i >= step && focus[i] && other[i] && focus[i].index !== other[i].index;
        const tr = el(doc, 'tr', { className: [i === step ? 'branch-point' : '', moved ? 'moved' : ''].filter(Boolean).join(' ') || undefined });
        const tok = el(doc, 'td');
        appendPiece(doc, tok, s.chosenPiece);
        const look = focus[i] ? `${pieceLabel(focus[i].piece)} (${formatPercent(focus[i].weight, 0)})` : '–';
        tr.append(el(doc, 'td', { text: String(i + 1) }), tok, el(doc, 'td', { text: formatPercent(s.chosenProb) }), el(doc, 'td', { text: moved ? `${look} ⇄` : look }));
        body.append(tr);
      });
      table.append(body);
      col.append(table);
      return col;
    };
    sides.append(column('Original', base, fa, fb, 'alt-original'), column(`Branch (step ${step + 1}: ${pieceLabel(branch.steps[step]?.chosenPiece ?? String(tokenId))})`, branch, fb, fa, 'alt-branch'));
    this.result.append(sides);
    this.result.append(el(doc, 'p', { className: 'muted', text: '“Looks at”: the source token with the most cross-attention (last layer, mean over heads); ⇄ marks steps where the two translations look at different source tokens.' }));
  }
}
