/** The unknown-token share and source-language check, on the bundled English→Spanish model's real tokens. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadModelFolder } from '../../../../src/model';
import fs from 'node:fs';
import path from 'node:path';
import { checkSource, guessOtherLanguage, modelSourceLanguage, scriptCounts } from '../../../../src/model/text/sourceCheck';
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

  test('Spanish text for an English model: the notice says it reads as Spanish', () => {
    const text = 'Mi hermano se va de pesca todos los fines de semana.';
    const r = check(text);
    assert.equal(r.unknown, 0);
    assert.equal(r.foreignScript, undefined);
    assert.equal(r.guessedLanguage, 'Spanish');
    assert.equal(r.notice, 'This model translates English; this text reads as Spanish (a guess from its letter patterns). Expect a wrong translation.');
    // short texts are not guessed (too few letters to tell), nor texts in a script the model does not read
    assert.equal(check('Tengo hambre.').guessedLanguage, undefined);
    assert.equal(guessOtherLanguage('Mi hermano se va de pesca todos los fines de semana.', 'zh'), undefined);
    assert.equal(guessOtherLanguage('Mi hermano se va de pesca todos los fines de semana.', 'es'), undefined);
    assert.equal(guessOtherLanguage('My brother goes fishing every weekend with his friends.', 'es'), 'English');
  });

  test('held-out Tatoeba pairs: almost no English sentence is flagged, most Spanish ones are', () => {
    const rows = fs.readFileSync(path.join(__dirname, '../../../fixtures/corpus/en-es-held-out.tsv'), 'utf8')
      .split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('\t'));
    assert.equal(rows.length, 400);
    const flaggedEnglish = rows.filter(([en]) => guessOtherLanguage(en, 'en') !== undefined);
    const flaggedSpanish = rows.filter(([, es]) => guessOtherLanguage(es, 'en') !== undefined);
    const asSpanish = flaggedSpanish.filter(([, es]) => guessOtherLanguage(es, 'en') === 'Spanish');
    // measured: 4 English, 234 Spanish (of which 177 named Spanish, the rest a close Romance language)
    assert.ok(flaggedEnglish.length <= 6, `English flagged: ${flaggedEnglish.map(([en]) => en).join(' | ')}`);
    assert.ok(flaggedSpanish.length >= 200, `Spanish flagged ${flaggedSpanish.length}/400`);
    assert.ok(asSpanish.length >= 150, `named Spanish ${asSpanish.length}/400`);
  });
});
