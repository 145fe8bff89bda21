/**
 * Tells the user when a translation cannot be trusted because the model cannot read the text: the share
 * of source tokens its vocabulary does not know (`<unk>`), and a source-language check against the
 * languages the model was trained on (its tokenizer config, or an opus-mt folder name). Pure.
 */

export interface SourceCheckInput {
  /** The text as sent to the model. */
  text: string;
  /** Source pieces as the explanation lists them (ending with "</s>"). */
  pieces: readonly string[];
  /** Source language code of the model ("en"), when known. */
  sourceLang?: string;
  /** Model name (folder name); an `opus-mt-xx-yy` name gives the source language when the config does not. */
  modelName?: string;
  /** The vocabulary's unknown token; Marian's is "<unk>". */
  unkPiece?: string;
}

export interface SourceCheck {
  /** Content tokens (no "</s>", no lone "▁" word-start marker). */
  tokens: number;
  /** How many of them are the unknown token. */
  unknown: number;
  /** unknown / tokens (0 when there are no tokens). */
  unknownShare: number;
  /** The model's source language as a name ("English"), when known. */
  modelLanguage?: string;
  /** The writing system most of the text's letters are in ("Han"), when it is not one the model reads. */
  foreignScript?: string;
  /** Share of the text's letters in that foreign script. */
  foreignShare: number;
  /** The sentence to show the user, or undefined when nothing is wrong. */
  notice?: string;
}

/** Language names and the scripts their text is written in, for the codes opus-mt models use. */
const LANGUAGES: Record<string, { name: string; scripts: string[] }> = {
  en: { name: 'English', scripts: ['Latin'] }, es: { name: 'Spanish', scripts: ['Latin'] }, fr: { name: 'French', scripts: ['Latin'] },
  de: { name: 'German', scripts: ['Latin'] }, it: { name: 'Italian', scripts: ['Latin'] }, pt: { name: 'Portuguese', scripts: ['Latin'] },
  nl: { name: 'Dutch', scripts: ['Latin'] }, sv: { name: 'Swedish', scripts: ['Latin'] }, da: { name: 'Danish', scripts: ['Latin'] },
  fi: { name: 'Finnish', scripts: ['Latin'] }, pl: { name: 'Polish', scripts: ['Latin'] }, cs: { name: 'Czech', scripts: ['Latin'] },
  tr: { name: 'Turkish', scripts: ['Latin'] }, ro: { name: 'Romanian', scripts: ['Latin'] }, hu: { name: 'Hungarian', scripts: ['Latin'] },
  id: { name: 'Indonesian', scripts: ['Latin'] }, vi: { name: 'Vietnamese', scripts: ['Latin'] }, mg: { name: 'Malagasy', scripts: ['Latin'] },
  ru: { name: 'Russian', scripts: ['Cyrillic'] }, uk: { name: 'Ukrainian', scripts: ['Cyrillic'] }, bg: { name: 'Bulgarian', scripts: ['Cyrillic'] },
  el: { name: 'Greek', scripts: ['Greek'] }, ar: { name: 'Arabic', scripts: ['Arabic'] }, fa: { name: 'Persian', scripts: ['Arabic'] },
  he: { name: 'Hebrew', scripts: ['Hebrew'] }, hi: { name: 'Hindi', scripts: ['Devanagari'] }, zh: { name: 'Chinese', scripts: ['Han'] },
  ja: { name: 'Japanese', scripts: ['Han', 'Hiragana', 'Katakana'] }, ko: { name: 'Korean', scripts: ['Hangul', 'Han'] },
  th: { name: 'Thai', scripts: ['Thai'] },
};

const SCRIPTS = ['Latin', 'Cyrillic', 'Greek', 'Arabic', 'Hebrew', 'Devanagari', 'Han', 'Hiragana', 'Katakana', 'Hangul', 'Thai'] as const;
const SCRIPT_RE = new Map(SCRIPTS.map((s) => [s, new RegExp(`\\p{Script=${s}}`, 'u')]));
const SCRIPT_NOTE: Record<string, string> = { Han: 'Chinese characters', Hiragana: 'Japanese kana', Katakana: 'Japanese kana', Hangul: 'Korean Hangul' };

/** The model's source language code: the tokenizer config's, else the first part of an opus-mt name. */
export function modelSourceLanguage(sourceLang: string | undefined, modelName: string | undefined): string | undefined {
  if (sourceLang && sourceLang.trim()) return sourceLang.trim().toLowerCase();
  const m = /opus-mt-([a-z]{2,3})-/i.exec(modelName ?? '');
  return m ? m[1].toLowerCase() : undefined;
}

/** Counts the letters of `text` per script (letters in none of the listed scripts count as "other"). */
export function scriptCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const ch of text) {
    if (!/\p{L}/u.test(ch)) continue;
    const script = SCRIPTS.find((s) => SCRIPT_RE.get(s)!.test(ch)) ?? 'other';
    counts.set(script, (counts.get(script) ?? 0) + 1);
  }
  return counts;
}

const percent = (x: number): string => `${Math.round(x * 100)} %`;

/** Above this share of unknown tokens, or of letters in a script the model does not read, the user is told. */
export const UNKNOWN_NOTICE_SHARE = 0.05;
export const FOREIGN_NOTICE_SHARE = 0.3;

export function checkSource(input: SourceCheckInput): SourceCheck {
  const unk = input.unkPiece ?? '<unk>';
  const content = input.pieces.filter((p) => p !== '</s>' && p !== '▁' && !/^>>.+<<$/.test(p));
  const unknown = content.filter((p) => p === unk).length;
  const tokens = content.length;
  const unknownShare = tokens > 0 ? unknown / tokens : 0;

  const code = modelSourceLanguage(input.sourceLang, input.modelName);
  const lang = code ? LANGUAGES[code] : undefined;
  const modelLanguage = lang?.name ?? code;
  let foreignScript: string | undefined;
  let foreignShare = 0;
  if (lang) {
    const counts = scriptCounts(input.text);
    let letters = 0;
    for (const n of counts.values()) letters += n;
    let best: [string, number] | undefined;
    for (const [script, n] of counts) if (!lang.scripts.includes(script) && (!best || n > best[1])) best = [script, n];
    if (best && letters > 0) {
      foreignShare = best[1] / letters;
      if (foreignShare >= FOREIGN_NOTICE_SHARE) foreignScript = best[0];
    }
  }

  const parts: string[] = [];
  if (foreignScript) {
    const what = foreignScript === 'other' ? 'a writing system' : `${foreignScript} script${SCRIPT_NOTE[foreignScript] ? ` (${SCRIPT_NOTE[foreignScript]})` : ''}`;
    parts.push(`${percent(foreignShare)} of the text's letters are in ${what}, which the model was not trained on`);
  }
  if (unknown > 0 && unknownShare >= UNKNOWN_NOTICE_SHARE) {
    parts.push(`${percent(unknownShare)} of this text is unknown to its vocabulary (${unknown} of ${tokens} tokens are <unk>)`);
  }
  let notice: string | undefined;
  if (parts.length > 0) {
    const head = modelLanguage ? `This model translates ${modelLanguage}` : 'This model';
    notice = `${head}; ${parts.join('; ')}. Expect a wrong translation.`;
  }
  return { tokens, unknown, unknownShare, modelLanguage, foreignScript, foreignShare, notice };
}
