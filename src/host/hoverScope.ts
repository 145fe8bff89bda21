/**
 * Where the hover appears and which sentence it explains. Pure: languageIds are strings, offsets are
 * document offsets.
 */
import { isCodeLanguage, proseSegments } from '../model/text/codeText';
import { sentenceAt, splitSentences } from '../model/text/sentences';
import type { TextSpan } from './selection';

/** 'all': the whole document; 'comments': only inside comments (code); 'none': no hover. */
export type HoverScope = 'all' | 'comments' | 'none';

/**
 * The `attentionLens.hover.languages` setting for one document: its languageId listed (or `*`) → all;
 * a code language with `comments` listed → comments only; otherwise none.
 */
export function hoverAllowed(languageId: string, languages: readonly string[]): HoverScope {
  if (languages.includes('*') || languages.includes(languageId)) return 'all';
  if (languages.includes('comments') && isCodeLanguage(languageId)) return 'comments';
  return 'none';
}

/**
 * The sentence containing `offset` in a window of the document (`text` starts at document offset
 * `textStart`). With scope 'comments' only a comment counts: 'outside' when the offset is in code.
 * Undefined when there is no sentence there.
 */
export function hoverSentence(text: string, textStart: number, offset: number, languageId: string, scope: HoverScope): TextSpan | 'outside' | undefined {
  const at = offset - textStart;
  if (scope === 'comments') {
    const comment = proseSegments(text, languageId).find((s) => s.kind === 'comment' && at >= s.start && at < s.end);
    if (!comment) return 'outside';
    const s = sentenceAt(splitSentences(comment.text), at - comment.start);
    return s && { start: textStart + comment.start + s.start, end: textStart + comment.start + s.end, text: s.text };
  }
  const s = sentenceAt(splitSentences(text), at);
  if (!s || at < s.start || at > s.end) return undefined;
  return { start: textStart + s.start, end: textStart + s.end, text: s.text };
}
