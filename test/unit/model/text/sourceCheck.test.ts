/** The unknown-token share and source-language check, on the bundled English→Spanish model's real tokens. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadModelFolder } from '../../../../src/model';
import { checkSource, modelSourceLanguage, scriptCounts } from '../../../../src/model/text/sourceCheck';
import { BUNDLED_MODEL } from '../../../helpers/golden';

const lm = loadModelFolder(BUNDLED_MODEL, { name: 'bundled' });
const pieces = (text: string) => lm.tokenizer.encodeWithOffsets(text).ids.map((id) => lm.tokenizer.idToPiece(id));
const check = (text: string) => checkSource({ text, pieces: pieces(text), sourceLang: lm.summary.sourceLang, modelName: lm.summary.name });

describe('checkSource', () => {
  test('plain English: no notice', () => {
    const r = check('The lion kills the tiger.');
    assert.equal(r.unknown, 0);
    assert.equal(r.notice, undefined);
    assert.equal(r.modelLanguage, 'English');
  });

  test('Chinese: foreign script and unknown tokens are both reported', () => {
    const r = check('我喜欢喝茶。');
    assert.equal(r.foreignScript, 'Han');
    assert.equal(r.foreignShare, 1);
    assert.ok(r.unknown >= 1);
    // the count in the notice is the tokenizer's own count of <unk> pieces
    const p = pieces('我喜欢喝茶。');
    const unk = p.filter((x) => x === '<unk>').length;
    const content = p.filter((x) => x !== '</s>' && x !== '▁').length;
    assert.equal(r.unknown, unk);
    assert.equal(r.tokens, content);
    assert.match(r.notice ?? '', /^This model translates English; 100 % of the text's letters are in Han script/);
    assert.ok(r.notice!.includes(`${Math.round((unk / content) * 100)} % of this text is unknown to its vocabulary (${unk} of ${content} tokens are <unk>)`));
  });

  test('code symbols become <unk> and are reported', () => {
    const r = check('{ [ = * }');
    assert.ok(r.unknown > 0 && r.unknownShare >= 0.4, `${r.unknown}/${r.tokens}`);
    assert.equal(r.foreignScript, undefined);
    assert.match(r.notice ?? '', /unknown to its vocabulary/);
  });

  test('language from an opus-mt folder name when the config has none; unknown model language still reports <unk>', () => {
    assert.equal(modelSourceLanguage(undefined, 'opus-mt-de-en'), 'de');
    assert.equal(modelSourceLanguage('FR', 'opus-mt-de-en'), 'fr');
    assert.equal(modelSourceLanguage(undefined, 'my-model'), undefined);
    const r = checkSource({ text: '{ x }', pieces: ['▁', '<unk>', '▁x', '▁', '<unk>', '</s>'] });
    assert.equal(r.unknown, 2);
    assert.equal(r.tokens, 3);
    assert.match(r.notice ?? '', /^This model; 67 % of this text is unknown/);
  });

  test('scriptCounts counts letters only', () => {
    assert.deepEqual([...scriptCounts('ab 1 Жя 中!')], [['Latin', 2], ['Cyrillic', 2], ['Han', 1]]);
  });
});
