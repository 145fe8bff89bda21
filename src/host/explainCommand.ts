/**
 * "Explain attention for selection" and the other ways the main panel gets an explanation
 * (hover link, side view). Runs the model on the chosen text and shows the result in the panel.
 */
import * as vscode from 'vscode';
import type { Explanation } from '../shared/explanation';
import { AttentionPanel, panelTitle, type PanelDeps, type PanelSource } from './attentionPanel';
import type { ExplanationStore } from './explanationStore';
import { describeModelError } from './modelClient';
import type { ModelService } from './modelService';
import { MAX_SELECTION_CHARS, capToBudget, explainTarget, selectionSpan, type TextSpan } from './selection';
import { piecesInRange } from './hoverMarkdown';
import { planSentences, sentenceNotice, sentenceSummary } from './sentencePlan';
import type { SentenceSummary } from '../shared/protocol';
import { isCancelled } from '../worker/workerProtocol';


export interface ExplainDeps extends PanelDeps {
  models: ModelService;
  store: ExplanationStore;
}

export interface ExplainRequest {
  uri: vscode.Uri;
  span: TextSpan;
  /** True when the host already shortened the text to the character budget. */
  preCut?: boolean;
  /** Reuse this explanation instead of running the model (side view, hover). */
  explanation?: Explanation;
  /** Open the panel on this decoding step (cross-attention). */
  focusStep?: number;
  /** The selection's sentences (document spans); default: `span` as one sentence. */
  sentences?: TextSpan[];
  /** Explanations already computed for `sentences` (side view), index for index. */
  explanations?: Explanation[];
  /** Which sentence to open (default 0). */
  sentenceIndex?: number;
  /** Open on the source token at this offset into the opened sentence's text (hover link). */
  focusOffset?: number;
  /** What the sentence plan left out (code, sentence cap). */
  planNotice?: string;
}

export class ExplainController {
  private lastError: string | undefined;
  private runs = 0;

  constructor(private readonly deps: ExplainDeps) {}

  get lastErrorMessage(): string | undefined {
    return this.lastError;
  }

