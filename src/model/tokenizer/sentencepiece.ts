/**
 * A SentencePiece processor (unigram models): normalize → segment → pieces, and pieces → text,
 * following sentencepiece_processor.cc.
 */
import { ModelFileError } from '../loading/errors';
import { ByteTrie } from './byteTrie';
import { Alignment, CharsmapLimitError, Normalizer } from './normalizer';
import { PieceType, parseSentencePieceModel, pieceToByte, type SentencePieceModel } from './sentencepieceModel';
import { UnigramModel } from './unigram';
import { decodeUtf8, encodeUtf8, validCharLen } from './utf8';

export interface EncodedPiece {
  /** The piece text; for unknown text this is the normalized surface, not `<unk>`. */
  piece: string;
  /** The spm piece index (not a Marian vocab id). */
  id: number;
}

const SPACE_SYMBOL = '\u2581';

export class SentencePieceProcessor {
  private readonly normalizer: Normalizer;
  private readonly denormalizer?: Normalizer;
  private readonly unigram: UnigramModel;
  private readonly ids = new Map<string, number>();
  readonly unkId: number;

  private constructor(readonly model: SentencePieceModel, private readonly file: string) {
    const { pieces, trainerSpec } = model;
    const userDefined = new ByteTrie();
    pieces.forEach((p, id) => {
      if (!this.ids.has(p.piece)) this.ids.set(p.piece, id);
      if (p.type === PieceType.USER_DEFINED) userDefined.insert(p.bytes, id);
    });
    this.unkId = pieces.findIndex((p) => p.type === PieceType.UNKNOWN);
    try {
      this.normalizer = new Normalizer(model.normalizerSpec, {
        treatWhitespaceAsSuffix: trainerSpec.treatWhitespaceAsSuffix,
        userDefined,
      });
      if (model.denormalizerSpec) this.denormalizer = new Normalizer(model.denormalizerSpec);
    } catch (e) {
      throw new ModelFileError(file, (e as Error).message);
    }
    this.unigram = new UnigramModel(pieces, this.unkId);
  }

  /** Parses a model file's bytes; problems are ModelFileErrors naming `file`. */
  static fromBuffer(file: string, buf: Uint8Array): SentencePieceProcessor {
    return new SentencePieceProcessor(parseSentencePieceModel(file, buf), file);
  }

  get size(): number {
    return this.model.pieces.length;
  }

  idToPiece(id: number): string | undefined {
    return this.model.pieces[id]?.piece;
  }

  /** Like SentencePiece: control/unknown/byte pieces first, then normal ones, else the unk id. */
  pieceToId(piece: string): number {
    return this.ids.get(piece) ?? this.unkId;
  }

  private typeOf(id: number): number {
    return this.model.pieces[id]?.type ?? PieceType.NORMAL;
  }

  normalize(text: string): string {
    return decodeUtf8(this.normalized(encodeUtf8(text)));
  }

  /**
   * Encodes text as SentencePiece `Encode` does without sampling: runs of unknown characters are merged
   * into one unknown piece, or split into `<0xXX>` byte pieces when the model has byte fallback.
   */
  encode(text: string): EncodedPiece[] {
    return this.encodeImpl(text);
  }

  /**
   * `encode` plus, for each piece, the [start, end) UTF-16 range of `text` it stands for (see `pushSpan`).
   * Spans are non-decreasing and never overlap.
   */
  encodeWithOffsets(text: string): { pieces: EncodedPiece[]; offsets: Array<[number, number]> } {
    const offsets: Array<[number, number]> = [];
    return { pieces: this.encodeImpl(text, offsets), offsets };
  }

  /** One code path for both: the offset bookkeeping only runs when `offsets` is given. */
  private encodeImpl(text: string, offsets?: Array<[number, number]>): EncodedPiece[] {
    const input = encodeUtf8(text);
    const align = offsets ? new Alignment() : undefined;
    const normalized = this.normalized(input, align);
    const out: EncodedPiece[] = [];
    // Input byte ranges of the pieces, converted to UTF-16 at the end.
    const spans: number[] = [];
    let prevUnk = false;
    for (const seg of this.unigram.encode(normalized)) {
      const isUnk = seg.id === this.unkId;
      if (!isUnk) {
        out.push({ piece: this.model.pieces[seg.id].piece, id: seg.id });
        if (align) pushSpan(spans, normalized, align, seg.start, seg.end);
      } else if (this.model.trainerSpec.byteFallback) {
        for (let i = seg.start; i < seg.end; i++) {
          const piece = `<0x${normalized[i].toString(16).toUpperCase().padStart(2, '0')}>`;
          out.push({ piece, id: this.pieceToId(piece) });
          // Every byte piece gets the character's span; the overlap pass leaves it to the first one.
          if (align) pushSpan(spans, normalized, align, seg.start, seg.end);
        }
      } else {
        const surface = decodeUtf8(normalized.subarray(seg.start, seg.end));
        if (prevUnk) {
          out[out.length - 1].piece += surface;
          if (align) spans[spans.length - 1] = align.end[seg.end - 1];
        } else {
          out.push({ piece: surface, id: seg.id });
          if (align) pushSpan(spans, normalized, align, seg.start, seg.end);
        }
      }
      prevUnk = isUnk;
    }
    if (offsets) toUtf16Spans(text, input.length, spans, offsets);
    return out;
  }

