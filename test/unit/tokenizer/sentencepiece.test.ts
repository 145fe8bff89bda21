/** SentencePiece pieces the goldens do not reach: identity normalizer, user-defined/unused/control pieces, byte fallback, file checks. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as protobuf from 'protobufjs/minimal';
import { ModelFileError } from '../../../src/model/loading/errors';
import { Alignment, Normalizer } from '../../../src/model/tokenizer/normalizer';
import { SentencePieceProcessor } from '../../../src/model/tokenizer/sentencepiece';
import { PieceType, type NormalizerSpec } from '../../../src/model/tokenizer/sentencepieceModel';

const { NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE } = PieceType;

interface ModelOptions {
  pieces: Array<[string, number, number?]>;
  modelType?: number;
  byteFallback?: boolean;
  charsmap?: Uint8Array;
  removeExtraWhitespaces?: boolean;
  treatWhitespaceAsSuffix?: boolean;
  /** Extra raw fields, to check that unknown fields are skipped. */
  unknownFields?: boolean;
}

/** Writes a ModelProto with protobufjs (field numbers from sentencepiece_model.proto). */
function buildModel(o: ModelOptions): Uint8Array {
  const w = protobuf.Writer.create();
  for (const [piece, score, type] of o.pieces) {
    w.uint32((1 << 3) | 2).fork();
    w.uint32((1 << 3) | 2).string(piece);
    w.uint32((2 << 3) | 5).float(score);
    if (type !== undefined) w.uint32((3 << 3) | 0).int32(type);
    if (o.unknownFields) w.uint32((200 << 3) | 0).int32(7);
    w.ldelim();
  }
  w.uint32((2 << 3) | 2).fork();
  w.uint32((3 << 3) | 0).int32(o.modelType ?? 1);
  w.uint32((4 << 3) | 0).int32(o.pieces.length);
  if (o.byteFallback) w.uint32((35 << 3) | 0).bool(true);
  if (o.treatWhitespaceAsSuffix) w.uint32((24 << 3) | 0).bool(true);
  w.ldelim();
  w.uint32((3 << 3) | 2).fork();
  w.uint32((1 << 3) | 2).string(o.charsmap ? 'custom' : 'identity');
  if (o.charsmap) w.uint32((2 << 3) | 2).bytes(o.charsmap);
  if (o.removeExtraWhitespaces === false) w.uint32((4 << 3) | 0).bool(false);
  w.ldelim();
  if (o.unknownFields) {
    w.uint32((4 << 3) | 2).fork().uint32((1 << 3) | 2).string('self test data is ignored').ldelim();
    w.uint32((99 << 3) | 1).fixed64(12345);
  }
  return w.finish();
}

const BASE: Array<[string, number, number?]> = [
  ['<unk>', 0, UNKNOWN],
  ['<s>', 0, CONTROL],
  ['</s>', 0, CONTROL],
  ['▁a', -1],
  ['a', -2],
  ['b', -2],
  ['▁', -3],
  ['ab', -1.5],
  ['<sep>', 0, USER_DEFINED],
  ['abab', 0, UNUSED],
  ['▁b', -1, NORMAL],
];

const load = (o: ModelOptions, file = 'test.spm'): SentencePieceProcessor => SentencePieceProcessor.fromBuffer(file, buildModel(o));
const pieces = (spm: SentencePieceProcessor, text: string): string[] => spm.encode(text).map((p) => p.piece);

const identity = (flags: Partial<NormalizerSpec> = {}): NormalizerSpec => ({
  name: 'identity',
  precompiledCharsmap: new Uint8Array(0),
  addDummyPrefix: true,
  removeExtraWhitespaces: true,
  escapeWhitespaces: true,
  ...flags,
});

