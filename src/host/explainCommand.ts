/**
 * "Explain attention for selection" and the other ways the main panel gets an explanation
 * (hover link, side view). Runs the model on the chosen text and shows the result in the panel.
 */
import * as vscode from 'vscode';
import type { Explanation } from '../shared/explanation';
import { AttentionPanel, panelTitle, type PanelDeps } from './attentionPanel';
import type { ExplanationStore } from './explanationStore';
import { describeModelError } from './modelClient';
import type { ModelService } from './modelService';
import { capSpan, charBudget, explainTarget, type TextSpan } from './selection';
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
}

export class ExplainController {
  private lastError: string | undefined;

  constructor(private readonly deps: ExplainDeps) {}

  get lastErrorMessage(): string | undefined {
    return this.lastError;
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
    const budget = charBudget(this.deps.models.settings.maxTokens);
    const startOffset = doc.offsetAt(sel.start);
    // Read at most a little more than the budget so a huge selection never gets copied whole.
    const readEnd = sel.isEmpty ? sel.end : doc.positionAt(Math.min(doc.offsetAt(sel.end), startOffset + budget + 64));
    const line = doc.lineAt(sel.active.line);
    const span = explainTarget(
      { text: sel.isEmpty ? '' : doc.getText(new vscode.Range(sel.start, readEnd)), start: startOffset },
      { text: line.text, start: doc.offsetAt(line.range.start) },
    );
    if (!span) {
      void vscode.window.showInformationMessage(
        sel.isEmpty
          ? 'Attention Lens: this line is empty. Select some text (or put the cursor on a line with text) to explain it.'
          : 'Attention Lens: the selection contains only whitespace. Select some text to explain it.',
      );
      return;
    }
    const capped = capSpan(span, budget);
    const cutBySelectionRead = !sel.isEmpty && doc.offsetAt(readEnd) < doc.offsetAt(sel.end);
    await this.show({ uri: doc.uri, span: capped.span, preCut: capped.cut || cutBySelectionRead });
  }

  /** Shows an explanation of `span` in the panel, running the model unless one is given. */
  async show(request: ExplainRequest): Promise<void> {
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

  private truncationNotice(explanation: Explanation, preCut: boolean | undefined, modelLimit?: number): string | undefined {
    if (!explanation.truncated && !preCut) return undefined;
    const configured = this.deps.models.settings.maxTokens;
    const budget = modelLimit ? Math.min(configured, modelLimit) : configured;
    const kept = Math.max(0, explanation.sourcePieces.length - 1); // without </s>
    return `The text is longer than the token budget (${budget} tokens), so only the first ${kept} tokens were explained. Increase "attentionLens.maxTokens" to see more.`;
  }
}
