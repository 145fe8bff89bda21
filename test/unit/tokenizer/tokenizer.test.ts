/** MarianTokenizer against Hugging Face goldens, plus malformed-file errors. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ModelFileError } from '../../../src/model/loading/errors';
import { MarianTokenizer } from '../../../src/model/tokenizer/marianTokenizer';

const FIXTURES = join(__dirname, '..', '..', 'fixtures');
// Byte-identical copies of the bundled checkpoint's tokenizer files (media/model).
const CHECKPOINT_TOKENIZER = join(FIXTURES, 'tiny-random-swish');
const EN_MG = join(FIXTURES, 'opus-mt-en-mg-tokenizer');

interface GoldenCase {
  text: string;
  ids: number[];
  pieces?: string[];
  decoded?: string;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** Runs every case and asserts with a count and the first few mismatches, so failures are diagnosable. */
function checkGolden(tok: MarianTokenizer, cases: GoldenCase[]): void {
  const bad = { ids: [] as string[], pieces: [] as string[], decoded: [] as string[] };
  for (const c of cases) {
    const enc = tok.encode(c.text);
    const t = JSON.stringify(c.text);
    if (JSON.stringify(enc.ids) !== JSON.stringify(c.ids)) bad.ids.push(`${t}: ${enc.ids} != ${c.ids}`);
    if (c.pieces && JSON.stringify(enc.pieces) !== JSON.stringify(c.pieces)) {
      bad.pieces.push(`${t}: ${JSON.stringify(enc.pieces)} != ${JSON.stringify(c.pieces)}`);
    }
    const dec = tok.decode(c.ids, { skipSpecialTokens: true });
    if (c.decoded !== undefined && dec !== c.decoded) bad.decoded.push(`${t}: ${JSON.stringify(dec)} != ${JSON.stringify(c.decoded)}`);
  }
  for (const [what, list] of Object.entries(bad)) {
    assert.equal(list.length, 0, `${list.length}/${cases.length} ${what} mismatches, e.g.\n${list.slice(0, 5).join('\n')}`);
  }
}

describe('MarianTokenizer on the bundled en→es checkpoint', () => {
  const tok = MarianTokenizer.fromFolder(CHECKPOINT_TOKENIZER);
  const golden = readJson<{
    tokenization: GoldenCase[];
    sentences: Array<{ text: string; input_ids: number[]; pieces: string[]; greedy_ids: number[]; greedy_text: string }>;
  }>(join(FIXTURES, 'checkpoint', 'golden.json'));

  it('has the expected special ids', () => {
    assert.deepEqual([tok.eosId, tok.unkId, tok.padId, tok.vocabSize], [0, 1, 7998, 7999]);
    assert.equal(tok.idToPiece(0), '</s>');
    assert.equal(tok.pieceToId('▁Tom'), 5);
    assert.equal(tok.pieceToId('no such piece'), tok.unkId);
  });

  it(`reproduces all ${golden.tokenization.length} tokenization goldens (ids and decode)`, () => {
    assert.equal(golden.tokenization.length, 2516);
    checkGolden(tok, golden.tokenization);
  });

  it('reproduces the sentence goldens (ids, pieces, decoded greedy output)', () => {
    checkGolden(
      tok,
      golden.sentences.map((s) => ({ text: s.text, ids: s.input_ids, pieces: s.pieces })),
    );
    for (const s of golden.sentences) assert.equal(tok.decode(s.greedy_ids, { skipSpecialTokens: true }), s.greedy_text);
  });

  it('keeps special tokens verbatim when not skipping them, as HF does', () => {
    assert.equal(tok.decode([7998, 4833, 2, 0]), '<pad> Vayamos.</s>');
    assert.equal(tok.decode([7998, 4833, 2, 0], { skipSpecialTokens: true }), 'Vayamos.');
    // Ids outside the vocabulary decode as <unk>, which then survives skipping (it was not a special id).
    assert.equal(tok.decode([4833, 99999], { skipSpecialTokens: true }), 'Vayamos<unk>');
  });

  it('treats literal special tokens in the text as those tokens', () => {
    const enc = tok.encode('Hello </s> world<unk>');
    assert.equal(enc.ids.filter((id) => id === tok.eosId).length, 2);
    assert.ok(enc.ids.includes(tok.unkId));
    assert.deepEqual(enc.pieces.slice(-2), ['<unk>', '</s>']);
  });

  it('encodes target-side text with the target spm and appends </s>', () => {
    const enc = tok.encodeTarget('Vayamos.');
    assert.deepEqual(enc.ids, [4833, 2, 0]);
  });

  it('splits off a leading >>lang<< code when the vocabulary has one', () => {
    const vocab = readJson<Record<string, number>>(join(CHECKPOINT_TOKENIZER, 'vocab.json'));
    const codeId = Math.max(...Object.values(vocab)) + 1;
    const multi = MarianTokenizer.fromBuffers({
      sourceSpm: readFileSync(join(CHECKPOINT_TOKENIZER, 'source.spm')),
      targetSpm: readFileSync(join(CHECKPOINT_TOKENIZER, 'target.spm')),
      vocabJson: JSON.stringify({ ...vocab, '>>fra<<': codeId }),
    });
    assert.deepEqual(multi.languageCodes, ['>>fra<<']);
    const enc = multi.encode('>>fra<< Hello');
    assert.deepEqual(enc.ids, [codeId, ...tok.encode('Hello').ids]);
    assert.equal(enc.pieces[0], '>>fra<<');
  });

  it('encodes 1 MB of text (its speed is measured by npm run bench, not asserted here)', () => {
    const chunk = 'The quick brown fox — ﬁne café 😀 日本語, ＦＵＬＬ width.  ';
    const text = chunk.repeat(Math.ceil(1_000_000 / chunk.length));
    const enc = tok.encode(text);
    assert.ok(enc.ids.length > 100_000);
    assert.ok(tok.decode(enc.ids, { skipSpecialTokens: true }).startsWith('The quick brown fox'));
  });
});

