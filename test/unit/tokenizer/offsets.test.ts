/** MarianTokenizer.encodeWithOffsets: each piece's [start, end) range in the original text, and truncation in explain. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { explain, loadModelFolder } from '../../../src/model';
import { MarianTokenizer } from '../../../src/model/tokenizer/marianTokenizer';
import { SentencePieceProcessor } from '../../../src/model/tokenizer/sentencepiece';

const ROOT = join(__dirname, '..', '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures');
// Byte-identical copies of the bundled checkpoint's tokenizer files (media/model).
const CHECKPOINT_TOKENIZER = join(FIXTURES, 'tiny-random-swish');
const EN_MG = join(FIXTURES, 'opus-mt-en-mg-tokenizer');

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

const GOLDEN_SETS = [
  {
    name: 'bundled en→es checkpoint',
    dir: CHECKPOINT_TOKENIZER,
    texts: readJson<{ tokenization: Array<{ text: string }> }>(join(FIXTURES, 'checkpoint', 'golden.json')).tokenization.map((c) => c.text),
  },
  {
    name: 'opus-mt-en-mg (nmt_nfkc)',
    dir: EN_MG,
    texts: readJson<{ cases: Array<{ text: string }> }>(join(EN_MG, 'golden.json')).cases.map((c) => c.text),
  },
];

const SPECIALS = new Set(['</s>', '<unk>', '<pad>']);
/** Characters the normalizers turn into a space (or drop) before a word: plain whitespace and zero-width space. */
const WS = /[\s\u200b]/;

/** `piece[start,end]="slice"` for each piece: readable in assertion messages. */
function show(text: string, enc: { pieces: string[]; offsets: Array<[number, number]> }): string {
  return enc.pieces.map((p, i) => `${p}[${enc.offsets[i]}]=${JSON.stringify(text.slice(...enc.offsets[i]))}`).join(' ');
}

/** Offsets of `text`'s pieces as [piece, slice] pairs, eos left off. */
function slices(tok: MarianTokenizer, text: string): Array<[string, string, number, number]> {
  const enc = tok.encodeWithOffsets(text);
  return enc.pieces.slice(0, -1).map((p, i) => [p, text.slice(...enc.offsets[i]), ...enc.offsets[i]]);
}

