/**
 * The "Translation" side view: translates the current selection live (debounced) and shows the
 * decoding steps with their probabilities. Its "open" action opens the main panel on that step.
 */
import * as vscode from 'vscode';
import type { Explanation } from '../shared/explanation';
import { sidebarExplanation, type FromWebviewMessage, type ToWebviewMessage } from '../shared/protocol';
import { isCancelled } from '../worker/workerProtocol';
import type { ExplainController } from './explainCommand';
import type { ExplanationStore } from './explanationStore';
import { describeModelError, notificationText } from './modelClient';
import type { ModelService } from './modelService';
import { MAX_SELECTION_CHARS, capToBudget, selectionSpan, type TextSpan } from './selection';
import { planSentences, sentenceNotice, sidebarSentence } from './sentencePlan';
import type { SidebarSentence } from '../shared/protocol';
import { WebviewChannel } from './webviewChannel';
import { renderWebview, webviewOptions } from './webviewSetup';

export interface TranslationViewDeps {
  extensionUri: vscode.Uri;
  models: ModelService;
  store: ExplanationStore;
  explainer: ExplainController;
  log: vscode.LogOutputChannel;
}

const IGNORED_SCHEMES = new Set(['output', 'debug', 'vscode-scm', 'comment']);

export const IDLE_MESSAGE = 'Select text in an editor to translate it.';

