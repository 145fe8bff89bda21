/**
 * Pure text-picking rules: which part of a document gets explained. Offsets are UTF-16 document
 * offsets, so callers convert with `document.offsetAt` / `positionAt`.
 */

export interface TextSpan {
  /** Document offset of the first character of `text`. */
  start: number;
  /** Document offset just past the last character of `text`. */
  end: number;
  text: string;
}

/**
 * Upper bound on characters sent to the model per request. The engine truncates to the token budget
 * anyway; this only keeps a giant selection from being copied and tokenized in full. SentencePiece
 * pieces are rarely longer than a dozen characters, so 16 characters per token keeps everything the
 * model could use.
 */
export function charBudget(maxTokens: number): number {
  return Math.max(64, Math.floor(maxTokens) * 16);
}

/** Trims surrounding whitespace, keeping offsets exact; undefined when nothing but whitespace is left. */
export function trimSpan(text: string, start: number): TextSpan | undefined {
  const lead = text.length - text.trimStart().length;
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  return { start: start + lead, end: start + lead + trimmed.length, text: trimmed };
}

/** Cuts a span to at most `maxChars` characters without splitting a surrogate pair. */
export function capSpan(span: TextSpan, maxChars: number): { span: TextSpan; cut: boolean } {
  if (span.text.length <= maxChars) return { span, cut: false };
  let n = Math.max(0, maxChars);
  const code = span.text.charCodeAt(n - 1);
  if (n > 0 && code >= 0xd800 && code <= 0xdbff) n--; // do not end on a high surrogate
  const text = span.text.slice(0, n).trimEnd();
  return { span: { start: span.start, end: span.start + text.length, text }, cut: true };
}

/** Characters read past the character budget, so that whitespace trimmed off the ends still leaves a full budget. */
export const READ_MARGIN_CHARS = 64;

/** Most characters of a selection read for sentence splitting (the sentence cap stops a whole file anyway). */
export const MAX_SELECTION_CHARS = 32_000;

/**
 * The text of a selection [start, end) as the panel and the side view take it: read through `read` (document
 * offsets) up to max(budget + READ_MARGIN_CHARS, MAX_SELECTION_CHARS) characters, so a huge selection is never copied
 * whole, and trimmed with exact offsets. `cut` says the selection went on past what was read.
 */
export function selectionSpan(
  start: number,
  end: number,
  maxTokens: number,
  read: (start: number, end: number) => string,
): { span: TextSpan | undefined; cut: boolean } {
  const readEnd = Math.min(end, start + Math.max(charBudget(maxTokens) + READ_MARGIN_CHARS, MAX_SELECTION_CHARS));
  return { span: trimSpan(read(start, readEnd), start), cut: readEnd < end };
}

/** A span cut to the character budget of `maxTokens` tokens (see charBudget). */
export function capToBudget(span: TextSpan, maxTokens: number): { span: TextSpan; cut: boolean } {
  return capSpan(span, charBudget(maxTokens));
}

export interface SelectionInput {
  /** Selected text (empty for a bare cursor). */
  text: string;
  /** Document offset where the selection starts. */
  start: number;
}

export interface LineInput {
  /** Text of the line holding the cursor (without the line break). */
  text: string;
  /** Document offset of the line's first character. */
  start: number;
}

/**
 * The text "Explain attention for selection" works on: the selection, or the cursor's line when the
 * selection is empty. Undefined when that is empty or whitespace-only.
 */
export function explainTarget(selection: SelectionInput, line: LineInput): TextSpan | undefined {
  if (selection.text.length > 0) return trimSpan(selection.text, selection.start);
  return trimSpan(line.text, line.start);
}

const SENTENCE_END = /[.!?。！？…]/;

/**
 * The sentence around `offset` inside one line, for hovers outside the last explained range.
 * Sentence ends are `.`, `!`, `?` (and CJK/ellipsis forms) followed by whitespace or the line end.
 * The result is at most `maxChars` long, centred on the hovered offset when the sentence is longer.
 */
export function sentenceAround(line: LineInput, offset: number, maxChars = 300): TextSpan | undefined {
  const text = line.text;
  const at = Math.min(Math.max(0, offset - line.start), text.length);
  let s = 0;
  for (let i = at - 1; i >= 0; i--) {
    if (SENTENCE_END.test(text[i]) && (i + 1 >= text.length || /\s/.test(text[i + 1]))) {
      s = i + 1;
      break;
    }
  }
  let e = text.length;
  for (let i = at; i < text.length; i++) {
    if (SENTENCE_END.test(text[i]) && (i + 1 >= text.length || /\s/.test(text[i + 1]))) {
      e = i + 1;
      break;
    }
  }
  if (e - s > maxChars) {
    const half = Math.floor(maxChars / 2);
    let ns = Math.max(s, Math.min(at - half, e - maxChars));
    let ne = Math.min(e, ns + maxChars);
    // Snap to whitespace so words are not cut in half (when there is any nearby).
    const sp = text.lastIndexOf(' ', ns);
    if (ns > s && sp >= s && ns - sp < 20) ns = sp + 1;
    const ep = text.indexOf(' ', ne);
    if (ne < e && ep >= 0 && ep <= e && ep - ne < 20 && ep - ns <= maxChars + 20) ne = ep;
    return trimSpan(text.slice(ns, ne), line.start + ns);
  }
  return trimSpan(text.slice(s, e), line.start + s);
}

/** Shortens a label for titles: first `max` characters with an ellipsis, whitespace collapsed. */
export function shortLabel(text: string, max = 30): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  let n = max;
  const code = flat.charCodeAt(n - 1);
  if (code >= 0xd800 && code <= 0xdbff) n--;
  return `${flat.slice(0, n)}…`;
}