for (const set of GOLDEN_SETS) {
  describe(`encodeWithOffsets on every golden case: ${set.name}`, () => {
    const tok = MarianTokenizer.fromFolder(set.dir);
    const spm = SentencePieceProcessor.fromBuffer('source.spm', readFileSync(join(set.dir, 'source.spm')));

    it(`gives encode's ids and pieces and well-formed ranges for all ${set.texts.length} texts`, () => {
      assert.ok(set.texts.length > 800);
      const bad: string[] = [];
      for (const text of set.texts) {
        const enc = tok.encodeWithOffsets(text);
        const plain = tok.encode(text);
        const problems: string[] = [];
        if (JSON.stringify([enc.ids, enc.pieces]) !== JSON.stringify([plain.ids, plain.pieces])) problems.push('ids/pieces differ from encode');
        if (enc.offsets.length !== enc.ids.length) problems.push('one range per id');
        let prevEnd = 0;
        for (const [s, e] of enc.offsets) {
          if (!(Number.isInteger(s) && Number.isInteger(e) && s >= prevEnd && s <= e && e <= text.length)) {
            problems.push(`range [${s},${e}] after ${prevEnd}`);
          }
          prevEnd = e;
        }
        if (JSON.stringify(enc.offsets.at(-1)) !== JSON.stringify([text.length, text.length])) problems.push('eos is not [len, len]');
        if (problems.length > 0) bad.push(`${JSON.stringify(text)}: ${problems.join('; ')}\n  ${show(text, enc)}`);
      }
      assert.equal(bad.length, 0, `${bad.length} bad, e.g.\n${bad.slice(0, 5).join('\n')}`);
    });

    it('maps a piece onto exactly its own characters wherever the text has them verbatim', () => {
      const bad: string[] = [];
      let checked = 0;
      let pieces = 0;
      for (const text of set.texts) {
        const enc = tok.encodeWithOffsets(text);
        let prevEnd = 0;
        for (let i = 0; i < enc.pieces.length - 1; i++) {
          const piece = enc.pieces[i];
          const [s, e] = enc.offsets[i];
          pieces++;
          const surface = SPECIALS.has(piece) ? '' : piece.replace(/^▁+/, '');
          // Where the piece should begin: right after the previous one, past the whitespace its ▁ stands for.
          let at = prevEnd;
          while (at < text.length && WS.test(text[at])) at++;
          if (surface !== '' && text.startsWith(surface, at)) {
            checked++;
            if (s !== at || e !== at + surface.length) bad.push(`${JSON.stringify(text)}: ${piece} → [${s},${e}], expected [${at},${at + surface.length}]`);
          }
          prevEnd = e;
        }
      }
      assert.equal(bad.length, 0, `${bad.length} bad, e.g.\n${bad.slice(0, 5).join('\n')}`);
      // Nearly every piece of these (mostly plain) texts is checked.
      assert.ok(checked > 0.9 * pieces, `${checked}/${pieces} checked`);
    });

    it('leaves out only characters that normalise to nothing (whitespace, dropped characters)', () => {
      const bad: string[] = [];
      for (const text of set.texts) {
        const enc = tok.encodeWithOffsets(text);
        const covered = new Uint8Array(text.length);
        for (const [s, e] of enc.offsets) covered.fill(1, s, e);
        for (let i = 0; i < text.length; ) {
          const ch = String.fromCodePoint(text.codePointAt(i)!);
          if (!covered[i] && spm.normalize(ch) !== '') bad.push(`${JSON.stringify(text)}: ${JSON.stringify(ch)} at ${i} is in no piece\n  ${show(text, enc)}`);
          i += ch.length;
        }
      }
      assert.equal(bad.length, 0, `${bad.length} bad, e.g.\n${bad.slice(0, 5).join('\n')}`);
    });

    it('re-tokenising the text cut after any piece gives the pieces up to it', () => {
      // Two exceptions, both handled by explain's truncation (it re-tokenises the cut text and uses that):
      // a cut after a lone ▁ (the trailing space is trimmed, so that piece goes) and a cut through one
      // normalised character that made several pieces (`½` → `▁1` `⁄` `2`: the whole character comes back).
      const bad: string[] = [];
      const seen = { exact: 0, loneSpace: 0, splitChar: 0 };
      for (const text of set.texts) {
        const enc = tok.encodeWithOffsets(text);
        for (let k = 1; k < enc.ids.length; k++) {
          const cutAt = enc.offsets[k - 1][1];
          const again = tok.encode(text.slice(0, cutAt)).ids;
          let want = [...enc.ids.slice(0, k), tok.eosId];
          const [ns, ne] = enc.offsets[k];
          if (enc.pieces[k - 1] === '▁') {
            want = [...enc.ids.slice(0, k - 1), tok.eosId];
            seen.loneSpace++;
          } else if (k < enc.ids.length - 1 && ns === cutAt && ne === cutAt && !WS.test(text[cutAt - 1] ?? ' ')) {
            seen.splitChar++;
            continue;
          } else {
            seen.exact++;
          }
          if (JSON.stringify(again) !== JSON.stringify(want)) {
            bad.push(`${JSON.stringify(text)} cut at ${cutAt} after ${enc.pieces[k - 1]}: ${tok.encode(text.slice(0, cutAt)).pieces.join(' ')}`);
          }
        }
      }
      assert.equal(bad.length, 0, `${bad.length} bad, e.g.\n${bad.slice(0, 5).join('\n')}`);
      assert.ok(seen.exact > 5000 && seen.loneSpace > 0, JSON.stringify(seen));
    });
  });
}