  /**
   * A panel restored after a window reload: its webview saved only its view, so the text it showed is explained
   * again (when the document still holds it where it was).
   */
  async explainAgain(source: PanelSource): Promise<void> {
    let doc: vscode.TextDocument;
    try {
      doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(source.uri, true));
    } catch {
      return; // the file is gone: the panel keeps its hint
    }
    const span = { start: source.start, end: source.start + source.text.length, text: source.text };
    if (doc.getText(new vscode.Range(doc.positionAt(span.start), doc.positionAt(span.end))) !== span.text) return;
    const plan = planSentences(span, doc.languageId, this.deps.models.settings.codeText);
    if (plan.sentences.length > 0) await this.show({ uri: doc.uri, span, sentences: plan.sentences, planNotice: plan.notice });
  }

  /** The command handler. Resolves when the panel has the result (or the failure was reported). */
  async explainSelection(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('Attention Lens: open a text editor and select some text to explain.');
      return;
    }
    const doc = editor.document;
    const sel = editor.selection;
    const line = doc.lineAt(sel.active.line);
    const read = selectionSpan(doc.offsetAt(sel.start), doc.offsetAt(sel.end), this.deps.models.settings.maxTokens, (a, b) => doc.getText(new vscode.Range(doc.positionAt(a), doc.positionAt(b))));
    const span = sel.isEmpty ? explainTarget({ text: '', start: 0 }, { text: line.text, start: doc.offsetAt(line.range.start) }) : read.span;
    if (!span) {
      void vscode.window.showInformationMessage(
        sel.isEmpty
          ? 'Attention Lens: this line is empty. Select some text (or put the cursor on a line with text) to explain it.'
          : 'Attention Lens: the selection contains only whitespace. Select some text to explain it.',
      );
      return;
    }
    const cutBySelectionRead = !sel.isEmpty && read.cut;
    // One sentence at a time: Marian models are sentence translators (a paragraph as one sequence comes back mangled).
    const plan = planSentences(span, doc.languageId, this.deps.models.settings.codeText);
    if (plan.sentences.length === 0) {
      void vscode.window.showInformationMessage(`Attention Lens: ${plan.notice ?? 'nothing to explain in this selection.'}`);
      return;
    }
    const readNote = cutBySelectionRead ? `Only the first ${MAX_SELECTION_CHARS} characters of the selection were read.` : undefined;
    const planNotice = [plan.notice, readNote].filter(Boolean).join(' ') || undefined;
    await this.show({ uri: doc.uri, span, sentences: plan.sentences, planNotice });
  }

  /** Shows an explanation of `span` in the panel, running the model unless one is given. */
  async show(request: ExplainRequest): Promise<void> {
    if (request.sentences) return this.showSentences(request, request.sentences);
    const title = panelTitle(request.span.text);
    const panel = AttentionPanel.createOrShow(this.deps, title);
    const source = { uri: request.uri.toString(), start: request.span.start, text: request.span.text };
    if (request.explanation) {
      const requestId = panel.begin(title, 'Opening…');
      panel.showExplanation(requestId, request.explanation, source, this.truncationNotice(request.explanation, request.preCut), request.focusStep);
      if (request.focusStep !== undefined) panel.reveal();
      this.lastError = undefined;
      return;
    }
    const requestId = panel.begin(title);
    try {
      const { explanation, info } = await this.deps.models.explain(request.span.text, 'panel');
      this.deps.store.add({ uri: source.uri, span: request.span, explanation });
      const notice = this.truncationNotice(explanation, request.preCut, info.maxSourceTokens);
      panel.showExplanation(requestId, explanation, source, notice, request.focusStep);
      this.lastError = undefined;
      if (notice) void vscode.window.showInformationMessage(`Attention Lens: ${notice}`);
    } catch (err) {
      if (isCancelled(err)) return; // a newer request replaced this one
      const message = describeModelError(err);
      this.lastError = message;
      this.deps.log.error(`explain failed: ${message}`);
      panel.showError(requestId, message);
      void vscode.window.showErrorMessage(`Attention Lens: ${message}`);
    }
  }

  /**
   * Explains each sentence on its own (token budget per sentence) and shows them as a list in the panel:
   * the first as soon as it is ready, the others' translations as they come.
   */
  private async showSentences(request: ExplainRequest, sentences: TextSpan[]): Promise<void> {
    const run = ++this.runs;
    const spans = sentences.map((s) => capToBudget(s, this.deps.models.settings.maxTokens));
    const index = Math.min(Math.max(0, request.sentenceIndex ?? 0), spans.length - 1);
    const title = panelTitle(request.span.text);
    const panel = AttentionPanel.createOrShow(this.deps, title);
    const summaries: SentenceSummary[] = spans.map(({ span }) => ({ text: span.text }));
    const explanations: Array<Explanation | undefined> = spans.map((_, i) => request.explanations?.[i]);
    const requestId = panel.begin(title, request.explanations ? 'Opening…' : spans.length > 1 ? `Running the model on ${spans.length} sentences…` : 'Running the model…');
    const set = { uri: request.uri.toString(), sentences: spans.map((s) => s.span), explanations, summaries, planNotice: request.planNotice };
    panel.setSentences(set);
    const order = [index, ...spans.keys()].filter((i, k, all) => all.indexOf(i) === k);
    let shown = false;
    for (const i of order) {
      if (run !== this.runs || panel.isDisposed) return; // a newer request took over
      let explanation = explanations[i];
      let limit: number | undefined;
      if (!explanation) {
        try {
          const result = await this.deps.models.explain(spans[i].span.text, 'panel');
          explanation = result.explanation;
          limit = result.info.maxSourceTokens;
        } catch (err) {
          if (isCancelled(err) || run !== this.runs) return;
          const message = describeModelError(err);
          this.deps.log.error(`explain failed: ${message}`);
          if (!shown) {
            this.lastError = message;
            panel.showError(requestId, message);
            void vscode.window.showErrorMessage(`Attention Lens: ${message}`);
            return;
          }
          summaries[i] = { ...summaries[i], error: message };
          panel.updateSentences();
          continue;
        }
        if (run !== this.runs) return;
        explanations[i] = explanation;
        this.deps.store.add({ uri: set.uri, span: spans[i].span, explanation });
      }
      const notice = sentenceNotice(explanation, this.truncationNotice(explanation, spans[i].cut, limit));
      summaries[i] = sentenceSummary(explanation, notice);
      if (!shown) {
        shown = true;
        this.lastError = undefined;
        const token = request.focusOffset === undefined ? undefined : piecesInRange(explanation.sourceOffsets, request.focusOffset, request.focusOffset)[0];
        panel.showSentence(requestId, i, { step: request.focusStep, token });
        if (request.focusStep !== undefined || request.focusOffset !== undefined) panel.reveal();
        const first = [request.planNotice, notice].filter(Boolean).join(' ');
        if (first && !request.explanations) void vscode.window.showInformationMessage(`Attention Lens: ${first}`);
      } else {
        panel.updateSentences();
      }
    }
  }

  private truncationNotice(explanation: Explanation, preCut: boolean | undefined, modelLimit?: number): string | undefined {
    if (!explanation.truncated && !preCut) return undefined;
    const configured = this.deps.models.settings.maxTokens;
    const budget = modelLimit ? Math.min(configured, modelLimit) : configured;
    const kept = Math.max(0, explanation.sourcePieces.length - 1); // without </s>
    return `The text is longer than the token budget (${budget} tokens), so only the first ${kept} tokens were explained. Increase "attentionLens.maxTokens" to see more.`;
  }
}
