/**
 * Hover: the source tokens the hovered word attends to. Inside the most recently explained range it
 * reuses that explanation; elsewhere it explains the surrounding sentence (bounded, cached by text,
 * cancelled with the hover).
 */
import * as vscode from 'vscode';
import type { Explanation } from '../shared/explanation';
import { isCancelled } from '../worker/workerProtocol';
import { COMMANDS } from './commands';
import type { ExplanationStore } from './explanationStore';
import { buildHoverMarkdown, escapeMarkdown, HOVER_HEADING } from './hoverMarkdown';
import { describeModelError } from './modelClient';
import type { ModelService } from './modelService';
import { sentenceAround, type TextSpan } from './selection';
import { hoverAllowed, hoverSentence } from './hoverScope';

export const HOVER_SELECTOR: vscode.DocumentSelector = [{ scheme: 'file' }, { scheme: 'untitled' }];

/** Longest sentence the hover explains on demand (characters). */
const HOVER_MAX_CHARS = 300;
const CACHE_SIZE = 8;
/** Lines read above and below the hovered one to find its sentence (and, in code, its comment). */
const CONTEXT_LINES = 20;

export class AttentionHoverProvider implements vscode.HoverProvider {
  private readonly cache = new Map<string, Explanation>();

  constructor(
    private readonly models: ModelService,
    private readonly store: ExplanationStore,
  ) {}

  /** Forget cached explanations (settings that change results changed: see `resultsKey`). */
  clearCache(): void {
    this.cache.clear();
  }

  async provideHover(document: vscode.TextDocument, position: vscode.Position, token: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
    const settings = this.models.settings;
    if (!settings.hoverEnabled) return undefined;
    const wordRange = document.getWordRangeAtPosition(position);
    if (!wordRange) return undefined;
    // Only where the user asked for it (default: plain text, Markdown, comments), never over a language's own code hovers.
    const scope = hoverAllowed(document.languageId, settings.hoverLanguages);
    if (scope === 'none') return undefined;
    const wordStart = document.offsetAt(wordRange.start);
    const wordEnd = document.offsetAt(wordRange.end);
    const uri = document.uri.toString();

    let explanation: Explanation | undefined;
    let span: TextSpan | undefined;
    const known = this.store.find(uri, wordStart, wordEnd);
    if (known && this.stillMatches(document, known.span) && (scope === 'all' || this.inComment(document, wordStart))) {
      explanation = known.explanation;
      span = known.span;
    } else {
      // The sentence under the cursor: a few lines around it, split into sentences (in code, inside a comment only).
      const first = Math.max(0, wordRange.start.line - CONTEXT_LINES);
      const last = Math.min(document.lineCount - 1, wordRange.start.line + CONTEXT_LINES);
      const windowStart = document.offsetAt(new vscode.Position(first, 0));
      const windowText = document.getText(new vscode.Range(new vscode.Position(first, 0), document.lineAt(last).range.end));
      const found = hoverSentence(windowText, windowStart, wordStart, document.languageId, scope);
      if (found === 'outside') return undefined; // code, not a comment
      const line = document.lineAt(wordRange.start.line);
      span = found && found.text.length <= HOVER_MAX_CHARS ? found : sentenceAround({ text: line.text, start: document.offsetAt(line.range.start) }, wordStart, HOVER_MAX_CHARS);
      if (!span) return undefined;
      try {
        explanation = await this.explainCached(span.text, token);
      } catch (err) {
        if (isCancelled(err) || token.isCancellationRequested) return undefined;
        const md = new vscode.MarkdownString(`#### ${HOVER_HEADING}\n\n${escapeMarkdown(describeModelError(err))}`);
        md.supportHtml = false;
        return new vscode.Hover(md, wordRange);
      }
    }
    if (token.isCancellationRequested || !explanation || !span) return undefined;

    const start = wordStart - span.start;
    const end = Math.min(wordEnd - span.start, explanation.sourceText.length);
    if (start >= explanation.sourceText.length) return undefined; // beyond the truncated text
    const value = buildHoverMarkdown(explanation, start, end, {
      aggregation: settings.hoverAggregation,
      layer: settings.hoverLayer,
      head: settings.hoverHead,
      topN: 3, // compact: the full view is one click away
      queryText: document.getText(wordRange),
      openCommand: { id: COMMANDS.openFromHover, args: [{ uri, start: span.start, end: span.end, offset: start }] },
    });
    if (!value) return undefined;
    const md = new vscode.MarkdownString(value);
    md.supportHtml = false;
    md.supportThemeIcons = false;
    md.isTrusted = { enabledCommands: [COMMANDS.openFromHover] };
    return new vscode.Hover(md, wordRange);
  }

  private inComment(document: vscode.TextDocument, offset: number): boolean {
    const line = document.positionAt(offset).line;
    const first = Math.max(0, line - CONTEXT_LINES);
    const last = Math.min(document.lineCount - 1, line + CONTEXT_LINES);
    const windowStart = document.offsetAt(new vscode.Position(first, 0));
    const text = document.getText(new vscode.Range(new vscode.Position(first, 0), document.lineAt(last).range.end));
    return hoverSentence(text, windowStart, offset, document.languageId, 'comments') !== 'outside';
  }

  private stillMatches(document: vscode.TextDocument, span: TextSpan): boolean {
    const range = new vscode.Range(document.positionAt(span.start), document.positionAt(span.end));
    return document.getText(range) === span.text;
  }

  private async explainCached(text: string, token: vscode.CancellationToken): Promise<Explanation> {
    const key = `${this.models.resultsKey}\u0000${text}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key); // refresh LRU position
      this.cache.set(key, hit);
      return hit;
    }
    // Greedy decoding: hovers show encoder attention; beams would only slow them down.
    const { explanation } = await this.models.explain(text, 'hover', token, { numBeams: 1 });
    this.cache.set(key, explanation);
    while (this.cache.size > CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    return explanation;
  }
}