describe('encodeWithOffsets, hand-checked', () => {
  const es = MarianTokenizer.fromFolder(CHECKPOINT_TOKENIZER);
  const mg = MarianTokenizer.fromFolder(EN_MG);

  it('maps word pieces onto the words, not the spaces before them', () => {
    assert.deepEqual(slices(es, 'The lion kills the tiger.'), [
      ['▁The', 'The', 0, 3],
      ['▁lion', 'lion', 4, 8],
      ['▁kill', 'kill', 9, 13],
      ['s', 's', 13, 14],
      ['▁the', 'the', 15, 18],
      ['▁tiger', 'tiger', 19, 24],
      ['.', '.', 24, 25],
    ]);
    const enc = es.encodeWithOffsets('The lion kills the tiger.');
    assert.deepEqual(enc.offsets.at(-1), [25, 25]);
    assert.equal(enc.pieces.at(-1), '</s>');
  });

  it('maps full-width pieces onto the full-width characters', () => {
    assert.deepEqual(slices(es, 'ＦＵＬＬ'), [
      ['▁F', 'Ｆ', 0, 1],
      ['U', 'Ｕ', 1, 2],
      ['L', 'Ｌ', 2, 3],
      ['L', 'Ｌ', 3, 4],
    ]);
    // The en-mg vocabulary has no ▁F: the dummy prefix is a piece of its own, empty before the first character.
    assert.deepEqual(slices(mg, 'ＦＵＬＬ-width ｔｅｘｔ'), [
      ['▁', '', 0, 0],
      ['FUL', 'ＦＵＬ', 0, 3],
      ['L', 'Ｌ', 3, 4],
      ['-', '-', 4, 5],
      ['width', 'width', 5, 10],
      ['▁text', 'ｔｅｘｔ', 11, 15],
    ]);
  });

  it('maps composed and decomposed ï onto all of their code units', () => {
    const decomposed = 'nai\u0308ve';
    assert.deepEqual(slices(mg, decomposed), [
      ['▁na', 'na', 0, 2],
      ['ï', 'i\u0308', 2, 4],
      ['ve', 've', 4, 6],
    ]);
    assert.deepEqual(slices(mg, 'naïve'), [
      ['▁na', 'na', 0, 2],
      ['ï', 'ï', 2, 3],
      ['ve', 've', 3, 5],
    ]);
    // Without ï in the vocabulary it is one <unk> over both code units.
    assert.deepEqual(slices(es, `${decomposed} naïve`), [
      ['▁na', 'na', 0, 2],
      ['<unk>', 'i\u0308', 2, 4],
      ['ve', 've', 4, 6],
      ['▁na', 'na', 7, 9],
      ['<unk>', 'ï', 9, 10],
      ['ve', 've', 10, 12],
    ]);
  });

  it('maps ligatures and other multi-character normalisations onto the source character', () => {
    assert.deepEqual(slices(mg, 'ﬁne'), [['▁fine', 'ﬁne', 0, 3]]);
    // ½ becomes 1⁄2: the first piece gets the character, the others an empty range after it.
    assert.deepEqual(slices(mg, 'x ½'), [
      ['▁x', 'x', 0, 1],
      ['▁1', '½', 2, 3],
      ['⁄', '', 3, 3],
      ['2', '', 3, 3],
    ]);
  });

  it('maps an <unk> emoji onto its two UTF-16 code units, and a run of unknown characters onto the run', () => {
    assert.deepEqual(slices(es, 'emoji 😀 and'), [
      ['▁e', 'e', 0, 1],
      ['mo', 'mo', 1, 3],
      ['j', 'j', 3, 4],
      ['i', 'i', 4, 5],
      ['▁', ' ', 5, 6],
      ['<unk>', '😀', 6, 8],
      ['▁and', 'and', 9, 12],
    ]);
    assert.deepEqual(slices(es, '日本語のテキスト'), [
      ['▁', '', 0, 0],
      ['<unk>', '日本語のテキスト', 0, 8],
    ]);
    // A lone surrogate is encoded as U+FFFD (3 bytes, which this charsmap turns into a space) but is one
    // code unit of the text.
    assert.deepEqual(slices(es, 'a\ud800b'), [
      ['▁a', 'a', 0, 1],
      ['▁b', 'b', 2, 3],
    ]);
  });

  it('leaves leading, trailing and repeated whitespace out of word pieces', () => {
    assert.deepEqual(slices(es, '  The   lion  '), [
      ['▁The', 'The', 2, 5],
      ['▁lion', 'lion', 8, 12],
    ]);
    assert.deepEqual(slices(es, '\t\nTom \u200bis\u00a0\u3000here'), [
      ['▁Tom', 'Tom', 2, 5],
      ['▁is', 'is', 7, 9],
      ['▁here', 'here', 11, 15],
    ]);
    // A lone ▁ piece covers the whitespace it stands for, runs included.
    assert.deepEqual(slices(es, 'x   😀').slice(2), [
      ['▁', '   ', 1, 4],
      ['<unk>', '😀', 4, 6],
    ]);
    assert.deepEqual(es.encodeWithOffsets('   ').offsets, [[3, 3]]);
    assert.deepEqual(es.encodeWithOffsets('').offsets, [[0, 0]]);
  });

  it('maps literal special tokens and a language code onto their own characters', () => {
    const text = 'a<unk>b </s> c';
    const enc = es.encodeWithOffsets(text);
    assert.deepEqual(enc.pieces, ['▁a', '<unk>', '▁b', '</s>', '▁c', '</s>']);
    assert.deepEqual(enc.offsets, [[0, 1], [1, 6], [6, 7], [8, 12], [13, 14], [14, 14]]);

    const vocab = readJson<Record<string, number>>(join(CHECKPOINT_TOKENIZER, 'vocab.json'));
    const multi = MarianTokenizer.fromBuffers({
      sourceSpm: readFileSync(join(CHECKPOINT_TOKENIZER, 'source.spm')),
      targetSpm: readFileSync(join(CHECKPOINT_TOKENIZER, 'target.spm')),
      vocabJson: JSON.stringify({ ...vocab, '>>fra<<': Math.max(...Object.values(vocab)) + 1 }),
    });
    assert.deepEqual(slices(multi, '>>fra<< The lion'), [
      ['>>fra<<', '>>fra<<', 0, 7],
      ['▁The', 'The', 8, 11],
      ['▁lion', 'lion', 12, 16],
    ]);
  });
});