describe('SentencePiece normalizer', () => {
  it('identity map: whitespace cleanup, dummy prefix and escaping follow the flags', () => {
    assert.equal(new Normalizer(identity()).normalizeText('  a \t  b  '), '▁a▁\t▁b');
    assert.equal(new Normalizer(identity({ removeExtraWhitespaces: false })).normalizeText(' a  b '), '▁▁a▁▁b▁');
    assert.equal(new Normalizer(identity({ addDummyPrefix: false, escapeWhitespaces: false })).normalizeText(' a  b '), 'a b');
    assert.equal(new Normalizer(identity()).normalizeText('   '), '');
    assert.equal(new Normalizer(identity()).normalizeText(''), '');
  });

  it('replaces each malformed UTF-8 byte by U+FFFD, as SentencePiece does', () => {
    const n = new Normalizer(identity());
    const out = (bytes: number[]): string => new TextDecoder().decode(n.normalize(Uint8Array.from(bytes)));
    assert.equal(out([0x61, 0xff, 0x62]), '▁a\ufffdb');
    assert.equal(out([0xed, 0xa0, 0x80]), '▁\ufffd\ufffd\ufffd'); // an encoded surrogate
    assert.equal(out([0xc0, 0xaf]), '▁\ufffd\ufffd'); // overlong
    assert.equal(out([0x61, 0xe2, 0x96]), '▁a\ufffd\ufffd'); // truncated
    assert.equal(out([0xef, 0xbf, 0xbd]), '▁\ufffd'); // a real U+FFFD is kept
  });

  it('applies the nmt_nfkc charsmap of a real opus-mt model', () => {
    const dir = join(__dirname, '..', '..', 'fixtures', 'opus-mt-en-mg-tokenizer');
    const spm = SentencePieceProcessor.fromBuffer('source.spm', readFileSync(join(dir, 'source.spm')));
    assert.equal(spm.normalize('ﬁne ㎏ ＡＢＣ１２３ …'), '▁fine▁kg▁ABC123▁...');
    assert.equal(spm.normalize('\u200bzero\u200bwidth'), '▁zero▁width'); // zero-width space → space
    assert.equal(spm.normalize('\u3000 x\u00a0y '), '▁x▁y');
  });
});

describe('SentencePiece unigram encoding', () => {
  const spm = load({ pieces: BASE, unknownFields: true });

  it('finds the best-scoring segmentation', () => {
    assert.deepEqual(pieces(spm, 'a b'), ['▁a', '▁b']);
    assert.deepEqual(spm.encode('a b').map((p) => p.id), [3, 10]);
    // "abab" is UNUSED, so it is never chosen although its score is best.
    assert.deepEqual(pieces(spm, 'abab'), ['▁a', 'b', 'ab']);
    assert.deepEqual(pieces(spm, ''), []);
  });

  it('matches user-defined symbols greedily and never matches control symbols', () => {
    assert.deepEqual(pieces(spm, 'a<sep>b'), ['▁a', '<sep>', 'b']);
    const enc = spm.encode('x</s>');
    assert.deepEqual(enc.map((p) => p.piece), ['▁', 'x</s>']); // the unknown run is one piece
    assert.deepEqual(enc.map((p) => p.id), [6, spm.unkId]);
  });

  it('splits unknown characters into byte pieces when the model has byte fallback', () => {
    const bytes: Array<[string, number, number]> = Array.from({ length: 256 }, (_, b) => [
      `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`,
      0,
      BYTE,
    ]);
    const bf = load({ pieces: [...BASE, ...bytes], byteFallback: true });
    assert.deepEqual(pieces(bf, 'aé'), ['▁a', '<0xC3>', '<0xA9>']);
    assert.equal(bf.decodePieces(['▁a', '<0xC3>', '<0xA9>']), 'aé');
    assert.equal(bf.decodePieces(['<0xC3>', '▁b']), '\ufffd b');
  });

  it('decodes pieces: leading space dropped, control pieces invisible, unknown pieces verbatim', () => {
    assert.equal(spm.decodePieces(['▁a', 'b', 'ab']), 'abab');
    assert.equal(spm.decodePieces(['▁', '▁a', '▁b']), 'a b');
    assert.equal(spm.decodePieces(['<s>', '▁a', '</s>', '▁b']), 'a b');
    assert.equal(spm.decodePieces(['▁a', '<unk>']), 'a \u2047 ');
    assert.equal(spm.decodePieces(['▁a', 'zz▁']), 'azz▁');
  });
});

describe('SentencePiece model file checks', () => {
  const rejects = (o: ModelOptions | Uint8Array, problem: RegExp): void => {
    const buf = o instanceof Uint8Array ? o : buildModel(o);
    assert.throws(
      () => SentencePieceProcessor.fromBuffer('bad.spm', buf),
      (e: unknown) => e instanceof ModelFileError && e.file === 'bad.spm' && e.message.startsWith('bad.spm') && problem.test(e.problem),
    );
  };

  it('rejects unsupported model types', () => {
    rejects({ pieces: BASE, modelType: 2 }, /BPE.*not supported/);
    rejects({ pieces: BASE, modelType: 4 }, /CHAR/);
  });

  it('rejects inconsistent piece tables', () => {
    rejects({ pieces: BASE.filter((p) => p[2] !== UNKNOWN) }, /UNKNOWN/);
    rejects({ pieces: [...BASE, ['ab', -3]] }, /"ab" is defined twice/);
    rejects({ pieces: [...BASE, ['', -3]] }, /empty/);
    rejects({ pieces: [...BASE, ['<0x41>', 0, BYTE]] }, /byte_fallback/);
    rejects({ pieces: [...BASE, ['q', -3, 9]] }, /unknown type/);
  });

  it('rejects a broken normalization charsmap', () => {
    rejects({ pieces: BASE, charsmap: new Uint8Array([1, 2, 3]) }, /charsmap/);
    rejects({ pieces: BASE, charsmap: new Uint8Array([200, 0, 0, 0, 1, 2]) }, /charsmap/);
  });

  it('rejects wire-format damage', () => {
    const good = buildModel({ pieces: BASE });
    rejects(good.subarray(0, good.length - 3), /protobuf/);
    rejects(Uint8Array.from([0x0a, 0x05, 0x0a]), /protobuf/); // truncated nested message
    rejects(Uint8Array.from([0x08, 0x01]), /wire type/); // pieces sent as a varint
    rejects(Uint8Array.from([0x0f]), /protobuf/); // invalid wire type 7
  });
});

