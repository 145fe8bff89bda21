/**
 * Regression tests for what fuzzing and hostile-input review found in model files: values a file declares must not
 * make the engine crash or allocate without bound, and error messages stay readable whatever a file puts in them.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { explain, loadModelFolder, translate, ModelFileError } from '../../../src/model';
import { parseMarianConfig } from '../../../src/model/loading/config';
import { parseSafetensors } from '../../../src/model/loading/safetensors';
import { SentencePieceProcessor } from '../../../src/model/tokenizer/sentencepiece';
import { TINY_MODEL } from '../../helpers/golden';
import { oneRuleCharsmap, withCharsmap } from '../../helpers/fuzzFixtures';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-lens-hostile-config-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const baseConfig = JSON.parse(fs.readFileSync(path.join(TINY_MODEL, 'config.json'), 'utf8')) as Record<string, unknown>;

/** The tiny model with config.json (and optionally generation_config.json) patched. */
function folder(name: string, config: Record<string, unknown>, generation?: Record<string, unknown>): string {
  const dir = path.join(tmp, name);
  fs.cpSync(TINY_MODEL, dir, { recursive: true });
  fs.rmSync(path.join(dir, 'golden.json'));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...baseConfig, ...config }));
  if (generation) fs.writeFileSync(path.join(dir, 'generation_config.json'), JSON.stringify(generation));
  return dir;
}

describe('configuration values that used to crash the engine', () => {
  test('a huge max_length is cut at the position limit instead of being allocated (was: RangeError, or out of memory)', () => {
    const lm = loadModelFolder(folder('huge-max-length', {}, { max_length: 2 ** 53 - 1, num_beams: 4, bad_words_ids: [[7998]] }));
    assert.equal(lm.generation.maxLength, 2 ** 53 - 1, 'the file is read as written');
    const e = explain(lm, 'The lion kills the tiger.'); // default options: the model's own max_length
    assert.ok(e.targetIds.length <= lm.config.maxPositions + 1, `${e.targetIds.length} decoder tokens`);
    assert.ok(translate(lm, 'Hello.', { numBeams: 2 }).ids.length <= lm.config.maxPositions + 1);
    assert.ok(translate(lm, 'Hello.', { maxNewTokens: 1e9 }).ids.length <= lm.config.maxPositions + 1);
  });

  test('max_position_embeddings must leave room for a token and </s> (was: RangeError on every explain)', () => {
    assert.throws(() => loadModelFolder(folder('one-position', { max_position_embeddings: 1 })), (e: unknown) =>
      e instanceof ModelFileError && e.file.endsWith('config.json') && /"max_position_embeddings" must be an integer ≥ 2/.test(e.message));
    const lm = loadModelFolder(folder('two-positions', { max_position_embeddings: 2 }));
    const e = explain(lm, 'The lion kills the tiger.');
    assert.equal(e.sourceIds.length, 2);
    assert.ok(e.targetIds.length <= 3);
  });

  test('an absurd max_position_embeddings is refused with a clear error', () => {
    for (const v of [4097, 1e6, 2 ** 53 - 1]) {
      assert.throws(() => parseMarianConfig('config.json', JSON.stringify({ ...baseConfig, max_position_embeddings: v })), (e: unknown) =>
        e instanceof ModelFileError && /"max_position_embeddings" is \d+; at most 4096 positions are supported/.test(e.message));
    }
    assert.equal(parseMarianConfig('config.json', JSON.stringify({ ...baseConfig, max_position_embeddings: 4096 })).maxPositions, 4096);
  });
});

describe('a SentencePiece charsmap that expands text without bound', () => {
  const spm = new Uint8Array(fs.readFileSync(path.join(TINY_MODEL, 'source.spm')));

  test('a 100 KB replacement string is refused at load (was: every "a" became 100 KB; 300 of them killed the process)', () => {
    const bomb = withCharsmap(spm, oneRuleCharsmap(0x61, new Uint8Array(100_000).fill(0x78)));
    assert.throws(() => SentencePieceProcessor.fromBuffer('/m/source.spm', bomb), (e: unknown) =>
      e instanceof ModelFileError && e.file === '/m/source.spm' && /charsmap is broken \(a replacement longer than 256 bytes\)/.test(e.message));
  });

  test('ordinary replacements still work (the hand-made charsmap maps a → b)', () => {
    const ok = SentencePieceProcessor.fromBuffer('/m/source.spm', withCharsmap(spm, oneRuleCharsmap(0x61, new TextEncoder().encode('b'))));
    assert.equal(ok.normalize('cat'), '▁cbt');
    const longest = SentencePieceProcessor.fromBuffer('/m/source.spm', withCharsmap(spm, oneRuleCharsmap(0x61, new Uint8Array(256).fill(0x78))));
    assert.equal(longest.normalize('a').length, 1 + 256);
  });
});

describe('error messages stay readable', () => {
  test('a 100,000-character value quoted by a parser is shortened, keeping both ends', () => {
    const weights = fs.readFileSync(path.join(TINY_MODEL, 'model.safetensors'));
    const n = Number(weights.readBigUInt64LE(0));
    const header = JSON.parse(weights.subarray(8, 8 + n).toString('utf8'));
    header.final_logits_bias.dtype = 'x'.repeat(100_000);
    const json = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    assert.throws(() => parseSafetensors('/m/model.safetensors', Buffer.concat([len, json, weights.subarray(8 + n)])), (e: unknown) => {
      assert.ok(e instanceof ModelFileError);
      assert.ok(e.message.length < 700, `${e.message.length} characters`);
      assert.ok(e.message.startsWith('/m/model.safetensors: tensor "final_logits_bias" has dtype "xxx'));
      assert.match(e.message, /characters omitted/);
      assert.ok(e.message.endsWith('supported: F32, F16, BF16'));
      return true;
    });
  });

  test('short problems are kept whole', () => {
    const e = new ModelFileError('/m/config.json', 'is not valid JSON');
    assert.equal(e.message, '/m/config.json: is not valid JSON');
    assert.equal(e.problem, 'is not valid JSON');
  });
});
