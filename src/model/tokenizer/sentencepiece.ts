/**
 * A SentencePiece processor (unigram models): normalize → segment → pieces, and pieces → text,
 * following sentencepiece_processor.cc.
 */
import { ModelFileError } from '../errors';
import { ByteTrie } from './byteTrie';
import { Normalizer } from './normalizer';
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

  private constructor(readonly model: SentencePieceModel, file: string) {
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
    return this.normalizer.normalizeText(text);
  }

  /**
   * Encodes text as SentencePiece `Encode` does without sampling: runs of unknown characters are merged
   * into one unknown piece, or split into `<0xXX>` byte pieces when the model has byte fallback.
   */
  encode(text: string): EncodedPiece[] {
    const normalized = this.normalizer.normalize(encodeUtf8(text));
    const out: EncodedPiece[] = [];
    let prevUnk = false;
    for (const seg of this.unigram.encode(normalized)) {
      const isUnk = seg.id === this.unkId;
      if (!isUnk) {
        out.push({ piece: this.model.pieces[seg.id].piece, id: seg.id });
      } else if (this.model.trainerSpec.byteFallback) {
        for (let i = seg.start; i < seg.end; i++) {
          const piece = `<0x${normalized[i].toString(16).toUpperCase().padStart(2, '0')}>`;
          out.push({ piece, id: this.pieceToId(piece) });
        }
      } else {
        const surface = decodeUtf8(normalized.subarray(seg.start, seg.end));
        if (prevUnk) out[out.length - 1].piece += surface;
        else out.push({ piece: surface, id: seg.id });
      }
      prevUnk = isUnk;
    }
    return out;
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
    return this.denormalizer ? this.denormalizer.normalizeText(text) : text;
  }
}
