/**
 * The main "Attention: …" webview panel. One instance at a time, reused for every explanation.
 * Messages to the webview wait until it posts `ready` (webviewChannel.ts); the last explanation is re-sent whenever
 * the webview (re)loads, so the host stays the source of truth (the webview's saved state holds only its view).
 * Restored after a window reload by the serializer registered in extension.ts, which explains the text again.
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import type { Explanation } from '../shared/explanation';
import { type FromWebviewMessage, type PanelViewState, type SentenceSummary, type ToWebviewMessage } from '../shared/protocol';
import type { TextSpan } from './selection';
import { PANEL_TITLE_PREFIX, VIEWS } from './commands';
import { decodeExport, exportFileName } from './exportData';
import { shortLabel } from './selection';
import { WebviewChannel } from './webviewChannel';
import { renderWebview, webviewOptions } from './webviewSetup';
import type { ModelService } from './modelService';
import { notificationText } from './modelClient';
import type { TraceSide } from '../shared/trace';
import { isCancelled } from '../worker/workerProtocol';
import { handleWhy, type WhyHost, type WhyMessage } from './whyRequests';

/** Where an explanation came from, so `revealSource` can select it again. */
export interface PanelSource {
  uri: string;
  /** Document offset of the first explained character. */
  start: number;
  /** The explained text (as sent to the model). */
  text: string;
}

/** The sentences of one explained selection; the panel shows one explanation and lists them all. */
export interface SentenceSet {
  uri: string;
  sentences: TextSpan[];
  explanations: Array<Explanation | undefined>;
  summaries: SentenceSummary[];
  /** What the sentence plan left out (code, sentence cap). */
  planNotice?: string;
}

export interface PanelDeps {
  extensionUri: vscode.Uri;
  workspaceState: vscode.Memento;
  log: vscode.LogOutputChannel;
  /** Runs forced targets, branches and comparisons (whyRequests.ts). */
  models?: Pick<ModelService, 'explain' | 'trace'>;
}

const SOURCE_KEY = 'attentionLens.panelSource';
const VIEW_KEY = 'attentionLens.panelViewState';

export function panelTitle(text: string): string {
  return `${PANEL_TITLE_PREFIX}${shortLabel(text, 30)}`;
}

export class AttentionPanel implements vscode.Disposable {
  private static instance: AttentionPanel | undefined;
  private static requestCounter = 0;

  private readonly disposables: vscode.Disposable[] = [];
  private readonly channel: WebviewChannel;
  private lastExplanation: Extract<ToWebviewMessage, { type: 'explanation' }> | undefined;
  private lastShown: { explanation: Explanation; source: PanelSource } | undefined;
  private source: PanelSource | undefined;
  private freshPanel = true;
  private disposed = false;
  private sentenceSet: SentenceSet | undefined;
  private sentenceIndex = 0;
  private lastRequestId = 0;

  static get current(): AttentionPanel | undefined {
    return AttentionPanel.instance;
  }

  /** Shows the panel (creating it beside the editor if needed) without taking focus from the editor. */
  static createOrShow(deps: PanelDeps, title: string): AttentionPanel {
    const existing = AttentionPanel.instance;
    if (existing) {
      existing.panel.title = title;
      if (!existing.panel.visible) existing.panel.reveal(existing.panel.viewColumn, true);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      VIEWS.panel,
      title,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { ...webviewOptions(deps.extensionUri), enableFindWidget: true, retainContextWhenHidden: false },
    );
    AttentionPanel.instance = new AttentionPanel(panel, deps);
    return AttentionPanel.instance;
  }

