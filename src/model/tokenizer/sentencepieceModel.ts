/**
 * Reads a SentencePiece `.spm` / `.model` file: a serialized `ModelProto` (sentencepiece_model.proto).
 * Only the fields that change encoding or decoding are kept; every other field is skipped.
 */
import * as protobuf from 'protobufjs/minimal';
import { ModelFileError } from '../loading/errors';

/** `ModelProto.SentencePiece.Type`. */
export const PieceType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

/** `TrainerSpec.ModelType`; only UNIGRAM is implemented. */
export const ModelType = { UNIGRAM: 1, BPE: 2, WORD: 3, CHAR: 4 } as const;

export interface SentencePiece {
  piece: string;
  /** UTF-8 bytes of `piece`, as stored in the file (the tries work on bytes). */
  bytes: Uint8Array;
  /** float32 score (log probability for unigram models). */
  score: number;
  type: number;
}

export interface TrainerSpec {
  modelType: number;
  treatWhitespaceAsSuffix: boolean;
  byteFallback: boolean;
  /** Surface that `Decode` emits for the literal `<unk>` piece. */
  unkSurface: string;
}

export interface NormalizerSpec {
  name: string;
  /** Empty for the identity normalizer. */
  precompiledCharsmap: Uint8Array;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
}

export interface SentencePieceModel {
  pieces: SentencePiece[];
  trainerSpec: TrainerSpec;
  normalizerSpec: NormalizerSpec;
  /** Present only when the file carries a non-empty denormalizer charsmap. */
  denormalizerSpec?: NormalizerSpec;
}

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_LEN = 2;

const utf8 = new TextDecoder('utf-8');

/** Iterates the fields of one message in `[start, end)`, handing known ones to `onField`; unknown fields are skipped. */
function readMessage(
  reader: protobuf.Reader,
  end: number,
  onField: (field: number, wireType: number) => boolean,
): void {
  while (reader.pos < end) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 0) throw new Error(`illegal field number 0 at byte ${reader.pos}`);
    if (!onField(field, wireType)) reader.skipType(wireType, 0, field);
  }
  if (reader.pos !== end) throw new Error('a nested message overruns its declared length');
}

function expectWire(field: number, got: number, want: number, what: string): void {
  if (got !== want) throw new Error(`${what} (field ${field}) has wire type ${got}, expected ${want}`);
}

/** Reads a length prefix and returns the end offset of the nested message, checked against the buffer. */
function nestedEnd(reader: protobuf.Reader): number {
  const len = reader.uint32();
  const end = reader.pos + len;
  if (end > reader.len) throw new Error(`a nested message of ${len} bytes runs past the end of the file`);
  return end;
}

function readPiece(reader: protobuf.Reader): SentencePiece {
  const end = nestedEnd(reader);
  let bytes: Uint8Array = new Uint8Array(0);
  let score = 0;
  let type: number = PieceType.NORMAL;
  readMessage(reader, end, (field, wire) => {
    switch (field) {
      case 1:
        expectWire(field, wire, WIRE_LEN, 'piece');
        bytes = reader.bytes();
        return true;
      case 2:
        expectWire(field, wire, WIRE_FIXED32, 'score');
        score = reader.float();
        return true;
      case 3:
        expectWire(field, wire, WIRE_VARINT, 'type');
        type = reader.int32();
        return true;
      default:
        return false;
    }
  });
  return { piece: utf8.decode(bytes), bytes, score, type };
}

function readTrainerSpec(reader: protobuf.Reader, spec: TrainerSpec): void {
  const end = nestedEnd(reader);
  readMessage(reader, end, (field, wire) => {
    switch (field) {
      case 3:
        expectWire(field, wire, WIRE_VARINT, 'trainer_spec.model_type');
        spec.modelType = reader.int32();
        return true;
      case 24:
        expectWire(field, wire, WIRE_VARINT, 'trainer_spec.treat_whitespace_as_suffix');
        spec.treatWhitespaceAsSuffix = reader.bool();
        return true;
      case 35:
        expectWire(field, wire, WIRE_VARINT, 'trainer_spec.byte_fallback');
        spec.byteFallback = reader.bool();
        return true;
      case 44:
        expectWire(field, wire, WIRE_LEN, 'trainer_spec.unk_surface');
        spec.unkSurface = utf8.decode(reader.bytes());
        return true;
      default:
        return false;
    }
  });
}

function readNormalizerSpec(reader: protobuf.Reader): NormalizerSpec {
  const end = nestedEnd(reader);
  const spec: NormalizerSpec = {
    name: '',
    precompiledCharsmap: new Uint8Array(0),
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
    escapeWhitespaces: true,
  };
  readMessage(reader, end, (field, wire) => {
    switch (field) {
      case 1:
        expectWire(field, wire, WIRE_LEN, 'normalizer_spec.name');
        spec.name = utf8.decode(reader.bytes());
        return true;
      case 2:
        expectWire(field, wire, WIRE_LEN, 'normalizer_spec.precompiled_charsmap');
        spec.precompiledCharsmap = reader.bytes();
        return true;
      case 3:
        expectWire(field, wire, WIRE_VARINT, 'normalizer_spec.add_dummy_prefix');
        spec.addDummyPrefix = reader.bool();
        return true;
      case 4:
        expectWire(field, wire, WIRE_VARINT, 'normalizer_spec.remove_extra_whitespaces');
        spec.removeExtraWhitespaces = reader.bool();
        return true;
      case 5:
        expectWire(field, wire, WIRE_VARINT, 'normalizer_spec.escape_whitespaces');
        spec.escapeWhitespaces = reader.bool();
        return true;
      default:
        return false;
    }
  });
  return spec;
}