  /** The normalizer's output; a charsmap that exceeds its bounds on this text is reported against the .spm file. */
  private normalized(input: Uint8Array, align?: Alignment, normalizer = this.normalizer): Uint8Array {
    try {
      return normalizer.normalize(input, align);
    } catch (e) {
      if (e instanceof CharsmapLimitError) throw new ModelFileError(this.file, e.message);
      throw e;
    }
  }

  /** SentencePiece `DecodePieces`: pieces → text (unknown pieces are kept verbatim, control pieces vanish). */
  decodePieces(pieces: readonly string[]): string {
    const { normalizerSpec, trainerSpec } = this.model;
    const stripsBosSpace = normalizerSpec.addDummyPrefix || normalizerSpec.removeExtraWhitespaces;
    let text = '';
    let isBosWs = true;
    let bosWsSeen = false;
    let bytes: number[] = [];

    const flushBytes = (): void => {
      if (bytes.length === 0) return;
      const buf = Uint8Array.from(bytes);
      for (let i = 0; i < buf.length; ) {
        const len = validCharLen(buf, i, buf.length);
        text += len === 0 ? '\ufffd' : decodeUtf8(buf.subarray(i, i + len));
        i += len === 0 ? 1 : len;
      }
      bytes = [];
    };

    for (const piece of pieces) {
      const id = this.pieceToId(piece);
      const type = this.typeOf(id);
      if (type === PieceType.BYTE) {
        bytes.push(pieceToByte(piece));
        continue;
      }
      flushBytes();
      if (bosWsSeen || text !== '') isBosWs = false;
      bosWsSeen = false;
      if (type === PieceType.CONTROL) continue;
      if (type === PieceType.UNKNOWN) {
        text += piece === this.idToPiece(id) ? trainerSpec.unkSurface : piece;
        continue;
      }
      let p = piece;
      if (isBosWs && stripsBosSpace && p.startsWith(SPACE_SYMBOL)) {
        p = p.slice(1);
        // With whitespace cleanup every leading space piece is stripped, not only the first.
        bosWsSeen = !normalizerSpec.removeExtraWhitespaces;
      }
      text += p.replaceAll(SPACE_SYMBOL, ' ');
    }
    flushBytes();
    return this.denormalizer ? decodeUtf8(this.normalized(encodeUtf8(text), undefined, this.denormalizer)) : text;
  }
}

const isSpaceAt = (b: Uint8Array, i: number, end: number): number => {
  if (b[i] === 0x20) return 1;
  return i + 3 <= end && b[i] === 0xe2 && b[i + 1] === 0x96 && b[i + 2] === 0x81 ? 3 : 0;
};

/**
 * Input byte range of the normalized bytes [start, end) of one piece: that of its characters other than
 * whitespace (`▁` or a space), so `▁lion` covers "lion" and not the space before it; a piece made only of
 * whitespace covers the whitespace it stands for.
 */
function pushSpan(spans: number[], bytes: Uint8Array, align: Alignment, start: number, end: number): void {
  let first = start;
  for (let n; first < end && (n = isSpaceAt(bytes, first, end)) > 0; ) first += n;
  if (first === end) {
    spans.push(align.start[start], align.end[end - 1]);
    return;
  }
  let last = end;
  for (;;) {
    if (last - 3 > first && bytes[last - 3] === 0xe2 && bytes[last - 2] === 0x96 && bytes[last - 1] === 0x81) last -= 3;
    else if (last - 1 > first && bytes[last - 1] === 0x20) last -= 1;
    else break;
  }
  spans.push(align.start[first], align.end[last - 1]);
}

/**
 * Converts input byte ranges to UTF-16 ranges of `text` and makes them non-overlapping: a range that starts
 * inside its predecessor (two pieces from one input character, e.g. `ﬁ` → `f` `i`, or byte pieces) starts
 * at the predecessor's end instead, so the character belongs to the first piece.
 */
function toUtf16Spans(text: string, byteLength: number, spans: number[], offsets: Array<[number, number]>): void {
  // utf16At[b]: the UTF-16 offset of the character that contains input byte b (as TextEncoder encoded it).
  const utf16At = new Int32Array(byteLength + 1);
  let b = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let len: number;
    let units = 1;
    if (c < 0x80) len = 1;
    else if (c < 0x800) len = 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      len = 4;
      units = 2;
    } else len = 3; // BMP character, or a lone surrogate encoded as U+FFFD
    for (const stop = b + len; b < stop; b++) utf16At[b] = i;
    i += units - 1;
  }
  utf16At[byteLength] = text.length;
  let prevEnd = 0;
  for (let k = 0; k < spans.length; k += 2) {
    const start = Math.max(prevEnd, utf16At[spans[k]]);
    const end = Math.max(start, spans[k + 1] >= byteLength ? text.length : utf16At[spans[k + 1]]);
    offsets.push([start, end]);
    prevEnd = end;
  }
}