  /** Re-attaches a panel restored by VS Code after a reload; the webview restores its own data. */
  static revive(panel: vscode.WebviewPanel, deps: PanelDeps): AttentionPanel {
    AttentionPanel.instance?.dispose();
    const revived = new AttentionPanel(panel, deps);
    revived.source = deps.workspaceState.get<PanelSource>(SOURCE_KEY);
    revived.freshPanel = false;
    AttentionPanel.instance = revived;
    return revived;
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly deps: PanelDeps,
  ) {
    panel.webview.options = webviewOptions(deps.extensionUri);
    panel.iconPath = {
      light: vscode.Uri.joinPath(deps.extensionUri, 'media', 'icons', 'lens-light.svg'),
      dark: vscode.Uri.joinPath(deps.extensionUri, 'media', 'icons', 'lens-dark.svg'),
    };
    panel.webview.html = renderWebview(panel.webview, deps.extensionUri, 'panel', panel.title);
    this.channel = new WebviewChannel({
      name: 'the attention panel',
      log: (m) => deps.log.warn(m),
      onMessage: (msg) => this.handle(msg),
      onError: (err) => void vscode.window.showErrorMessage(notificationText(`Attention Lens: ${err instanceof Error ? err.message : String(err)}`)),
      // Only the newest progress/result matters to a webview that has not started yet.
      enqueue: (queue, msg) => [
        ...(msg.type === 'explanation' || msg.type === 'error' || msg.type === 'progress'
          ? queue.filter((m) => m.type !== 'progress' && m.type !== 'explanation' && m.type !== 'error')
          : queue),
        msg,
      ],
      // A reloaded webview (hidden and shown again) gets the current explanation again.
      onReady: (pending) =>
        this.lastExplanation && !pending.some((m) => m.type === 'explanation' || m.type === 'progress') ? [this.lastExplanation, ...pending] : pending,
    });
    this.channel.attach(panel.webview);
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      // Without retainContextWhenHidden a hidden webview is torn down: hold messages until it reloads.
      panel.onDidChangeViewState((e) => {
        if (!e.webviewPanel.visible) this.channel.notReady();
      }),
    );
  }

  get title(): string {
    return this.panel.title;
  }

  get isReady(): boolean {
    return this.channel.isReady;
  }

  get visible(): boolean {
    return !this.disposed && this.panel.visible;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** The explanation currently shown and where it came from. */
  get shown(): { explanation: Explanation; source: PanelSource } | undefined {
    return this.lastShown;
  }

  /** Where the text of a panel restored after a window reload came from (its webview kept only the view). */
  get restoredSource(): PanelSource | undefined {
    return this.lastShown ? undefined : this.source;
  }

  /** Starts a new request: sets the title and shows progress. Returns the id later messages carry. */
  begin(title: string, message = 'Running the model…'): number {
    const requestId = ++AttentionPanel.requestCounter;
    this.lastRequestId = requestId;
    this.panel.title = title;
    this.post({ type: 'progress', requestId, message });
    return requestId;
  }

  /** The sentences of the selection being explained (their explanations fill in as the model finishes them). */
  setSentences(set: SentenceSet): void {
    this.sentenceSet = set;
    this.sentenceIndex = 0;
  }

  get sentences(): SentenceSet | undefined {
    return this.sentenceSet;
  }

  get shownSentenceIndex(): number {
    return this.sentenceIndex;
  }

  /** Shows sentence `index` of the current set (when explained), with the list of all sentences. */
  showSentence(requestId: number, index: number, focus: { step?: number; token?: number } = {}): boolean {
    const set = this.sentenceSet;
    const explanation = set?.explanations[index];
    if (!set || !explanation) return false;
    this.sentenceIndex = index;
    const span = set.sentences[index];
    const notice = [set.planNotice, set.summaries[index]?.notice].filter(Boolean).join(' ') || undefined;
    this.showExplanation(requestId, explanation, { uri: set.uri, start: span.start, text: span.text }, notice, focus.step, {
      sentences: set.summaries.length > 1 ? set.summaries : undefined,
      sentenceIndex: index,
      focusToken: focus.token,
    });
    return true;
  }

  /** Sends the sentence list again (another sentence's translation arrived). */
  updateSentences(): void {
    const set = this.sentenceSet;
    if (!set || set.summaries.length < 2 || this.disposed) return;
    const msg: ToWebviewMessage = { type: 'sentences', requestId: this.lastRequestId, sentences: set.summaries, sentenceIndex: this.sentenceIndex };
    if (this.lastExplanation) this.lastExplanation = { ...this.lastExplanation, sentences: set.summaries };
    if (this.channel.isReady) this.post(msg);
  }

  showExplanation(
    requestId: number,
    explanation: Explanation,
    source: PanelSource,
    notice?: string,
    focusStep?: number,
    extra: { sentences?: SentenceSummary[]; sentenceIndex?: number; focusToken?: number } = {},
  ): void {
    if (this.disposed) return;
    this.source = source;
    this.lastShown = { explanation, source };
    void this.deps.workspaceState.update(SOURCE_KEY, source);
    let view: Partial<PanelViewState> | undefined;
    if (this.freshPanel) {
      // A new panel starts with the view the user last chose (the webview clamps it to the model).
      view = this.deps.workspaceState.get<PanelViewState>(VIEW_KEY);
      this.freshPanel = false;
    }
    if (focusStep !== undefined) {
      // A generated token's cross-attention opens on the last layer, mean over heads.
      view = { ...view, kind: 'cross', selectedStep: focusStep, layer: Math.max(0, explanation.model.decoderLayers - 1), aggregation: 'mean' };
    }
    if (extra.focusToken !== undefined) {
      // The hover shows the last encoder layer's mean over heads: open the panel on the same numbers.
      view = { ...view, kind: 'encoder', aggregation: 'mean', layer: Math.max(0, explanation.model.encoderLayers - 1), selectedStep: -1 };
    }
    const msg: Extract<ToWebviewMessage, { type: 'explanation' }> = { type: 'explanation', requestId, explanation, view, notice, ...extra };
    this.lastExplanation = msg;
    this.post(msg);
  }

  /** A forced target, branch or comparison (from the webview, or the "Compare with…" command). */
  runWhy(msg: WhyMessage): Promise<void> {
    const host: WhyHost = {
      shown: this.lastShown,
      models: this.deps.models,
      newRequest: () => {
        const id = ++AttentionPanel.requestCounter;
        this.lastRequestId = id;
        return id;
      },
      send: (m) => this.post(m),
      showMain: (id, explanation, source, notice) => {
        const set = this.sentenceSet;
        const sentences = set && set.summaries.length > 1 ? { sentences: set.summaries, sentenceIndex: this.sentenceIndex } : {};
        this.showExplanation(id, explanation, source, notice, undefined, sentences);
      },
      showOriginal: (id) => this.showSentence(id, this.sentenceIndex),
    };
    return handleWhy(host, msg);
  }

  /** The walk-through: follows one token of the shown explanation through the model and sends the numbers. */
  async walkThrough(side: TraceSide, token: number): Promise<void> {
    const shown = this.lastShown?.explanation;
    const models = this.deps.models;
    if (!shown || !models) {
      this.post({ type: 'traceError', message: 'Explain a sentence first: the walk-through follows one of its tokens.' });
      return;
    }
    try {
      this.post({ type: 'trace', trace: await models.trace(shown, side, token, 'trace') });
    } catch (err) {
      if (isCancelled(err)) return; // a newer walk-through request replaced this one
      this.post({ type: 'traceError', message: err instanceof Error ? err.message : String(err) });
    }
  }

  showError(requestId: number, message: string): void {
    this.post({ type: 'error', requestId, message });
  }

  reveal(): void {
    if (!this.disposed) this.panel.reveal(this.panel.viewColumn, false);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (AttentionPanel.instance === this) AttentionPanel.instance = undefined;
    this.channel.detach();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }

  private post(msg: ToWebviewMessage): void {
    if (!this.disposed) this.channel.post(msg);
  }

  private async handle(msg: FromWebviewMessage): Promise<void> {
    switch (msg.type) {
      case 'ready':
        return; // answered by the channel
      case 'viewState':
        await this.deps.workspaceState.update(VIEW_KEY, msg.state);
        return;
      case 'export':
        return this.export(msg);
      case 'revealSource':
        return this.revealSource(msg.start, msg.end);
      case 'openPanel':
        this.reveal();
        return;
      case 'scoreTarget':
      case 'clearTarget':
      case 'branch':
      case 'compare':
        return this.runWhy(msg);
      case 'trace':
        return this.walkThrough(msg.side, msg.token);
      case 'selectSentence': {
        if (!this.sentenceSet?.explanations[msg.index]) return; // not translated yet: the list shows that
        const requestId = ++AttentionPanel.requestCounter;
        this.lastRequestId = requestId;
        this.panel.title = panelTitle(this.sentenceSet.sentences[msg.index].text);
        this.showSentence(requestId, msg.index);
        return;
      }
    }
  }

  private async export(msg: Extract<FromWebviewMessage, { type: 'export' }>): Promise<void> {
    const bytes = decodeExport(msg.format, msg.data);
    const name = exportFileName(msg.fileName, msg.format);
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
    const filters: Record<string, Record<string, string[]>> = {
      png: { 'PNG image': ['png'] },
      svg: { 'SVG image': ['svg'] },
      json: { JSON: ['json'] },
    };
    const target = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.joinPath(folder, name),
      filters: filters[msg.format],
      saveLabel: 'Export',
      title: 'Attention Lens: export',
    });
    if (!target) return;
    await vscode.workspace.fs.writeFile(target, bytes);
    const choice = await vscode.window.showInformationMessage(`Attention Lens: exported ${target.path.split('/').pop()}`, 'Open');
    if (choice === 'Open') await vscode.commands.executeCommand('vscode.open', target);
  }

  private async revealSource(start: number, end: number): Promise<void> {
    const source = this.source;
    if (!source) {
      void vscode.window.showInformationMessage('Attention Lens: the source of this explanation is not known any more. Explain the text again.');
      return;
    }
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(source.uri, true));
    let base = source.start;
    const expected = doc.getText(new vscode.Range(doc.positionAt(base), doc.positionAt(base + source.text.length)));
    if (expected !== source.text) {
      const found = doc.getText().indexOf(source.text);
      if (found < 0) {
        void vscode.window.showInformationMessage('Attention Lens: the explained text was changed in the document.');
        return;
      }
      base = found;
    }
    const a = Math.min(start, source.text.length);
    const b = Math.min(Math.max(end, start), source.text.length);
    const selection = new vscode.Selection(doc.positionAt(base + a), doc.positionAt(base + b));
    const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === doc.uri.toString());
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: visible?.viewColumn ?? vscode.ViewColumn.One, selection, preserveFocus: false });
    editor.revealRange(selection, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }
}
