/**
 * The side view: the live translation of the current selection, one clickable token per output piece
 * with its probability. Clicking a token asks the host to open the full panel on that step.
 */
import type { FromWebviewMessage, SidebarExplanation, ToWebviewMessage } from '../../src/shared/protocol';
import { button } from '../shared/controls';
import { appendPiece, clear, el, formatPercent, isSpecialPiece, pieceLabel, setHidden } from '../shared/dom';
import type { VsCodeApi } from '../shared/vscodeApi';

export interface SidebarToken {
  piece: string;
  prob: number;
}

/** One sentence of a multi-sentence selection, as the side view lists it. */
export interface SidebarSentenceState {
  text: string;
  translation: string;
  tokens: SidebarToken[];
  notice?: string;
}

/** The little the side view keeps across reloads (not the whole explanation: attentions are large). */
export interface PersistedSidebarState {
  translation: string;
  tokens: SidebarToken[];
  notice?: string;
  /** The text that was translated (shown, so the view still says what it translated when focus moves away). */
  sourceText?: string;
  /** One entry per sentence when the selection held several. */
  sentences?: SidebarSentenceState[];
}

/** Output pieces (without the decoder start token) paired with the probability the model gave each. */
export function sidebarTokens(explanation: SidebarExplanation): SidebarToken[] {
  return explanation.targetPieces.slice(1).map((piece, i) => {
    const p = explanation.steps[i]?.chosenProb;
    return { piece, prob: typeof p === 'number' && Number.isFinite(p) ? p : NaN };
  });
}

function readPersisted(raw: unknown): PersistedSidebarState | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const r = raw as Record<string, unknown>;
  if (typeof r.translation !== 'string' || !Array.isArray(r.tokens)) return undefined;
  const tokens = r.tokens
    .filter((t): t is SidebarToken => !!t && typeof t === 'object' && typeof (t as SidebarToken).piece === 'string')
    .map((t) => ({ piece: t.piece, prob: typeof t.prob === 'number' ? t.prob : NaN }));
  const sentences = Array.isArray(r.sentences)
    ? (r.sentences as unknown[]).filter(isSentenceState).map((x) => ({ ...x, tokens: x.tokens.filter((t) => t && typeof t.piece === 'string') }))
    : undefined;
  return {
    translation: r.translation,
    tokens,
    notice: typeof r.notice === 'string' ? r.notice : undefined,
    sourceText: typeof r.sourceText === 'string' ? r.sourceText : undefined,
    sentences,
  };
}

function isSentenceState(x: unknown): x is SidebarSentenceState {
  const s = x as SidebarSentenceState;
  return !!s && typeof s === 'object' && typeof s.text === 'string' && typeof s.translation === 'string' && Array.isArray(s.tokens);
}