describe('MarianTokenizer on opus-mt-en-mg (nmt_nfkc charsmap, vocab ids ≠ spm ids)', () => {
  const tok = MarianTokenizer.fromFolder(EN_MG);
  const golden = readJson<{ cases: GoldenCase[] }>(join(EN_MG, 'golden.json'));

  it(`reproduces all ${golden.cases.length} goldens (ids, pieces and decode)`, () => {
    assert.ok(golden.cases.length > 800);
    checkGolden(tok, golden.cases);
  });
});

describe('malformed tokenizer files', () => {
  const files = () => ({
    sourceSpm: readFileSync(join(CHECKPOINT_TOKENIZER, 'source.spm')),
    targetSpm: readFileSync(join(CHECKPOINT_TOKENIZER, 'target.spm')),
    vocabJson: readFileSync(join(CHECKPOINT_TOKENIZER, 'vocab.json')),
    names: { sourceSpm: 'src.spm', targetSpm: 'tgt.spm', vocab: 'my-vocab.json' },
  });
  const rejects = (fn: () => unknown, file: string, problem: RegExp): void => {
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof ModelFileError, `expected ModelFileError, got ${String(e)}`);
      assert.equal(e.file, file);
      assert.ok(e.message.includes(file), e.message);
      assert.match(e.problem, problem);
      return true;
    });
  };

  it('names a truncated .spm', () => {
    const f = files();
    rejects(() => MarianTokenizer.fromBuffers({ ...f, targetSpm: f.targetSpm.subarray(0, 1000) }), 'tgt.spm', /protobuf/);
  });

  it('names a .spm that is not protobuf at all', () => {
    rejects(() => MarianTokenizer.fromBuffers({ ...files(), sourceSpm: Buffer.from('{"hello": "world"}\n') }), 'src.spm', /./);
    rejects(() => MarianTokenizer.fromBuffers({ ...files(), sourceSpm: new Uint8Array(0) }), 'src.spm', /no sentence pieces/);
    const noise = Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24);
    rejects(() => MarianTokenizer.fromBuffers({ ...files(), sourceSpm: noise }), 'src.spm', /./);
  });

  it('names a malformed vocab.json', () => {
    const f = files();
    rejects(() => MarianTokenizer.fromBuffers({ ...f, vocabJson: '{"a": 1,' }), 'my-vocab.json', /not valid JSON/);
    rejects(() => MarianTokenizer.fromBuffers({ ...f, vocabJson: '["</s>"]' }), 'my-vocab.json', /not a JSON object/);
    rejects(
      () => MarianTokenizer.fromBuffers({ ...f, vocabJson: '{"</s>": 0, "<unk>": "1", "<pad>": 2}' }),
      'my-vocab.json',
      /"<unk>".*not a non-negative integer/,
    );
    rejects(() => MarianTokenizer.fromBuffers({ ...f, vocabJson: '{"</s>": 0, "<unk>": 1.5, "<pad>": 2}' }), 'my-vocab.json', /integer/);
    rejects(() => MarianTokenizer.fromBuffers({ ...f, vocabJson: '{"</s>": 0, "<unk>": 1}' }), 'my-vocab.json', /<pad>/);
  });

  it('names the file on disk when loading a folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokenizer-test-'));
    try {
      for (const name of ['source.spm', 'target.spm']) copyFileSync(join(CHECKPOINT_TOKENIZER, name), join(dir, name));
      writeFileSync(join(dir, 'vocab.json'), 'not json');
      rejects(() => MarianTokenizer.fromFolder(dir), join(dir, 'vocab.json'), /not valid JSON/);
      writeFileSync(join(dir, 'vocab.json'), '{"</s>": 0, "<unk>": 1, "<pad>": 2}');
      writeFileSync(join(dir, 'source.spm'), readFileSync(join(CHECKPOINT_TOKENIZER, 'source.spm')).subarray(0, 50_000));
      rejects(() => MarianTokenizer.fromFolder(dir), join(dir, 'source.spm'), /protobuf/);
      rmSync(join(dir, 'target.spm'));
      rejects(() => MarianTokenizer.fromFolder(dir), join(dir, 'target.spm'), /cannot be read|file not found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('requires target_vocab.json when the config says separate_vocabs', () => {
    rejects(
      () => MarianTokenizer.fromBuffers({ ...files(), tokenizerConfigJson: '{"separate_vocabs": true}' }),
      'target_vocab.json',
      /separate_vocabs/,
    );
  });
});
