/**
 * Fuzzing the Marian vocabulary and tokenizer settings readers (`vocab.json`, `tokenizer_config.json`, read by
 * MarianTokenizer) with mutations of the real tiny-model files: byte-level mutations of the whole vocab.json, and
 * JSON-level ones (ids swapped, replaced by wrong types or huge/negative/fractional numbers, special tokens removed
 * or renamed, duplicated ids; special-token settings replaced by other strings, objects, empty strings). The
 * SentencePiece files are the real tiny model's, cut to 300 pieces without the charsmap (see fuzz-sentencepiece
 * for those) to keep runs fast.
 * A tokenizer that loads must encode and decode hostile text.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { MarianTokenizer } from '../../../src/model/tokenizer/marianTokenizer';
import { TINY_MODEL } from '../../helpers/golden';
import { cutSentencePieceModel } from '../../helpers/fuzzFixtures';
import {
  FUZZ_TIMEOUT_MS, FuzzStats, applyJsonMutations, applyMutations, describeMutations, fuzzOnce, fuzzRuns, hostileJsonValueArb, jsonMutationArb, mutationsArb, runProperty,
  show,
} from '../../helpers/fuzz';

const VOCAB = path.join(TINY_MODEL, 'vocab.json');
const TOKCONFIG = path.join(TINY_MODEL, 'tokenizer_config.json');
const SPM = path.join(TINY_MODEL, 'source.spm');
const fullVocabBytes = new Uint8Array(fs.readFileSync(VOCAB));
/**
 * The real vocab.json cut to its first 600 lines plus its last entry and closing brace (the special tokens </s>,
 * <unk> first and <pad> last are kept): real bytes, 13 times smaller, so thousands of runs fit in seconds.
 */
const vocabLines = Buffer.from(fullVocabBytes).toString('utf8').split('\n');
const vocabBytes = new Uint8Array(Buffer.from([...vocabLines.slice(0, 600), ...vocabLines.slice(-3)].join('\n')));
const vocab = JSON.parse(Buffer.from(vocabBytes).toString('utf8')) as Record<string, number>;
const tokConfig = JSON.parse(fs.readFileSync(TOKCONFIG, 'utf8')) as Record<string, unknown>;

/** The real source.spm cut to its first 300 pieces, identity normalizer (see fuzz-sentencepiece for the full one). */
const spm = cutSentencePieceModel(new Uint8Array(fs.readFileSync(SPM)), { pieces: 300, charsmap: false });
const NAMES = { sourceSpm: SPM, targetSpm: path.join(TINY_MODEL, 'target.spm'), vocab: VOCAB, targetVocab: path.join(TINY_MODEL, 'target_vocab.json'), tokenizerConfig: TOKCONFIG };

const SAMPLES = ['The lion kills the tiger.', '</s><unk><pad> >>es<< x', '漢字 ﬁ \u0000 \ud800', ''];

function loadAndUse(vocabJson: Uint8Array | string, tokenizerConfigJson: Uint8Array | string): void {
  const tok = MarianTokenizer.fromBuffers({ sourceSpm: spm, targetSpm: spm, vocabJson, tokenizerConfigJson, names: NAMES });
  for (const text of SAMPLES) {
    const enc = tok.encodeWithOffsets(text);
    assert.equal(enc.ids.length, enc.pieces.length);
    assert.equal(enc.offsets.length, enc.ids.length);
    for (const id of enc.ids) assert.ok(Number.isSafeInteger(id) && id >= 0, `id ${id}`);
    for (const [s, e] of enc.offsets) assert.ok(s >= 0 && s <= e && e <= text.length);
    assert.equal(typeof tok.decode(enc.ids), 'string');
    assert.equal(typeof tok.decode([...enc.ids, -1, 2 ** 40, tok.padId, tok.unkId], { skipSpecialTokens: true }), 'string');
    assert.equal(tok.encodeTarget(text).ids.at(-1), tok.eosId);
  }
}

const tokConfigText = JSON.stringify(tokConfig);