/** Shortens the shown source text (the full text is in the tooltip). */
function shorten(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

export class SidebarApp {
  readonly status: HTMLElement;
  readonly translation: HTMLElement;
  readonly tokenList: HTMLElement;
  readonly sourceText: HTMLElement;
  readonly sentenceList: HTMLElement;
  private readonly result: HTMLElement;
  private latestRequestId = -Infinity;
  private state?: PersistedSidebarState;

  constructor(readonly doc: Document, private readonly api: VsCodeApi<PersistedSidebarState>) {
    const host = doc.getElementById('app') ?? doc.body;
    const root = el(doc, 'div', { className: 'sidebar' });
    this.status = el(doc, 'div', { id: 'status', className: 'status', attrs: { role: 'status', 'aria-live': 'polite' } });
    this.result = el(doc, 'div', { id: 'result', className: 'result' });
    this.translation = el(doc, 'p', { id: 'translation', className: 'translation' });
    this.tokenList = el(doc, 'div', { id: 'target-tokens', className: 'token-list', attrs: { role: 'group', 'aria-label': 'Output tokens' } });
    this.sourceText = el(doc, 'p', { id: 'source-text', className: 'source-text' });
    this.sentenceList = el(doc, 'div', { id: 'sentence-list', className: 'sentence-list' });
    const hint = el(doc, 'p', { className: 'caption', text: 'Select a token to open the full view on its cross-attention.' });
    const open = button(doc, 'open-panel', 'Open full view', () => this.post({ type: 'openPanel' }), 'Open the Attention Lens panel');
    this.result.append(this.sourceText, this.translation, this.tokenList, this.sentenceList, hint, open);
    setHidden(this.result, true);
    root.append(this.status, this.result);
    host.append(root);
    this.setStatus('Select text in an editor to translate it.');
  }

  restore(): void {
    const saved = readPersisted(this.api.getState());
    if (saved) this.show(saved);
  }

  handleMessage(raw: unknown): void {
    if (!raw || typeof raw !== 'object' || typeof (raw as { type?: unknown }).type !== 'string') return;
    const msg = raw as ToWebviewMessage;
    switch (msg.type) {
      case 'translation': {
        if (!this.accept(msg.requestId)) return;
        const e = msg.explanation;
        if (!e || typeof e.translation !== 'string' || !Array.isArray(e.targetPieces) || !Array.isArray(e.steps)) {
          this.setStatus('Received malformed translation data.', 'error');
          return;
        }
        const notice = msg.notice ?? (e.truncated ? 'The selection was truncated to the token budget.' : undefined);
        const sentences = Array.isArray(msg.sentences) ? msg.sentences.filter(isSentenceState) : undefined;
        const state: PersistedSidebarState = {
          translation: sentences && sentences.length > 1 ? sentences.map((x) => x.translation).join(' ') : e.translation,
          tokens: sidebarTokens(e),
          notice,
          sourceText: typeof msg.sourceText === 'string' ? msg.sourceText : undefined,
          sentences: sentences && sentences.length > 1 ? sentences : undefined,
        };
        this.show(state);
        this.api.setState(state);
        break;
      }
      case 'progress':
        if (!this.accept(msg.requestId)) return;
        this.setStatus(String(msg.message ?? ''), 'busy');
        this.result.classList.add('stale');
        break;
      case 'error':
        if (!this.accept(msg.requestId)) return;
        this.setStatus(String(msg.message ?? 'Unknown error'), 'error');
        this.result.classList.remove('stale');
        break;
      case 'idle':
        this.state = undefined;
        clear(this.tokenList);
        this.translation.textContent = '';
        setHidden(this.result, true);
        this.result.classList.remove('stale');
        this.setStatus(String(msg.message ?? ''));
        this.api.setState(undefined);
        break;
      default:
        break;
    }
  }

  private accept(requestId: unknown): boolean {
    if (typeof requestId !== 'number' || !Number.isFinite(requestId)) return true;
    if (requestId < this.latestRequestId) return false;
    this.latestRequestId = requestId;
    return true;
  }

  private show(state: PersistedSidebarState): void {
    const doc = this.doc;
    this.state = state;
    this.translation.textContent = state.translation;
    this.sourceText.textContent = '';
    if (state.sourceText) {
      const q = el(doc, 'q', { text: shorten(state.sourceText) });
      this.sourceText.append(doc.createTextNode('Translated: '), q);
      this.sourceText.title = state.sourceText;
    }
    clear(this.tokenList);
    clear(this.sentenceList);
    const multi = state.sentences && state.sentences.length > 1 ? state.sentences : undefined;
    setHidden(this.tokenList, !!multi);
    setHidden(this.sentenceList, !multi);
    if (multi) {
      // One collapsible section per sentence, the first open.
      multi.forEach((sentence, k) => {
        const details = el(doc, 'details', { className: 'sidebar-sentence', attrs: { 'data-sentence': k } });
        details.open = k === 0;
        const summary = el(doc, 'summary');
        summary.append(el(doc, 'span', { className: 'sentence-number', text: `${k + 1}` }), el(doc, 'span', { className: 'sentence-source', text: shorten(sentence.text, 120) }));
        const list = el(doc, 'div', { className: 'token-list', attrs: { role: 'group', 'aria-label': `Output tokens of sentence ${k + 1}` } });
        this.appendTokens(list, sentence.tokens, k);
        details.append(summary, el(doc, 'p', { className: 'translation', text: sentence.translation }));
        if (sentence.notice) details.append(el(doc, 'p', { className: 'notice', text: `⚠ ${sentence.notice}` }));
        details.append(list);
        this.sentenceList.append(details);
      });
    } else {
      this.appendTokens(this.tokenList, state.tokens);
    }
    setHidden(this.result, false);
    this.result.classList.remove('stale');
    this.setStatus(state.notice ?? '', state.notice ? 'notice' : undefined);
  }

  private appendTokens(list: HTMLElement, tokens: SidebarToken[], sentence?: number): void {
    const doc = this.doc;
    tokens.forEach((t, i) => {
      const b = el(doc, 'button', { className: 'token', attrs: { type: 'button', 'data-step': i } });
      if (isSpecialPiece(t.piece)) b.classList.add('special');
      const text = el(doc, 'span', { className: 'token-text' });
      appendPiece(doc, text, t.piece);
      const track = el(doc, 'span', { className: 'prob-track', attrs: { 'aria-hidden': 'true' } });
      const bar = el(doc, 'span', { className: 'prob-bar' });
      bar.style.width = `${Number.isFinite(t.prob) ? Math.max(0, Math.min(1, t.prob)) * 100 : 0}%`;
      track.append(bar);
      b.append(text, track, el(doc, 'span', { className: 'token-prob', text: formatPercent(t.prob, 0) }));
      b.setAttribute('aria-label', `${pieceLabel(t.piece)}, probability ${formatPercent(t.prob)}: open cross-attention`);
      b.title = `p = ${formatPercent(t.prob)} — open the full view on this token`;
      b.addEventListener('click', () => this.post(sentence === undefined ? { type: 'openPanel', step: i } : { type: 'openPanel', step: i, sentence }));
      list.append(b);
    });
  }

  private setStatus(text: string, tone?: 'busy' | 'error' | 'notice'): void {
    this.status.textContent = text;
    for (const t of ['busy', 'error', 'notice']) this.status.classList.toggle(t, t === tone);
  }

  private post(message: FromWebviewMessage): void {
    this.api.postMessage(message);
  }

  /** What the view currently shows (for tests). */
  shown(): PersistedSidebarState | undefined {
    return this.state;
  }
}

export function startSidebar(doc: Document, api: VsCodeApi<PersistedSidebarState>): SidebarApp {
  const app = new SidebarApp(doc, api);
  app.restore();
  doc.defaultView?.addEventListener('message', (e: MessageEvent) => app.handleMessage(e.data));
  api.postMessage({ type: 'ready' });
  return app;
}
