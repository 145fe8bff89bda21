/**
 * The panel webview: owns the explanation (its attention and positions as the Float32Arrays the host sent) and the
 * view state, routes host messages, persists the view (never the data: the host sends that again), and asks each
 * section to render or update.
 */
import type { Explanation } from '../../src/shared/explanation';
import type { FromWebviewMessage, PanelViewState, ToWebviewMessage } from '../../src/shared/protocol';
import { setHidden } from '../shared/dom';
import { PaletteCache, readTheme, type ThemeColors } from '../shared/theme';
import type { VsCodeApi } from '../shared/vscodeApi';
import type { Palette, PanelContext, Section } from './context';
import { DetailSection } from './detail';
import { ExportControls } from './export';
import { buildPanelLayout, type PanelLayout } from './layout';
import { OverviewSection } from './overview';
import { PeSection } from './pe';
import { SentenceList } from './sentences';
import { defaultViewState, explanationIdentity, isExplanationLike, readPersisted, sanitizeView, viewsEqual, type PersistedPanelState } from './state';
import { StepsSection } from './steps';
import { PAINTED_MARK, RECEIVED_MARK, markTime } from './timingMarks';
import { TokensSection } from './tokens';
import { WalkthroughSection, connectWalkthrough, isTraceLike } from './walkthrough/walkthrough';
import { WhySection } from './why/whySection';

/** Delay before the view state is written with setState after a view change. */
export const PERSIST_DELAY_MS = 250;

/** What an empty panel says: the command as the palette lists it (category: title) and its key. */
export const EMPTY_PANEL_TEXT =
  'Select some text in an editor and run “Attention Lens: Explain attention for selection” (Ctrl+Alt+A, or the editor’s context menu) to see how the model reads it.';