export class TranslationViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private viewDisposables: vscode.Disposable[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private readonly channel = new WebviewChannel({
    name: 'the translation view',
    log: (m) => this.deps.log.warn(m),
    onMessage: (msg) => this.handle(msg),
    onError: (err) => void vscode.window.showErrorMessage(notificationText(`Attention Lens: ${err instanceof Error ? err.message : String(err)}`)),
    // a webview that is not ready yet only needs the newest state
    enqueue: (_queue, msg) => [msg],
    onReady: (pending) => {
      const toSend = pending.length > 0 ? pending : this.lastState ? [this.lastState] : [];
      if (toSend.length === 0) this.schedule(0);
      return toSend;
    },
  });
  private lastState: ToWebviewMessage | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private requestCounter = 0;
  private lastKey: string | undefined;
  /** Selection changes we cause ourselves (revealSource) should not start a new translation. */
  private ignoreSelectionUntil = 0;
  private current:
    | { uri: vscode.Uri; span: TextSpan; explanation: Explanation; preCut: boolean; sentences: TextSpan[]; explanations: Explanation[] }
    | undefined;

  constructor(private readonly deps: TranslationViewDeps) {
    this.disposables.push(
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor === vscode.window.activeTextEditor && Date.now() >= this.ignoreSelectionUntil) this.schedule();
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.schedule()),
      deps.models.onDidChangeSettings(({ resultsChanged }) => {
        if (resultsChanged) {
          this.lastKey = undefined; // same selection, different result: translate again
          this.schedule(0);
        }
      }),
    );
  }

  /** The last translation shown (test hook). */
  get lastExplanation(): Explanation | undefined {
    return this.current?.explanation;
  }

  /** Each sentence's translation in the last result (test hook). */
  get lastTranslations(): string[] | undefined {
    return this.current?.explanations.map((e) => e.translation);
  }

  get isVisible(): boolean {
    return this.view?.visible ?? false;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    for (const d of this.viewDisposables.splice(0)) d.dispose();
    this.view = view;
    this.channel.attach(view.webview);
    this.lastKey = undefined;
    view.webview.options = webviewOptions(this.deps.extensionUri);
    view.webview.html = renderWebview(view.webview, this.deps.extensionUri, 'sidebar', 'Attention Lens: Translation');
    this.viewDisposables.push(
      view.onDidChangeVisibility(() => {
        if (view.visible) {
          this.schedule(0);
        } else {
          this.channel.notReady(); // the webview is torn down while hidden; it posts `ready` again
          this.deps.models.cancel('sidebar');
        }
      }),
      view.onDidDispose(() => {
        if (this.view === view) {
          this.view = undefined;
          this.channel.detach();
        }
        this.deps.models.cancel('sidebar');
        for (const d of this.viewDisposables.splice(0)) d.dispose();
      }),
    );
    this.schedule(0);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of [...this.viewDisposables.splice(0), ...this.disposables.splice(0)]) d.dispose();
  }

  private schedule(delay = this.deps.models.settings.debounceMs): void {
    if (!this.view?.visible) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.update();
    }, delay);
  }

  private async update(): Promise<void> {
    if (!this.view?.visible) return;
    const editor = vscode.window.activeTextEditor;
    if (!editor || IGNORED_SCHEMES.has(editor.document.uri.scheme) || editor.selection.isEmpty) {
      // Focus moved to the panel or this view, or the selection was cleared: keep the last translation
      // (the view says which text it translated); only a view with nothing to show yet says how to start.
      if (!this.current) this.showIdle();
      return;
    }
    const doc = editor.document;
    const sel = editor.selection;
    const maxTokens = this.deps.models.settings.maxTokens;
    const read = selectionSpan(doc.offsetAt(sel.start), doc.offsetAt(sel.end), maxTokens, (a, b) => doc.getText(new vscode.Range(doc.positionAt(a), doc.positionAt(b))));
    const span = read.span;
    if (!span) {
      this.showIdle();
      return;
    }
    const preCut = read.cut;
    const plan = planSentences(span, doc.languageId, this.deps.models.settings.codeText);
    const key = `${doc.uri.toString()}\u0000${span.start}\u0000${span.text}\u0000${this.deps.models.resultsKey}`;
    if (key === this.lastKey) return;
    this.lastKey = key;

    const requestId = ++this.requestCounter;
    if (plan.sentences.length === 0) {
      this.post({ type: 'error', requestId, message: plan.notice ?? 'Nothing to translate in this selection.' });
      return;
    }
    const n = plan.sentences.length;
    this.post({ type: 'progress', requestId, message: n > 1 ? `Translating ${n} sentences…` : 'Translating…' });
    try {
      // Each sentence on its own, token budget per sentence (Marian models are sentence translators).
      const spans = plan.sentences.map((s) => capToBudget(s, maxTokens));
      const explanations: Explanation[] = [];
      const sentences: SidebarSentence[] = [];
      for (const { span: sentence, cut } of spans) {
        const { explanation } = await this.deps.models.explain(sentence.text, 'sidebar');
        if (requestId !== this.requestCounter) return; // a newer selection took over
        explanations.push(explanation);
        this.deps.store.add({ uri: doc.uri.toString(), span: sentence, explanation });
        const truncated = explanation.truncated || cut ? `Only the first ${Math.max(0, explanation.sourcePieces.length - 1)} tokens were translated (token budget).` : undefined;
        sentences.push(sidebarSentence(explanation, sentenceNotice(explanation, truncated)));
      }
      const explanation = explanations[0];
      this.current = { uri: doc.uri, span, explanation, preCut, sentences: spans.map((s) => s.span), explanations };
      const notices = [plan.notice, preCut ? `Only the first ${MAX_SELECTION_CHARS} characters of the selection were read.` : undefined, n === 1 ? sentences[0].notice : undefined];
      const notice = notices.filter(Boolean).join(' ') || undefined;
      this.post({ type: 'translation', requestId, explanation: sidebarExplanation(explanation), notice, sentences, sourceText: span.text });
    } catch (err) {
      if (isCancelled(err)) return;
      this.lastKey = undefined; // allow a retry for the same selection
      this.post({ type: 'error', requestId, message: describeModelError(err) });
    }
  }

  private showIdle(): void {
    this.deps.models.cancel('sidebar');
    if (this.lastKey === 'idle') return;
    this.lastKey = 'idle';
    this.post({ type: 'idle', message: IDLE_MESSAGE });
  }

  private post(msg: ToWebviewMessage): void {
    if (msg.type !== 'progress') this.lastState = msg;
    this.channel.post(msg);
  }

  private async handle(msg: FromWebviewMessage): Promise<void> {
    switch (msg.type) {
      case 'ready':
        return; // answered by the channel
      case 'openPanel': {
        const current = this.current;
        if (!current) {
          void vscode.window.showInformationMessage(`Attention Lens: ${IDLE_MESSAGE}`);
          return;
        }
        const index = Math.min(msg.sentence ?? 0, current.explanations.length - 1);
        const steps = current.explanations[index].steps.length;
        const step = msg.step === undefined ? undefined : Math.min(msg.step, Math.max(0, steps - 1));
        await this.deps.explainer.show({
          uri: current.uri,
          span: current.span,
          sentences: current.sentences,
          explanations: current.explanations,
          sentenceIndex: index,
          focusStep: step,
        });
        return;
      }
      case 'revealSource': {
        const current = this.current;
        if (!current) return;
        const doc = await vscode.workspace.openTextDocument(current.uri);
        const a = current.span.start + Math.min(msg.start, current.span.text.length);
        const b = current.span.start + Math.min(msg.end, current.span.text.length);
        this.ignoreSelectionUntil = Date.now() + 1000;
        await vscode.window.showTextDocument(doc, { selection: new vscode.Selection(doc.positionAt(a), doc.positionAt(b)) });
        return;
      }
      case 'viewState':
      case 'export':
      case 'selectSentence':
        return; // not used by the side view
    }
  }
}