describe('explain truncation uses the offsets', () => {
  const lm = loadModelFolder(join(ROOT, 'media', 'model'));
  const long = 'The lion kills the tiger. '.repeat(8) + 'ﬁne ½ Ⅻ ㎏ café 😀  done.';

  const check = (text: string, budget: number): void => {
    const e = explain(lm, text, { maxSourceTokens: budget, maxNewTokens: 2 });
    const msg = `budget ${budget}: ${JSON.stringify(e.sourceText)} ${e.sourcePieces.join(' ')}`;
    assert.ok(e.sourceIds.length <= Math.max(budget, 2), msg);
    assert.equal(e.sourceIds.at(-1), lm.tokenizer.eosId, msg);
    assert.ok(text.startsWith(e.sourceText), msg);
    assert.equal(e.sourceOffsets.length, e.sourceIds.length, msg);
    for (const [s, t] of e.sourceOffsets) assert.ok(0 <= s && s <= t && t <= e.sourceText.length, msg);
    // Text, pieces and offsets agree: they are what the cut text tokenises to.
    const again = lm.tokenizer.encodeWithOffsets(e.sourceText);
    assert.deepEqual([again.ids, again.offsets], [e.sourceIds, e.sourceOffsets], msg);
    assert.equal(e.truncated, e.sourceText !== text, msg);
  };

  it('keeps budget−1 pieces and eos, with the text cut where the last kept piece ends', () => {
    const e = explain(lm, long, { maxSourceTokens: 10 });
    assert.ok(e.sourceIds.length <= 10);
    assert.equal(e.sourceIds.at(-1), lm.tokenizer.eosId);
    assert.equal(e.truncated, true);
    assert.ok(long.startsWith(e.sourceText));
    for (const [s, t] of e.sourceOffsets) assert.ok(0 <= s && s <= t && t <= e.sourceText.length);
    const full = lm.tokenizer.encodeWithOffsets(long);
    assert.deepEqual(e.sourcePieces, [...full.pieces.slice(0, 9), '</s>']);
    assert.equal(e.sourceText, long.slice(0, full.offsets[8][1]));
    assert.equal(e.sourceText, 'The lion kills the tiger. The lion');
    check(long, 10);
  });

  it('stays consistent at awkward budgets: cuts after a lone ▁ or through one normalised character', () => {
    const full = lm.tokenizer.encodeWithOffsets(long);
    const n = full.ids.length;
    // A budget of b keeps pieces [0, b−1): awkward when piece b−2 is a lone ▁ or shares its character with b−1.
    const awkward = new Set([1, 2, n - 1, n, n + 1]);
    for (let k = 1; k < n - 1; k++) {
      const [s, e] = full.offsets[k];
      if (full.pieces[k - 1] === '▁' || (s === e && s === full.offsets[k - 1][1])) awkward.add(k + 1);
    }
    assert.ok(awkward.size >= 8, [...awkward].join());
    for (const budget of awkward) check(long, budget);
    for (let budget = 2; budget <= 8; budget++) check('x ½ ½', budget); // 5 and 6 must step back a piece
  });
});
