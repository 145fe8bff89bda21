/**
 * Issue 18, class 4: tokenizer worst cases. A 100 KB piece with 100 KB of matching input, or a 64 KB user-defined
 * symbol, made segmentation grow with input length × piece length; a charsmap rule "a" → 255 bytes on 300 KB of
 * "a" crashed the process. Pieces are bounded at load (segmentation stays linear in the input for a given model),
 * the normalized text is bounded relative to the input, and special tokens are bounded. Files built on the fly.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { ModelFileError } from '../../../src/model';
import { MarianTokenizer } from '../../../src/model/tokenizer/marianTokenizer';
import { SentencePieceProcessor } from '../../../src/model/tokenizer/sentencepiece';
import { MAX_PIECE_BYTES } from '../../../src/model/tokenizer/sentencepieceModel';
import { TINY_MODEL } from '../../helpers/golden';
import { oneRuleCharsmap, withCharsmap, withExtraPiece } from '../../helpers/hostileFiles';

const spm = new Uint8Array(fs.readFileSync(path.join(TINY_MODEL, 'source.spm')));
const NORMAL = 1, USER_DEFINED = 4;

function refused(buf: Uint8Array, problem: RegExp): void {
  assert.throws(() => SentencePieceProcessor.fromBuffer('/m/source.spm', buf), (e: unknown) =>
    e instanceof ModelFileError && e.file === '/m/source.spm' && problem.test(e.message));
}

describe('longest piece bounded at load (class 4)', () => {
  test('a 100 KB normal piece is refused', () => {
    refused(withExtraPiece(spm, new Uint8Array(100_000).fill(0x61), NORMAL), /piece #\d+ is 100000 bytes long; at most 512 are supported/);
  });

  test('a 64 KB user-defined symbol is refused', () => {
    refused(withExtraPiece(spm, new Uint8Array(65_536).fill(0x61), USER_DEFINED), /piece #\d+ is 65536 bytes long; at most 512/);
  });

  test('a piece of exactly the bound loads, and 100 KB of matching input segments into it', () => {
    const a = new Uint8Array(MAX_PIECE_BYTES).fill(0x61);
    for (const type of [NORMAL, USER_DEFINED]) {
      const p = SentencePieceProcessor.fromBuffer('/m/source.spm', withExtraPiece(spm, a, type, 0));
      const pieces = p.encode('a'.repeat(100 * MAX_PIECE_BYTES));
      // user-defined symbols are matched verbatim; the high-scoring normal piece wins the Viterbi path
      assert.ok(pieces.filter((x) => x.piece === 'a'.repeat(MAX_PIECE_BYTES)).length >= 99, `type ${type}: ${pieces.length} pieces`);
    }
  });
});

describe('normalized length bounded relative to the input (class 4)', () => {
  test('a rule "a" → 255 bytes on 300 KB of "a" is a clear error naming the .spm file', () => {
    const p = SentencePieceProcessor.fromBuffer('/m/source.spm', withCharsmap(spm, oneRuleCharsmap(0x61, new Uint8Array(255).fill(0x78))));
    assert.throws(() => p.encode('a'.repeat(300_000)), (e: unknown) =>
      e instanceof ModelFileError && e.file === '/m/source.spm' && /normalization rules expand the text more than 16-fold/.test(e.message));
    // the same rule on short text is within the bound: "a" is 255 "x"
    assert.equal(p.normalize('a'), `▁${'x'.repeat(255)}`);
  });

  test('real expansions stay well inside the bound (NFKC ligatures on 100 KB)', () => {
    const p = SentencePieceProcessor.fromBuffer('/m/source.spm', spm);
    assert.ok(p.encode('ﬁ ﬂ ﬃ '.repeat(20_000)).length > 0);
  });
});

describe('special tokens bounded (class 4)', () => {
  test('a 100,000-character eos_token in tokenizer_config.json is refused', () => {
    const files = {
      sourceSpm: spm,
      targetSpm: spm,
      vocabJson: fs.readFileSync(path.join(TINY_MODEL, 'vocab.json')),
      tokenizerConfigJson: JSON.stringify({ eos_token: 'a'.repeat(100_000) }),
      names: { tokenizerConfig: '/m/tokenizer_config.json' },
    };
    assert.throws(() => MarianTokenizer.fromBuffers(files), (e: unknown) =>
      e instanceof ModelFileError && e.file === '/m/tokenizer_config.json' && /a special token is 100000 characters long; at most 256/.test(e.message));
  });
});