describe('fuzz: vocab.json and tokenizer_config.json', { timeout: FUZZ_TIMEOUT_MS }, () => {
  test('byte-level mutations of the real vocab.json (cut to 600 entries)', (t) => {
    const stats = new FuzzStats('vocab.json bytes');
    const hot = [{ start: 0, end: 64, weight: 3 }, { start: vocabBytes.length - 64, end: vocabBytes.length, weight: 2 }];
    runProperty(mutationsArb(vocabBytes.length, hot, 4), fuzzRuns(1000), (muts) => {
      const buf = applyMutations(vocabBytes, muts);
      fuzzOnce(stats, VOCAB, () => describeMutations(muts), () => loadAndUse(buf, tokConfigText));
    });
    t.diagnostic(stats.summary());
    assert.ok(stats.valid > 0 && stats.cleanErrors > 0, 'both outcomes reached');
  });

  test('byte-level mutations of the whole real vocab.json (7,999 entries)', (t) => {
    const stats = new FuzzStats('vocab.json bytes (whole file)');
    const hot = [{ start: 0, end: 64, weight: 3 }, { start: fullVocabBytes.length - 64, end: fullVocabBytes.length, weight: 2 }];
    runProperty(mutationsArb(fullVocabBytes.length, hot, 3), fuzzRuns(250), (muts) => {
      const buf = applyMutations(fullVocabBytes, muts);
      fuzzOnce(stats, VOCAB, () => describeMutations(muts), () => loadAndUse(buf, tokConfigText));
    });
    t.diagnostic(stats.summary());
    assert.ok(stats.valid > 0 && stats.cleanErrors > 0, 'both outcomes reached');
  });

  test('JSON value swaps in vocab.json (ids, special tokens; cut to 600 entries)', (t) => {
    const stats = new FuzzStats('vocab.json values');
    const special = ['</s>', '<unk>', '<pad>'];
    // The file as entries, each serialized once; a run edits a few of them and joins the text again (fast, and
    // duplicate keys can be written, which JSON.parse resolves to the last one as Python's json does).
    const entries = Object.entries(vocab);
    const parts = entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
    const index = fc.oneof(fc.constantFrom(0, 1, entries.length - 1), fc.nat({ max: entries.length - 1 })); // the specials often
    const value = hostileJsonValueArb([-1, 7998, 7999, 8000, 2 ** 31, 1e20, 0.5, '0', null]);
    const name = fc.oneof(fc.constantFrom(...special, '', '▁', '__proto__', '>>xx<<', 'constructor'), fc.string({ maxLength: 6 }));
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('replace' as const), at: index, value }),
      fc.record({ kind: fc.constant('delete' as const), at: index }),
      fc.record({ kind: fc.constant('swap' as const), at: index, other: index }),
      fc.record({ kind: fc.constant('rename' as const), at: index, name }),
      fc.record({ kind: fc.constant('duplicate' as const), at: index, name }),
    );
    runProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), fuzzRuns(1000), (muts) => {
      const p = parts.slice();
      const e = entries.slice();
      for (const m of muts) {
        const [k, v] = e[m.at];
        if (m.kind === 'replace') p[m.at] = `${JSON.stringify(k)}:${JSON.stringify(m.value)}`;
        else if (m.kind === 'delete') p[m.at] = '';
        else if (m.kind === 'swap') {
          p[m.at] = `${JSON.stringify(k)}:${JSON.stringify(e[m.other][1])}`;
          p[m.other] = `${JSON.stringify(e[m.other][0])}:${JSON.stringify(v)}`;
        } else if (m.kind === 'rename') p[m.at] = `${JSON.stringify(m.name)}:${JSON.stringify(v)}`;
        else p.push(`${JSON.stringify(m.name)}:${JSON.stringify(v)}`);
      }
      const text = `{${p.filter((x) => x !== '').join(',')}}`;
      fuzzOnce(stats, VOCAB, () => show(muts), () => loadAndUse(text, tokConfigText));
    });
    t.diagnostic(stats.summary());
    assert.ok(stats.valid > 0 && stats.cleanErrors > 0, 'both outcomes reached');
  });

  test('mutations of tokenizer_config.json (special tokens, separate_vocabs, bytes)', (t) => {
    const stats = new FuzzStats('tokenizer_config.json');
    const valueArb = hostileJsonValueArb(['</s>', '<unk>', '<pad>', '', '▁', 'x', { content: '<unk>' }, { content: 5 }, true, 'a'.repeat(300)]);
    const configBytes = new Uint8Array(Buffer.from(tokConfigText));
    const arb = fc.oneof(
      fc.array(jsonMutationArb(valueArb), { minLength: 1, maxLength: 3 }).map((muts) => ({ muts, text: JSON.stringify(applyJsonMutations(tokConfig, muts)) ?? '' })),
      mutationsArb(configBytes.length, [], 3).map((muts) => ({ muts, text: Buffer.from(applyMutations(configBytes, muts)).toString('utf8') })),
    );
    runProperty(arb, fuzzRuns(500), ({ muts, text }) => {
      // an error may name tokenizer_config.json, or the vocabulary/target vocabulary it points at
      fuzzOnce(stats, [TOKCONFIG, VOCAB, NAMES.targetVocab], () => show(muts), () => loadAndUse(vocabBytes, text));
    });
    t.diagnostic(stats.summary());
    assert.ok(stats.valid > 0 && stats.cleanErrors > 0, 'both outcomes reached');
  });
});
