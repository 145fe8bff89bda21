/**
 * "Why this word?": the panel's tools for asking the model more than its translation: score your own translation,
 * the logit lens, the head view, alternatives and two-sentence comparison. Lives below the other sections (and
 * stays usable in an empty panel, for the comparison demo); routes the host's answers to the views.
 */
import type { Explanation } from '../../../src/shared/explanation';
import type { PanelViewState, ToWebviewMessage } from '../../../src/shared/protocol';
import { el, setHidden } from '../../shared/dom';
import type { PanelContext, Section } from '../context';
import { AlternativesView } from './alternatives';
import { CompareView } from './compare';
import { ForcedTargetView } from './forcedTarget';
import { HeadView } from './headView';
import { LogitLensView } from './logitLens';

export type WhyAnswer = Extract<ToWebviewMessage, { type: 'branch' | 'comparison' | 'whyError' | 'whyBusy' }>;

export class WhySection implements Section {
  readonly root: HTMLElement;
  readonly forced: ForcedTargetView;
  readonly lens: LogitLensView;
  readonly heads: HeadView;
  readonly alternatives: AlternativesView;
  readonly compare: CompareView;
  private readonly explained: HTMLElement;
  private lastBranchRequest = -Infinity;
  private lastCompareRequest = -Infinity;

  constructor(ctx: PanelContext, host: HTMLElement) {
    const doc = ctx.doc;
    this.root = el(doc, 'section', { id: 'why', className: 'section', attrs: { 'aria-labelledby': 'why-heading' } });
    this.root.append(el(doc, 'h2', { id: 'why-heading', text: 'Why this word?' }));
    this.forced = new ForcedTargetView(ctx);
    this.lens = new LogitLensView(ctx);
    this.heads = new HeadView(ctx);
    this.alternatives = new AlternativesView(ctx);
    this.compare = new CompareView(ctx);
    // the views that need an explained sentence; the comparison works in an empty panel too
    this.explained = el(doc, 'div', { id: 'why-explained' });
    this.explained.append(this.forced.root, this.lens.root, this.heads.root, this.alternatives.root);
    setHidden(this.explained, true);
    this.root.append(this.explained, this.compare.root);
    host.append(this.root);
  }

  render(e: Explanation): void {
    setHidden(this.explained, false);
    this.forced.render(e);
    this.lens.render(e);
    this.heads.render(e);
    this.alternatives.render(e);
    this.compare.suggest(e.sourceText);
  }

  update(view: PanelViewState, previous: PanelViewState | undefined): void {
    // the head view follows the kind and layer chosen in the panel (and keeps its own choice otherwise)
    if (!previous || view.kind !== previous.kind || view.layer !== previous.layer) this.heads.follow(view.kind, view.layer);
  }

  recolor(): void {
    this.lens.recolor();
    this.compare.recolor();
  }

  handle(msg: WhyAnswer): void {
    switch (msg.type) {
      case 'branch':
        if (msg.requestId < this.lastBranchRequest) return;
        this.lastBranchRequest = msg.requestId;
        this.alternatives.showBranch(msg.step, msg.tokenId, msg.explanation);
        return;
      case 'comparison':
        if (msg.requestId < this.lastCompareRequest) return;
        this.lastCompareRequest = msg.requestId;
        this.compare.show(msg.a, msg.b);
        return;
      case 'whyError':
      case 'whyBusy': {
        const error = msg.type === 'whyError';
        const text = String(msg.message ?? '');
        if (msg.feature === 'target') this.forced.say(text, error);
        else if (msg.feature === 'branch') this.alternatives.say(text, error);
        else this.compare.say(text, error);
        return;
      }
    }
  }
}
