/**
 * Tells the user when a translation cannot be trusted because the model cannot read the text: the share
 * of source tokens its vocabulary does not know (`<unk>`), and a source-language check against the
 * languages the model was trained on (its tokenizer config, or an opus-mt folder name): the writing system,
 * and for Latin-script languages a guess from letter trigrams (franc). Pure.
 */
import { francAll } from 'franc-min';

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
  /** Another language the text reads as ("Spanish"), when the guess is confident and the script is the model's. */
  guessedLanguage?: string;
  /** The sentence to show the user, or undefined when nothing is wrong. */
  notice?: string;
}

/** Language names and the scripts their text is written in, for the codes opus-mt models use. */
const LANGUAGES: Record<string, { name: string; scripts: string[]; iso3?: string }> = {
  en: { name: 'English', scripts: ['Latin'], iso3: 'eng' }, es: { name: 'Spanish', scripts: ['Latin'], iso3: 'spa' },
  fr: { name: 'French', scripts: ['Latin'], iso3: 'fra' }, de: { name: 'German', scripts: ['Latin'], iso3: 'deu' },
  it: { name: 'Italian', scripts: ['Latin'], iso3: 'ita' }, pt: { name: 'Portuguese', scripts: ['Latin'], iso3: 'por' },
  nl: { name: 'Dutch', scripts: ['Latin'], iso3: 'nld' }, sv: { name: 'Swedish', scripts: ['Latin'], iso3: 'swe' },
  da: { name: 'Danish', scripts: ['Latin'], iso3: 'dan' }, fi: { name: 'Finnish', scripts: ['Latin'], iso3: 'fin' },
  pl: { name: 'Polish', scripts: ['Latin'], iso3: 'pol' }, cs: { name: 'Czech', scripts: ['Latin'], iso3: 'ces' },
  tr: { name: 'Turkish', scripts: ['Latin'], iso3: 'tur' }, ro: { name: 'Romanian', scripts: ['Latin'], iso3: 'ron' },
  hu: { name: 'Hungarian', scripts: ['Latin'], iso3: 'hun' }, id: { name: 'Indonesian', scripts: ['Latin'], iso3: 'ind' },
  vi: { name: 'Vietnamese', scripts: ['Latin'], iso3: 'vie' }, mg: { name: 'Malagasy', scripts: ['Latin'] },
  ru: { name: 'Russian', scripts: ['Cyrillic'] }, uk: { name: 'Ukrainian', scripts: ['Cyrillic'] }, bg: { name: 'Bulgarian', scripts: ['Cyrillic'] },
  el: { name: 'Greek', scripts: ['Greek'] }, ar: { name: 'Arabic', scripts: ['Arabic'] }, fa: { name: 'Persian', scripts: ['Arabic'] },
  he: { name: 'Hebrew', scripts: ['Hebrew'] }, hi: { name: 'Hindi', scripts: ['Devanagari'] }, zh: { name: 'Chinese', scripts: ['Han'] },
  ja: { name: 'Japanese', scripts: ['Han', 'Hiragana', 'Katakana'] }, ko: { name: 'Korean', scripts: ['Hangul', 'Han'] },
  th: { name: 'Thai', scripts: ['Thai'] },
};

/** The Latin-script languages the trigram guess chooses among, and their codes as franc names them (ISO 639-3). */
const GUESSABLE = Object.values(LANGUAGES).filter((l) => l.iso3);
const GUESSABLE_CODES = GUESSABLE.map((l) => l.iso3!);

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
/**
 * The trigram guess speaks only for texts of at least this many letters, and only when the model's language
 * scores below this fraction of the best language's score. Measured on 400 held-out Tatoeba pairs
 * (test/fixtures/corpus): 1 % of the English sentences are flagged and 58 % of the Spanish ones; a higher
 * threshold catches more Spanish but flags more English, which would teach users to ignore the notice.
 */
export const GUESS_MIN_LETTERS = 25;
export const GUESS_MAX_RELATIVE_SCORE = 0.6;

/** The language the text reads as, when it is confidently not the model's (Latin-script languages only). */
export function guessOtherLanguage(text: string, modelCode: string | undefined): string | undefined {
  const model = modelCode ? LANGUAGES[modelCode] : undefined;
  if (!model?.iso3) return undefined;
  if ((scriptCounts(text).get('Latin') ?? 0) < GUESS_MIN_LETTERS) return undefined;
  const scores = francAll(text, { only: GUESSABLE_CODES, minLength: 1 });
  const best = scores[0];
  const own = scores.find(([code]) => code === model.iso3)?.[1] ?? 0;
  if (!best || best[0] === model.iso3 || own >= GUESS_MAX_RELATIVE_SCORE) return undefined;
  return GUESSABLE.find((l) => l.iso3 === best[0])?.name;
}

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

  const guessedLanguage = foreignScript ? undefined : guessOtherLanguage(input.text, code);

  const parts: string[] = [];
  if (guessedLanguage) parts.push(`this text reads as ${guessedLanguage} (a guess from its letter patterns)`);
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
  return { tokens, unknown, unknownShare, modelLanguage, foreignScript, foreignShare, guessedLanguage, notice };
}
