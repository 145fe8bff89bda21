/**
 * Hugging Face `MarianTokenizer` (transformers 5.x, without the optional Moses punctuation normalizer):
 * SentencePiece pieces from source.spm / target.spm, ids from vocab.json (not the spm indices).
 */
import { join } from 'node:path';
import { jsonSyntaxProblem } from '../../shared/safeText';
import { ModelFileError } from '../loading/errors';
import { FILE_CAPS, entryExists, readSmallModelFile } from '../loading/files';
import { SentencePieceProcessor } from './sentencepiece';

export interface MarianTokenizerFiles {
  sourceSpm: Uint8Array;
  targetSpm: Uint8Array;
  vocabJson: Uint8Array | string;
  /** Only used when the config says `separate_vocabs: true`. */
  targetVocabJson?: Uint8Array | string;
  /** tokenizer_config.json, optional. */
  tokenizerConfigJson?: Uint8Array | string;
  /**
   * config.json's vocab_size, when known: vocab.json (and target_vocab.json) may not have more entries nor any id
   * at or above it, checked before any map is built from them.
   */
  vocabSize?: number;
  /** File names used in error messages. */
  names?: Partial<Record<'sourceSpm' | 'targetSpm' | 'vocab' | 'targetVocab' | 'tokenizerConfig', string>>;
}

export interface Encoding {
  ids: number[];
  /** Vocabulary tokens of `ids` (unknown text shows as `<unk>`), ending with `</s>`. */
  pieces: string[];
}

export interface EncodingWithOffsets extends Encoding {
  /**
   * For each piece, the [start, end) UTF-16 range of the original text it stands for: a word piece's
   * characters without the space before it (`▁lion` in "The lion" → [4, 8]), whitespace for a piece that is
   * only `▁` (empty at the next character for the dummy prefix), the characters an `<unk>` replaced, and
   * [len, len] for the appended `</s>`. Ranges are non-decreasing and never overlap.
   */
  offsets: Array<[number, number]>;
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
}

const LANGUAGE_CODE = /^>>.+<<$/;

/**
 * Longest special token (eos/unk/pad from tokenizer_config.json) accepted: the text is searched for each of them
 * at every position, so their length bounds the cost per character (real ones: `</s>`, `<unk>`, `<pad>`).
 */
const MAX_SPECIAL_TOKEN_CHARS = 256;

const asText = (data: Uint8Array | string): string =>
  typeof data === 'string' ? data : new TextDecoder('utf-8').decode(data);

function parseJsonObject(file: string, data: Uint8Array | string, what: string, text = asText(data)): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(file, `${what} is not valid JSON (${jsonSyntaxProblem(e, text)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ModelFileError(file, `${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Later entries win on duplicate ids, as with Python's `{v: k for k, v in vocab.items()}`. */
function invert(vocab: Map<string, number>): Map<number, string> {
  const out = new Map<number, string>();
  for (const [piece, id] of vocab) out.set(id, piece);
  return out;
}

/** Longest vocabulary file per entry of vocab_size (real ones use about 20 bytes an entry). */
const MAX_VOCAB_BYTES_PER_ENTRY = 1024;

/**
 * Entries of the top-level JSON object in `text` (its commas at depth 1, plus one), counted in one pass without
 * building anything, so an oversized vocabulary is refused before JSON.parse makes millions of keys. Only a
 * bound: a malformed text is reported by JSON.parse afterwards.
 */
function countTopLevelEntries(text: string): number {
  let depth = 0, commas = 0, inString = false, any = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      if (depth === 1) any = true;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2c && depth === 1) commas++;
  }
  return any ? commas + 1 : 0;
}