export class PanelApp implements PanelContext {
  readonly layout: PanelLayout;
  readonly detail: DetailSection;
  readonly exporter: ExportControls;
  readonly sentences: SentenceList;
  readonly walkthrough: WalkthroughSection;
  readonly why: WhySection;
  private readonly sections: Section[];
  private current?: Explanation;
  private viewState: PanelViewState;
  private notice?: string;
  private shownRequestId?: number;
  private latestRequestId = -Infinity;
  private theme?: ThemeColors;
  /** `explanationIdentity` of what is (or, after a reload, was) shown. */
  private shownIdentity?: string;
  private readonly palettes = new PaletteCache();
  private persistTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly doc: Document, private readonly api: VsCodeApi<PersistedPanelState>) {
    this.viewState = defaultViewState();
    this.layout = buildPanelLayout(doc);
    const tokens = new TokensSection(this, this.layout.tokens);
    const overview = new OverviewSection(this, this.layout.overview);
    this.detail = new DetailSection(this, this.layout.detail);
    this.exporter = new ExportControls(this, this.detail);
    const steps = new StepsSection(this, this.layout.steps);
    const pe = new PeSection(this, this.layout.pe);
    this.why = new WhySection(this, this.layout.root);
    this.sections = [tokens, overview, this.detail, steps, pe, this.why];
    this.sentences = new SentenceList(doc, this.layout.content, (index) => this.post({ type: 'selectSentence', index }));
    this.walkthrough = new WalkthroughSection(this, {
      showInHeatmap: (kind, layer, head, row) => {
        this.updateView({ kind, layer, head, aggregation: 'head' });
        this.detail.focusRow(row);
      },
      showPositions: () => this.layout.pe.scrollIntoView?.({ block: 'start' }),
    });
    this.layout.tokens.after(this.walkthrough.root);
    connectWalkthrough(this.layout.tokens, this.detail.canvas, this.walkthrough, () => {
      const cell = this.detail.activeCell();
      return cell && { kind: this.viewState.kind, row: cell.row };
    });
    this.setStatus(EMPTY_PANEL_TEXT);
  }

  // ---- PanelContext -------------------------------------------------------------------------------
  explanation(): Explanation | undefined {
    return this.current;
  }

  view(): PanelViewState {
    return this.viewState;
  }

  post(message: FromWebviewMessage): void {
    this.api.postMessage(message);
  }

  palette(): Palette {
    const theme = (this.theme ??= readTheme(this.doc));
    return { ...this.palettes.get(this.viewState.colorScheme, theme), theme };
  }

  updateView(patch: Partial<PanelViewState>): void {
    const previous = this.viewState;
    const next = sanitizeView(previous, patch, this.current);
    if (viewsEqual(previous, next)) return;
    this.viewState = next;
    if (previous.colorScheme !== next.colorScheme) {
      for (const s of this.sections) if (s !== this.detail) s.recolor?.();
    }
    for (const s of this.sections) s.update(next, previous);
    this.post({ type: 'viewState', state: next });
    this.schedulePersist();
  }

  showError(message: string): void {
    this.layout.error.textContent = message;
    setHidden(this.layout.error, false);
  }

  // ---- lifecycle ----------------------------------------------------------------------------------
  /** Restores what a previous instance of this webview saved with setState. */
  restore(): void {
    const saved = readPersisted(this.api.getState());
    if (!saved) return;
    this.viewState = saved.view;
    this.shownRequestId = saved.requestId;
    this.shownIdentity = saved.shown;
    this.notice = saved.notice;
  }

  handleMessage(raw: unknown): void {
    if (!raw || typeof raw !== 'object' || typeof (raw as { type?: unknown }).type !== 'string') return;
    const msg = raw as ToWebviewMessage;
    switch (msg.type) {
      case 'explanation': {
        if (!this.acceptRequest(msg.requestId)) return;
        markTime(RECEIVED_MARK);
        if (!isExplanationLike(msg.explanation)) {
          this.showError('Received malformed explanation data.');
          return;
        }
        if (this.isResend(msg.requestId, msg.explanation)) {
          // The host re-sends what it last showed when a hidden webview comes back: keep the user's view.
          this.viewState = sanitizeView(this.viewState, undefined, msg.explanation);
        } else {
          // A new sentence invalidates the selected step (the host's `view` may set one again).
          const shownBefore = this.current !== undefined || this.shownIdentity !== undefined;
          const base = shownBefore ? sanitizeView(this.viewState, { selectedStep: -1 }, msg.explanation) : this.viewState;
          this.viewState = sanitizeView(base, msg.view, msg.explanation);
        }
        this.shownRequestId = typeof msg.requestId === 'number' ? msg.requestId : undefined;
        if (this.shownIdentity !== explanationIdentity(msg.explanation)) this.walkthrough.reset(); // its numbers were another sentence's
        this.show(msg.explanation, msg.notice);
        this.sentences.set(msg.sentences, msg.sentenceIndex ?? 0);
        if (typeof msg.focusToken === 'number') this.detail.focusRow(msg.focusToken);
        this.shownIdentity = explanationIdentity(msg.explanation);
        this.post({ type: 'viewState', state: this.viewState });
        this.schedulePersist();
        // the frame after this one shows the new explanation (read by the end-to-end timing test)
        this.doc.defaultView?.requestAnimationFrame?.(() => markTime(PAINTED_MARK));
        break;
      }
      case 'progress':
        if (!this.acceptRequest(msg.requestId)) return;
        this.clearError();
        this.setStatus(String(msg.message ?? ''), true);
        break;
      case 'error':
        if (!this.acceptRequest(msg.requestId)) return;
        this.setStatus(this.notice ?? '');
        this.showError(String(msg.message ?? 'Unknown error'));
        break;
      case 'branch':
      case 'comparison':
      case 'whyError':
      case 'whyBusy':
        this.why.handle(msg);
        break;
      case 'trace':
        if (isTraceLike(msg.trace)) this.walkthrough.show(msg.trace);
        else this.walkthrough.error('Received malformed walk-through data.');
        break;
      case 'traceError':
        this.walkthrough.error(String(msg.message ?? 'The walk-through failed.'));
        break;
      case 'sentences':
        if (!this.acceptRequest(msg.requestId)) return;
        this.sentences.set(msg.sentences, msg.sentenceIndex);
        break;
      default:
        // translation / idle are for the side view.
        break;
    }
  }

  /** Theme colours changed (body class switch): re-read them and recolour. */
  themeChanged(): void {
    this.theme = undefined;
    if (!this.current) return;
    for (const s of this.sections) s.recolor?.();
  }

  /** Writes pending state now (tests; before the page goes away). */
  flushState(): void {
    if (this.persistTimer !== undefined) this.persistNow();
  }

  // ---- internals ----------------------------------------------------------------------------------
  private acceptRequest(requestId: unknown): boolean {
    if (typeof requestId !== 'number' || !Number.isFinite(requestId)) return true;
    if (requestId < this.latestRequestId) return false;
    this.latestRequestId = requestId;
    return true;
  }

  private isResend(requestId: unknown, explanation: Explanation): boolean {
    return requestId === this.shownRequestId && this.shownIdentity === explanationIdentity(explanation);
  }

  private show(explanation: Explanation, notice: string | undefined): void {
    this.current = explanation;
    this.notice = notice ?? (explanation.truncated ? 'The selection was longer than the token budget and was truncated.' : undefined);
    this.clearError();
    this.setStatus(this.notice ?? '');
    const m = explanation.model;
    const langs = m.sourceLang && m.targetLang ? ` · ${m.sourceLang}→${m.targetLang}` : '';
    this.layout.modelSummary.textContent =
      `${m.name}${langs} · d_model ${m.dModel} · ${m.encoderLayers}+${m.decoderLayers} layers · ${m.encoderHeads} heads` +
      ` · ${explanation.numBeams > 1 ? `beam ${explanation.numBeams}` : 'greedy'} · ${Math.round(explanation.timingsMs?.total ?? 0)} ms`;
    setHidden(this.layout.content, false);
    for (const s of this.sections) s.render(explanation);
  }

  private setStatus(text: string, busy = false): void {
    this.layout.status.textContent = text;
    this.layout.status.classList.toggle('busy', busy);
    this.layout.status.classList.toggle('notice', !busy && !!this.notice && text === this.notice);
  }

  private clearError(): void {
    this.layout.error.textContent = '';
    setHidden(this.layout.error, true);
  }

  private schedulePersist(): void {
    if (this.persistTimer !== undefined) clearTimeout(this.persistTimer);
    this.persistTimer = setTimeout(() => this.persistNow(), PERSIST_DELAY_MS);
  }

  private persistNow(): void {
    if (this.persistTimer !== undefined) clearTimeout(this.persistTimer);
    this.persistTimer = undefined;
    this.api.setState({ view: this.viewState, notice: this.notice, requestId: this.shownRequestId, shown: this.shownIdentity });
  }
}

/** Boots the panel in `doc`: builds the UI, restores saved state, listens for host messages and says ready. */
export function startPanel(doc: Document, api: VsCodeApi<PersistedPanelState>): PanelApp {
  const app = new PanelApp(doc, api);
  app.restore();
  const win = doc.defaultView;
  win?.addEventListener('message', (e: MessageEvent) => app.handleMessage(e.data));
  win?.addEventListener('pagehide', () => app.flushState());
  if (win && doc.body && typeof win.MutationObserver === 'function') {
    // VS Code switches the body class and rewrites the theme variables on <html> when the colour theme changes.
    const observer = new win.MutationObserver(() => app.themeChanged());
    observer.observe(doc.body, { attributes: true, attributeFilter: ['class'] });
    observer.observe(doc.documentElement, { attributes: true, attributeFilter: ['style'] });
  }
  api.postMessage({ type: 'ready' });
  return app;
}