/** Parses the wire format; throws plain errors that `parseSentencePieceModel` turns into ModelFileError. */
function decodeModelProto(buf: Uint8Array): SentencePieceModel {
  const reader = protobuf.Reader.create(buf);
  const pieces: SentencePiece[] = [];
  const trainerSpec: TrainerSpec = {
    modelType: ModelType.UNIGRAM,
    treatWhitespaceAsSuffix: false,
    byteFallback: false,
    unkSurface: ' \u2047 ',
  };
  let normalizerSpec: NormalizerSpec | undefined;
  let denormalizerSpec: NormalizerSpec | undefined;
  readMessage(reader, buf.length, (field, wire) => {
    switch (field) {
      case 1:
        expectWire(field, wire, WIRE_LEN, 'pieces');
        pieces.push(readPiece(reader));
        return true;
      case 2:
        expectWire(field, wire, WIRE_LEN, 'trainer_spec');
        readTrainerSpec(reader, trainerSpec);
        return true;
      case 3:
        expectWire(field, wire, WIRE_LEN, 'normalizer_spec');
        normalizerSpec = readNormalizerSpec(reader);
        return true;
      case 5:
        expectWire(field, wire, WIRE_LEN, 'denormalizer_spec');
        denormalizerSpec = readNormalizerSpec(reader);
        return true;
      default:
        return false;
    }
  });
  return {
    pieces,
    trainerSpec,
    // A missing normalizer_spec means all defaults (identity map, dummy prefix, whitespace cleanup).
    normalizerSpec: normalizerSpec ?? {
      name: 'identity',
      precompiledCharsmap: new Uint8Array(0),
      addDummyPrefix: true,
      removeExtraWhitespaces: true,
      escapeWhitespaces: true,
    },
    denormalizerSpec: denormalizerSpec && denormalizerSpec.precompiledCharsmap.length > 0 ? denormalizerSpec : undefined,
  };
}

const BYTE_PIECE = /^<0x([0-9A-F]{2})>$/;

/** Byte value of a `<0xXX>` piece, or -1. */
export function pieceToByte(piece: string): number {
  const m = BYTE_PIECE.exec(piece);
  return m ? parseInt(m[1], 16) : -1;
}

/**
 * Longest piece accepted, user-defined symbols included. Segmentation tries every piece that starts at each
 * position, so the longest piece bounds the work per input byte: with it, encoding stays linear in the input.
 * Real Marian pieces are at most 16 characters (SentencePiece's default max_sentencepiece_length), ≤ 64 bytes.
 */
export const MAX_PIECE_BYTES = 512;

/** The consistency checks SentencePiece runs when loading a model (ModelInterface::InitializePieces). */
function validate(model: SentencePieceModel): string | undefined {
  const { pieces, trainerSpec } = model;
  if (trainerSpec.modelType !== ModelType.UNIGRAM) {
    const name = Object.entries(ModelType).find(([, v]) => v === trainerSpec.modelType)?.[0] ?? String(trainerSpec.modelType);
    return `model type ${name} is not supported (only UNIGRAM SentencePiece models are)`;
  }
  if (pieces.length === 0) return 'contains no sentence pieces (not a SentencePiece model?)';
  const seen = new Set<string>();
  let unkCount = 0;
  const bytesFound = new Set<number>();
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i];
    if (p.bytes.length === 0) return `piece #${i} is empty`;
    if (p.bytes.length > MAX_PIECE_BYTES) {
      return `piece #${i} is ${p.bytes.length} bytes long; at most ${MAX_PIECE_BYTES} are supported (segmentation work grows with the longest piece)`;
    }
    if (p.bytes.includes(0)) return `piece #${i} contains a NUL character`;
    if (p.type < PieceType.NORMAL || p.type > PieceType.BYTE) return `piece #${i} has unknown type ${p.type}`;
    if (!Number.isFinite(p.score)) return `piece #${i} has a non-finite score`;
    // SentencePiece keys pieces by bytes; the decoded string is an equivalent key unless decoding replaced bytes.
    const key = p.piece.includes('\ufffd') ? `\0${Buffer.from(p.bytes).toString('latin1')}` : p.piece;
    if (seen.has(key)) return `piece "${p.piece}" is defined twice`;
    seen.add(key);
    if (p.type === PieceType.UNKNOWN) unkCount++;
    if (p.type === PieceType.BYTE) {
      if (!trainerSpec.byteFallback) return `byte piece ${p.piece} found although byte_fallback is off`;
      const b = pieceToByte(p.piece);
      if (b < 0) return `byte piece ${p.piece} is invalid`;
      bytesFound.add(b);
    }
  }
  if (unkCount === 0) return 'has no <unk> (UNKNOWN) piece';
  if (unkCount > 1) return 'has more than one UNKNOWN piece';
  if (trainerSpec.byteFallback && bytesFound.size !== 256) return 'byte_fallback is on but the 256 byte pieces are not all present';
  return undefined;
}

/** Parses and validates a SentencePiece model; any problem is a ModelFileError naming `file`. */
export function parseSentencePieceModel(file: string, buf: Uint8Array): SentencePieceModel {
  let model: SentencePieceModel;
  try {
    model = decodeModelProto(buf);
  } catch (e) {
    throw new ModelFileError(file, `not a valid SentencePiece model protobuf (${(e as Error).message})`);
  }
  const problem = validate(model);
  if (problem) throw new ModelFileError(file, `SentencePiece model ${problem}`);
  return model;
}
