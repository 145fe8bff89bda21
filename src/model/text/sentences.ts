/**
 * Sentence splitting for text taken from an editor. Marian (opus-mt) models are sentence translators: a
 * paragraph fed as one sequence comes back mangled, so selections are cut into sentences first and each
 * one is explained on its own. Offsets are UTF-16 offsets into the input, so callers can map every
 * sentence (and every token in it) back to the document. Pure: no `vscode`.
 */

export interface Sentence {
  /** Offset of the sentence's first character in the input. */
  start: number;
  /** Offset just past its last character. */
  end: number;
  /** The sentence, trimmed: always `input.slice(start, end)`. */
  text: string;
}

/**
 * Words that end with a full stop without ending the sentence ("Mr. Smith"). ICU's sentence rules
 * (Intl.Segmenter) break after them when a capital follows; these are merged back. "etc." is left out
 * on purpose: it ends sentences as often as not.
 */
const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'ft', 'vs', 'cf', 'approx', 'no', 'nos', 'fig', 'figs',
  'eq', 'eqs', 'sec', 'ch', 'vol', 'pp', 'p', 'gen', 'gov', 'sen', 'rep', 'rev', 'capt', 'col', 'lt', 'sgt', 'e.g', 'i.e',
  'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec', 'mon', 'tue', 'wed', 'thu', 'fri',
]);

/** A line that starts a list item, heading or quote: a line break before it is a real break. */
const BLOCK_START = /^[ \t]*(?:[-*+>#|]|\d+[.)][ \t]|```)/;

const HAS_WORD = /[\p{L}\p{N}]/u;

/**
 * Single line breaks inside a paragraph (hard-wrapped prose, wrapped comments) become spaces, so ICU does
 * not end a sentence at every line end. Blank lines and lines that start a list item or heading keep
 * their break. Same length as the input, so offsets are unchanged.
 */
function joinWrappedLines(text: string): string {
  const chars = text.split('');
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== '\n' && c !== '\r') continue;
    let j = i + 1;
    if (c === '\r' && text[j] === '\n') j++;
    const lineEnd = text.indexOf('\n', j);
    const nextLine = text.slice(j, lineEnd < 0 ? text.length : lineEnd);
    const prevBreak = Math.max(text.lastIndexOf('\n', i - 1), text.lastIndexOf('\r', i - 1));
    const prevLine = text.slice(prevBreak + 1, i);
    const blankAround = nextLine.trim() === '' || prevLine.trim() === '';
    if (!blankAround && !BLOCK_START.test(nextLine)) for (let k = i; k < j; k++) chars[k] = ' ';
    i = j - 1;
  }
  return chars.join('');
}

/** Last word of a piece, without its final full stop ("Mr." → "mr", "e.g." → "e.g"). */
function lastWordBeforeStop(piece: string): string | undefined {
  const m = /(?:^|[\s(["'“‘])([\p{L}.]+)\.$/u.exec(piece.trimEnd());
  return m ? m[1].toLowerCase() : undefined;
}

/** True when ICU's break after `piece` should be undone because `piece` ends with an abbreviation or initial. */
function endsWithAbbreviation(piece: string): boolean {
  const w = lastWordBeforeStop(piece);
  if (w === undefined) return false;
  if (ABBREVIATIONS.has(w)) return true;
  // A single capital letter ("J. R. R. Tolkien") is an initial.
  return /^\p{Lu}$/u.test(piece.trimEnd().slice(-2, -1)) && w.length === 1;
}

/**
 * Splits `text` into sentences with Intl.Segmenter (Unicode sentence boundaries), then repairs what
 * those rules get wrong for editor text: abbreviations and initials, a sentence continuing in lower case
 * after `!`/`?` inside quotes, line wrapping, and pieces without any letter or digit (merged into the
 * sentence before, dropped when there is none). Whitespace-only input gives [].
 */
export function splitSentences(text: string, locale = 'en'): Sentence[] {
  const prepared = joinWrappedLines(text);
  const segmenter = new Intl.Segmenter(locale, { granularity: 'sentence' });
  // Raw pieces as [start, end) before trimming.
  const raw: Array<[number, number]> = [];
  for (const s of segmenter.segment(prepared)) raw.push([s.index, s.index + s.segment.length]);

  const merged: Array<[number, number]> = [];
  for (const [a, b] of raw) {
    const piece = text.slice(a, b);
    const prev = merged[merged.length - 1];
    if (prev) {
      const prevPiece = text.slice(prev[0], prev[1]);
      const prevHardBreak = /\n[ \t]*$/.test(prepared.slice(prev[0], prev[1]));
      const continues =
        !prevHardBreak && (endsWithAbbreviation(prevPiece) || /^\s*\p{Ll}/u.test(piece) || !HAS_WORD.test(piece));
      if (continues) {
        prev[1] = b;
        continue;
      }
    }
    merged.push([a, b]);
  }

  const out: Sentence[] = [];
  for (const [a, b] of merged) {
    const piece = text.slice(a, b);
    if (!HAS_WORD.test(piece)) continue;
    const lead = piece.length - piece.trimStart().length;
    const trimmed = piece.trim();
    out.push({ start: a + lead, end: a + lead + trimmed.length, text: trimmed });
  }
  return out;
}

/** The sentence containing `offset` (or the nearest one before it, then after it); undefined for none. */
export function sentenceAt(sentences: readonly Sentence[], offset: number): Sentence | undefined {
  let before: Sentence | undefined;
  for (const s of sentences) {
    if (offset >= s.start && offset < s.end) return s;
    if (s.end <= offset) before = s;
  }
  return before ?? sentences[0];
}

/** Shifts sentences found in a slice of a document to document offsets. */
export function shiftSentences(sentences: readonly Sentence[], by: number): Sentence[] {
  return sentences.map((s) => ({ start: s.start + by, end: s.end + by, text: s.text }));
}