function parseVocab(file: string, data: Uint8Array | string, required: readonly string[], vocabSize?: number): Map<string, number> {
  if (vocabSize !== undefined) {
    const bytes = typeof data === 'string' ? data.length : data.byteLength;
    const cap = vocabSize * MAX_VOCAB_BYTES_PER_ENTRY + 1024 * 1024;
    if (bytes > cap) throw new ModelFileError(file, `is ${bytes} bytes, more than a vocabulary of config.json's vocab_size ${vocabSize} can take (at most ${cap})`);
  }
  const text = asText(data);
  if (vocabSize !== undefined) {
    const entries = countTopLevelEntries(text);
    if (entries > vocabSize) throw new ModelFileError(file, `has ${entries} entries but config.json's vocab_size is ${vocabSize}`);
  }
  const obj = parseJsonObject(file, data, 'vocabulary', text);
  const vocab = new Map<string, number>();
  for (const [piece, id] of Object.entries(obj)) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      throw new ModelFileError(file, `vocabulary entry ${JSON.stringify(piece)} maps to ${JSON.stringify(id)}, not a non-negative integer id`);
    }
    if (vocabSize !== undefined && id >= vocabSize) {
      throw new ModelFileError(file, `vocabulary entry ${JSON.stringify(piece)} has id ${id}, outside config.json's vocab_size of ${vocabSize} (is this vocab.json from another checkpoint?)`);
    }
    vocab.set(piece, id);
  }
  for (const token of required) {
    if (!vocab.has(token)) throw new ModelFileError(file, `vocabulary has no ${token} entry`);
  }
  return vocab;
}

/** A special-token setting is either a string or an AddedToken-like `{content}` object. */
function tokenSetting(config: Record<string, unknown>, key: string, fallback: string): string {
  const v = config[key];
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string') {
    return (v as { content: string }).content;
  }
  return fallback;
}

/** Python's `str.strip()` whitespace set: JS `\s` without U+FEFF, plus U+001C–U+001F and U+0085. */
const PY_WS = '[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const PY_STRIP = new RegExp(`^${PY_WS}+|${PY_WS}+$`, 'g');
const pyStrip = (s: string): string => s.replace(PY_STRIP, '');

