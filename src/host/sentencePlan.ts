/**
 * Which sentences of a selection get explained: the prose of a code selection (comments and strings,
 * unless the setting says everything), cut into sentences with their document offsets, each one explained
 * on its own (Marian models are sentence translators). Pure: no `vscode`.
 */
import type { Explanation } from '../shared/explanation';
import type { SentenceSummary, SidebarSentence } from '../shared/protocol';
import { isCodeLanguage, proseSegments, type CodeTextMode } from '../model/text/codeText';
import { splitSentences } from '../model/text/sentences';
import { checkSource } from '../model/text/sourceCheck';
import type { TextSpan } from './selection';

/** Most sentences one request explains (a whole file should not keep the model busy for minutes). */
export const MAX_SENTENCES = 64;

export interface SentencePlan {
  /** Document spans, in order. */
  sentences: TextSpan[];
  /** What was left out and why (code, sentence cap), for the user. */
  notice?: string;
  /** True when the selection was code and only its comments and strings are explained. */
  proseOnly: boolean;
}

/** Plans the sentences of `span` (document offsets) in a document of language `languageId`. */
export function planSentences(span: TextSpan, languageId: string, mode: CodeTextMode, maxSentences = MAX_SENTENCES): SentencePlan {
  const code = mode !== 'everything' && isCodeLanguage(languageId);
  const sentences: TextSpan[] = [];
  for (const seg of proseSegments(span.text, languageId, mode)) {
    for (const s of splitSentences(seg.text)) {
      // Same length as the document slice (comment markers are blanked to spaces, which the tokenizer
      // drops), so the explanation's token offsets are document offsets minus `start`.
      sentences.push({ start: span.start + seg.start + s.start, end: span.start + seg.start + s.end, text: s.text });
    }
  }
  const notices: string[] = [];
  if (code && sentences.length === 0) {
    notices.push(`This ${languageId} selection has no comments or text strings to explain: the model translates prose, not code. Set "attentionLens.code.explain" to "everything" to send the code anyway.`);
  } else if (code) {
    notices.push(`Code: only the comments and text strings of this ${languageId} selection are explained (setting "attentionLens.code.explain").`);
  }
  if (sentences.length > maxSentences) {
    notices.push(`The selection has ${sentences.length} sentences; the first ${maxSentences} are explained.`);
    sentences.length = maxSentences;
  }
  return { sentences, notice: notices.length ? notices.join(' ') : undefined, proseOnly: code };
}

/** The notice for one explained sentence: unknown tokens, a foreign script, truncation. */
export function sentenceNotice(explanation: Explanation, truncationNotice: string | undefined): string | undefined {
  const check = checkSource({
    text: explanation.sourceText,
    pieces: explanation.sourcePieces,
    sourceLang: explanation.model.sourceLang,
    modelName: explanation.model.name,
  });
  const parts = [check.notice, truncationNotice].filter((x): x is string => !!x);
  return parts.length ? parts.join(' ') : undefined;
}

export function sentenceSummary(explanation: Explanation, notice: string | undefined): SentenceSummary {
  return { text: explanation.sourceText, translation: explanation.translation, notice };
}

/** Output pieces (without the decoder start token) with the probability the model gave each. */
export function sidebarSentence(explanation: Explanation, notice: string | undefined): SidebarSentence {
  const tokens = explanation.targetPieces.slice(1).map((piece, i) => {
    const p = explanation.steps[i]?.chosenProb;
    return { piece, prob: typeof p === 'number' && Number.isFinite(p) ? p : NaN };
  });
  return { text: explanation.sourceText, translation: explanation.translation, tokens, notice };
}