describe('SentencePiece piece offsets', () => {
  const spm = load({ pieces: BASE });
  /** [piece, start, end] for each piece. */
  const spans = (p: SentencePieceProcessor, text: string): Array<[string, number, number]> => {
    const enc = p.encodeWithOffsets(text);
    assert.deepEqual(enc.pieces, p.encode(text));
    return enc.pieces.map((x, i) => [x.piece, ...enc.offsets[i]]);
  };

  it('records the input range of every normalized byte, without changing the output', () => {
    const n = new Normalizer(identity());
    const input = new TextEncoder().encode('  a  b ');
    const align = new Alignment();
    const out = n.normalize(input, align);
    assert.deepEqual(out, n.normalize(input));
    assert.equal(new TextDecoder().decode(out), '▁a▁b');
    assert.equal(align.length, out.length);
    // The dummy ▁ covers the dropped leading spaces, the inner ▁ the whole collapsed run.
    assert.deepEqual([...align.start.subarray(0, out.length)], [0, 0, 0, 2, 3, 3, 3, 5]);
    assert.deepEqual([...align.end.subarray(0, out.length)], [2, 2, 2, 3, 5, 5, 5, 6]);
  });

  it('gives word pieces their characters and user-defined symbols and unknown runs their text', () => {
    assert.deepEqual(spans(spm, 'a b'), [['▁a', 0, 1], ['▁b', 2, 3]]);
    assert.deepEqual(spans(spm, 'abab'), [['▁a', 0, 1], ['b', 1, 2], ['ab', 2, 4]]);
    assert.deepEqual(spans(spm, 'a<sep>b'), [['▁a', 0, 1], ['<sep>', 1, 6], ['b', 6, 7]]);
    assert.deepEqual(spans(spm, 'x</s>'), [['▁', 0, 0], ['x</s>', 0, 5]]);
  });

  it('gives each character to the first of its byte-fallback pieces', () => {
    const bytes: Array<[string, number, number]> = Array.from({ length: 256 }, (_, b) => [
      `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`,
      0,
      BYTE,
    ]);
    const bf = load({ pieces: [...BASE, ...bytes], byteFallback: true });
    assert.deepEqual(spans(bf, 'aé😀'), [
      ['▁a', 0, 1],
      ['<0xC3>', 1, 2],
      ['<0xA9>', 2, 2],
      ['<0xF0>', 2, 4],
      ['<0x9F>', 4, 4],
      ['<0x98>', 4, 4],
      ['<0x80>', 4, 4],
    ]);
  });

  it('maps kept whitespace when extra whitespace is not removed', () => {
    const keep = load({ pieces: BASE, removeExtraWhitespaces: false });
    assert.deepEqual(spans(keep, ' a  b '), [
      ['▁', 0, 0],
      ['▁a', 1, 2],
      ['▁', 2, 3],
      ['▁b', 4, 5],
      ['▁', 5, 6],
    ]);
  });

  it('puts the dummy ▁ after the text when whitespace is a suffix', () => {
    const suffix = load({ pieces: [...BASE, ['a▁', -0.5], ['b▁', -0.5]], treatWhitespaceAsSuffix: true });
    assert.equal(suffix.normalize('a b  '), 'a▁b▁');
    assert.deepEqual(spans(suffix, 'a b  '), [['a▁', 0, 1], ['b▁', 2, 3]]);
    // Trailing whitespace the suffix ▁ stands for, when the piece is only that ▁.
    assert.deepEqual(spans(suffix, 'ab  '), [['a', 0, 1], ['b▁', 1, 2]]);
    assert.deepEqual(spans(suffix, '<sep>  '), [['<sep>', 0, 5], ['▁', 5, 7]]);
  });
});
