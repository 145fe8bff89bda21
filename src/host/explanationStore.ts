/**
 * Remembers the most recently explained document ranges so hovers inside them reuse the exact
 * explanation the user is looking at. Cleared when a setting that changes results changes (settings.ts
 * `resultsChanged`). Pure: URIs are strings, offsets are document offsets.
 */
import type { Explanation } from '../shared/explanation';
import type { TextSpan } from './selection';

export interface ExplainedRange {
  uri: string;
  span: TextSpan;
  explanation: Explanation;
}

export class ExplanationStore {
  private entries: ExplainedRange[] = [];

  constructor(private readonly capacity = 4) {}

  add(entry: ExplainedRange): void {
    this.entries = [entry, ...this.entries.filter((e) => !(e.uri === entry.uri && e.span.start === entry.span.start && e.span.text === entry.span.text))].slice(
      0,
      this.capacity,
    );
  }

  /** The newest entry whose explained text covers [start, end) in that document. */
  find(uri: string, start: number, end: number): ExplainedRange | undefined {
    return this.entries.find((e) => e.uri === uri && start >= e.span.start && end <= e.span.start + e.explanation.sourceText.length);
  }

  /** The newest entry for exactly this text at this place. */
  findExact(uri: string, span: TextSpan): ExplainedRange | undefined {
    return this.entries.find((e) => e.uri === uri && e.span.start === span.start && e.span.text === span.text);
  }

  get latest(): ExplainedRange | undefined {
    return this.entries[0];
  }

  clear(): void {
    this.entries = [];
  }
}