/** transformers' `clean_up_tokenization` (only applied when the config asks for it). */
function cleanUpTokenization(s: string): string {
  return s
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

export class MarianTokenizer {
  readonly eosToken: string;
  readonly unkToken: string;
  readonly padToken: string;
  readonly eosId: number;
  readonly unkId: number;
  readonly padId: number;
  /** `>>xx<<` target-language tokens of a multilingual model (empty for separate vocabularies). */
  readonly languageCodes: string[];

  private readonly source: SentencePieceProcessor;
  private readonly target: SentencePieceProcessor;
  private readonly encoder: Map<string, number>;
  private readonly targetEncoder: Map<string, number>;
  /** id → token for each side (HF's `decoder` is the target one). */
  private readonly sourceTokens: Map<number, string>;
  private readonly targetTokens: Map<number, string>;
  private readonly separateVocabs: boolean;
  private readonly cleanUpSpaces: boolean;
  private readonly specialTokens: string[];
  private readonly specialIds: Set<number>;
  private readonly specialById = new Map<number, string>();

  private constructor(files: MarianTokenizerFiles) {
    const names = {
      sourceSpm: 'source.spm',
      targetSpm: 'target.spm',
      vocab: 'vocab.json',
      targetVocab: 'target_vocab.json',
      tokenizerConfig: 'tokenizer_config.json',
      ...files.names,
    };
    const config = files.tokenizerConfigJson
      ? parseJsonObject(names.tokenizerConfig, files.tokenizerConfigJson, 'tokenizer config')
      : {};
    this.eosToken = tokenSetting(config, 'eos_token', '</s>');
    this.unkToken = tokenSetting(config, 'unk_token', '<unk>');
    this.padToken = tokenSetting(config, 'pad_token', '<pad>');
    this.specialTokens = [this.eosToken, this.unkToken, this.padToken];
    this.separateVocabs = config.separate_vocabs === true;
    this.cleanUpSpaces = config.clean_up_tokenization_spaces === true;

    for (const token of this.specialTokens) {
      if (token.length > MAX_SPECIAL_TOKEN_CHARS) {
        throw new ModelFileError(names.tokenizerConfig, `a special token is ${token.length} characters long; at most ${MAX_SPECIAL_TOKEN_CHARS} are supported`);
      }
    }

    this.encoder = parseVocab(names.vocab, files.vocabJson, this.specialTokens, files.vocabSize);
    if (this.separateVocabs) {
      if (files.targetVocabJson === undefined) {
        throw new ModelFileError(names.targetVocab, 'is missing although the tokenizer config sets separate_vocabs');
      }
      this.targetEncoder = parseVocab(names.targetVocab, files.targetVocabJson, [], files.vocabSize);
    } else {
      this.targetEncoder = this.encoder;
    }
    this.sourceTokens = invert(this.encoder);
    this.targetTokens = this.separateVocabs ? invert(this.targetEncoder) : this.sourceTokens;
    this.languageCodes = this.separateVocabs ? [] : [...this.encoder.keys()].filter((k) => LANGUAGE_CODE.test(k));

    this.eosId = this.encoder.get(this.eosToken)!;
    this.unkId = this.encoder.get(this.unkToken)!;
    this.padId = this.encoder.get(this.padToken)!;
    for (const token of this.specialTokens) this.specialById.set(this.encoder.get(token)!, token);
    this.specialIds = new Set(this.specialById.keys());

    this.source = SentencePieceProcessor.fromBuffer(names.sourceSpm, files.sourceSpm);
    this.target = SentencePieceProcessor.fromBuffer(names.targetSpm, files.targetSpm);
  }

  static fromBuffers(files: MarianTokenizerFiles): MarianTokenizer {
    return new MarianTokenizer(files);
  }

  /**
   * Loads source.spm, target.spm, vocab.json (and tokenizer_config.json when present, and target_vocab.json when it
   * says separate_vocabs). Every file is checked and size-capped before it is read (see loading/files.ts).
   */
  static fromFolder(dir: string, opts: { vocabSize?: number } = {}): MarianTokenizer {
    const read = (name: string, cap: number, purpose: string): Buffer => readSmallModelFile(join(dir, name), cap, purpose);
    const optional = (name: string, cap: number, purpose: string): Buffer | undefined =>
      entryExists(join(dir, name)) ? read(name, cap, purpose) : undefined;
    const tokenizerConfigJson = optional('tokenizer_config.json', FILE_CAPS.json, 'tokenizer configuration');
    let separate = false;
    try {
      separate = tokenizerConfigJson !== undefined && JSON.parse(tokenizerConfigJson.toString('utf8'))?.separate_vocabs === true;
    } catch {
      // reported with the file's name by the constructor
    }
    return new MarianTokenizer({
      sourceSpm: read('source.spm', FILE_CAPS.spm, 'SentencePiece model'),
      targetSpm: read('target.spm', FILE_CAPS.spm, 'SentencePiece model'),
      vocabJson: read('vocab.json', FILE_CAPS.vocab, 'vocabulary'),
      // an unused target_vocab.json is never opened
      targetVocabJson: separate ? optional('target_vocab.json', FILE_CAPS.vocab, 'vocabulary') : undefined,
      tokenizerConfigJson,
      vocabSize: opts.vocabSize,
      names: {
        sourceSpm: join(dir, 'source.spm'),
        targetSpm: join(dir, 'target.spm'),
        vocab: join(dir, 'vocab.json'),
        targetVocab: join(dir, 'target_vocab.json'),
        tokenizerConfig: join(dir, 'tokenizer_config.json'),
      },
    });
  }

  /** Number of entries in the source vocabulary (HF `vocab_size`). */
  get vocabSize(): number {
    return this.encoder.size;
  }

  /** Source-side encoding, ending with `</s>`. */
  encode(text: string): Encoding {
    return this.encodeWith(text, this.source, this.encoder);
  }

  /** `encode` plus each piece's range in `text`; same ids and pieces as `encode`. */
  encodeWithOffsets(text: string): EncodingWithOffsets {
    const offsets: Array<[number, number]> = [];
    return { ...this.encodeWith(text, this.source, this.encoder, offsets), offsets };
  }

  /** Target-side encoding (labels), ending with `</s>`. */
  encodeTarget(text: string): Encoding {
    return this.encodeWith(text, this.target, this.targetEncoder);
  }

  pieceToId(piece: string): number {
    return this.encoder.get(piece) ?? this.unkId;
  }

  /** Token string of an id on the decoding side (`<unk>` for ids outside the vocabulary). */
  idToPiece(id: number): string {
    return this.specialById.get(id) ?? this.targetTokens.get(id) ?? this.unkToken;
  }

  /** HF `decode`: vocabulary tokens → SentencePiece DecodePieces per run between special tokens. */
  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    const specials = new Set(this.specialTokens);
    // transformers 5 decodes shared-vocabulary models with the source spm (use_source_tokenizer defaults to
    // `not separate_vocabs`); the two spm files of a shared vocabulary decode the same pieces the same way.
    const spm = this.separateVocabs ? this.target : this.source;
    let out = '';
    let run: string[] = [];
    for (const id of ids) {
      if (opts.skipSpecialTokens && this.specialIds.has(id)) continue;
      const token = this.idToPiece(id);
      if (specials.has(token)) {
        out += spm.decodePieces(run) + token + ' ';
        run = [];
      } else {
        run.push(token);
      }
    }
    out += spm.decodePieces(run);
    out = pyStrip(out.replaceAll('\u2581', ' '));
    return this.cleanUpSpaces ? cleanUpTokenization(out) : out;
  }

  /** With `offsets`, also pushes each piece's range in `text` (the offset work is skipped otherwise). */
  private encodeWith(
    text: string,
    spm: SentencePieceProcessor,
    vocab: Map<string, number>,
    offsets?: Array<[number, number]>,
  ): Encoding {
    const pieces: string[] = [];
    for (const chunk of this.splitOnSpecialTokens(text)) {
      if (chunk.special) {
        pieces.push(chunk.text);
        offsets?.push([chunk.at, chunk.at + chunk.text.length]);
        continue;
      }
      let rest = chunk.text;
      let at = chunk.at;
      // A leading ">>xx<<" language code becomes its own token (MarianTokenizer.remove_language_code).
      const codeEnd = rest.startsWith('>>') ? rest.indexOf('<<') : -1;
      if (codeEnd !== -1) {
        pieces.push(rest.slice(0, codeEnd + 2));
        offsets?.push([at, at + codeEnd + 2]);
        rest = rest.slice(codeEnd + 2);
        at += codeEnd + 2;
      }
      if (offsets) {
        const enc = spm.encodeWithOffsets(rest);
        for (const p of enc.pieces) pieces.push(p.piece);
        for (const o of enc.offsets) {
          o[0] += at;
          o[1] += at;
          offsets.push(o);
        }
      } else {
        for (const p of spm.encode(rest)) pieces.push(p.piece);
      }
    }
    const ids = pieces.map((p) => this.specialIdOf(p) ?? vocab.get(p) ?? this.unkId);
    ids.push(this.eosId);
    offsets?.push([text.length, text.length]);
    const tokens = vocab === this.encoder ? this.sourceTokens : this.targetTokens;
    return { ids, pieces: ids.map((id) => this.specialById.get(id) ?? tokens.get(id) ?? this.unkToken) };
  }

  private specialIdOf(token: string): number | undefined {
    return this.specialTokens.includes(token) ? this.encoder.get(token) : undefined;
  }

  /** Splits out literal special tokens (`</s>`, `<unk>`, `<pad>`), which HF never passes to SentencePiece. */
  private splitOnSpecialTokens(text: string): Array<{ text: string; special: boolean; at: number }> {
    const out: Array<{ text: string; special: boolean; at: number }> = [];
    let last = 0;
    for (let i = 0; i < text.length; ) {
      // Longest special token starting here (HF's added-token trie).
      let token: string | undefined;
      for (const t of this.specialTokens) {
        if (t !== '' && text.startsWith(t, i) && (token === undefined || t.length > token.length)) token = t;
      }
      if (token === undefined) {
        i++;
        continue;
      }
      if (i > last) out.push({ text: text.slice(last, i), special: false, at: last });
      out.push({ text: token, special: true, at: i });
      i += token.length;
      last = i;
    }
    if (last < text.length) out.push({ text: text.slice(last), special: false, at: last });
    return out;
  }
}
