/**
 * Fuzzing the SentencePiece model reader (`.spm`: protobuf via protobufjs, then the model checks, the charsmap
 * normalizer and the unigram tables) with mutations of the real tiny-model `source.spm` (383 KB, nmt_nfkc with a
 * 240 KB precompiled charsmap). Most runs mutate a smaller model cut from the same real bytes (the first 300 piece
 * records plus the real trainer and normalizer specs, so every field kind is present and the runs stay fast); a
 * bounded number mutate the whole file. A model that loads must also encode and decode hostile text: offsets in
 * range and non-overlapping, decode returns text.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { SentencePieceProcessor } from '../../../src/model/tokenizer/sentencepiece';
import { TINY_MODEL } from '../../helpers/golden';
import { cutSentencePieceModel, protoFields } from '../../helpers/fuzzFixtures';
import { FUZZ_TIMEOUT_MS, FuzzStats, applyMutations, describeMutations, fuzzOnce, fuzzRuns, mutationsArb, runProperty, type HotRegion } from '../../helpers/fuzz';

const FILE = path.join(TINY_MODEL, 'source.spm');
const real = new Uint8Array(fs.readFileSync(FILE));

const fields = protoFields(real);
const pieces = fields.filter(([f]) => f === 1);
const trainer = fields.find(([f]) => f === 2)!;
const normalizer = fields.find(([f]) => f === 3)!;
const KEEP = 300;
/** The real file's bytes, cut to its first pieces: the same encoding, 27 times fewer pieces. */
const mini = cutSentencePieceModel(real, { pieces: KEEP, charsmap: true });

const SAMPLES = ['The lion kills the tiger.', 'ﬁne Ａｂｃ  x\u00a0y\u3000z', '漢字 äöü ﬀ ½', '\u0000\t\n\u200b\u202e', 'a\ud800b\udfffc', '<0x41> </s> ▁▁'];

function loadAndUse(buf: Uint8Array): void {
  const spm = SentencePieceProcessor.fromBuffer(FILE, buf);
  assert.ok(spm.size > 0);
  for (const text of SAMPLES) {
    const { pieces: out, offsets } = spm.encodeWithOffsets(text);
    assert.equal(offsets.length, out.length);
    let prevEnd = 0;
    for (const [s, e] of offsets) {
      assert.ok(Number.isInteger(s) && Number.isInteger(e) && s >= prevEnd && s <= e && e <= text.length, `offsets [${s}, ${e}] of ${JSON.stringify(text)}`);
      prevEnd = e;
    }
    for (const p of out) assert.equal(typeof p.piece, 'string');
    assert.equal(typeof spm.decodePieces(out.map((p) => p.piece)), 'string');
    assert.equal(typeof spm.normalize(text), 'string');
  }
}

function regions(trainerAt: number, normalizerAt: number, end: number): HotRegion[] {
  return [
    { start: 0, end: 64, weight: 3 }, // the first pieces (<unk>, <s>, </s>): types and scores that the checks care about
    { start: 64, end: trainerAt, weight: 2 }, // other piece records
    { start: trainerAt, end: normalizerAt, weight: 3 }, // trainer_spec: model type, byte_fallback, unk surface
    { start: normalizerAt, end: normalizerAt + 48, weight: 4 }, // normalizer_spec header: name, flags, charsmap length and trie size
    { start: normalizerAt + 48, end, weight: 2 }, // the Darts trie and the replacement pool
  ];
}

describe('fuzz: SentencePiece .spm', { timeout: FUZZ_TIMEOUT_MS }, () => {
  test('mutations of a real model cut to 300 pieces (real trainer and normalizer specs)', (t) => {
    const stats = new FuzzStats('spm (300 pieces)');
    const trainerAt = pieces[KEEP - 1][2];
    const normalizerAt = trainerAt + (trainer[2] - trainer[1]);
    runProperty(mutationsArb(mini.length, regions(trainerAt, normalizerAt, mini.length), 4), fuzzRuns(2000), (muts) => {
      const buf = applyMutations(mini, muts);
      fuzzOnce(stats, FILE, () => describeMutations(muts), () => loadAndUse(buf));
    });
    t.diagnostic(stats.summary());
    assert.ok(stats.valid > 0 && stats.cleanErrors > 0, 'both outcomes reached');
  });

  test('mutations of the whole real file (7,998 pieces)', (t) => {
    const stats = new FuzzStats('spm (whole file)');
    runProperty(mutationsArb(real.length, regions(trainer[1], normalizer[1], real.length), 3), fuzzRuns(250), (muts) => {
      const buf = applyMutations(real, muts);
      fuzzOnce(stats, FILE, () => describeMutations(muts), () => loadAndUse(buf));
    });
    t.diagnostic(stats.summary());
    assert.ok(stats.valid > 0 && stats.cleanErrors > 0, 'both outcomes reached');
  });
});
