/** Tokenizer variants of published checkpoints: multilingual `>>xx<<` target tokens and separate target vocabularies. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { explain, loadModelFolder, translate } from '../../../src/model';
import { generate } from '../../../src/model/generation/generate';
import { TINY_MODEL } from '../../helpers/golden';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-lens-variants-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function variant(name: string, edit: (dir: string, vocab: Record<string, number>) => void): string {
  const dir = path.join(tmp, name);
  fs.cpSync(TINY_MODEL, dir, { recursive: true });
  fs.rmSync(path.join(dir, 'golden.json'));
  edit(dir, JSON.parse(fs.readFileSync(path.join(dir, 'vocab.json'), 'utf8')));
  return dir;
}

describe('multilingual model with >>xx<< target-language tokens', () => {
  // two rarely used pieces give up their ids to language tokens, as in opus-mt multi-target models
  const dir = variant('multilingual', (d, vocab) => {
    const byId = new Map(Object.entries(vocab).map(([k, v]) => [v, k]));
    delete vocab[byId.get(7990)!];
    delete vocab[byId.get(7991)!];
    vocab['>>spa<<'] = 7990;
    vocab['>>fra<<'] = 7991;
    fs.writeFileSync(path.join(d, 'vocab.json'), JSON.stringify(vocab));
  });
  const lm = loadModelFolder(dir);
  const text = 'The lion kills the tiger.';

  test('the tokenizer lists the language tokens', () => assert.deepEqual([...lm.tokenizer.languageCodes].sort(), ['>>fra<<', '>>spa<<']));

  test('the chosen language token leads the source and drives the translation', () => {
    const plain = lm.tokenizer.encode(text).ids;
    const e = explain(lm, text, { targetLanguage: 'spa' });
    assert.deepEqual(e.sourceIds, [7990, ...plain]);
    assert.equal(e.sourcePieces[0], '>>spa<<');
    // the same as running the network on [code, ...text ids] directly
    const mem = lm.model.crossMemory(lm.model.encode([7990, ...plain]));
    const direct = generate(lm.model, mem, { ...lm.generation, numBeams: 1, topK: 1 });
    assert.deepEqual(e.targetIds, direct.ids);
    assert.deepEqual(translate(lm, text, { targetLanguage: '>>fra<<' }).ids.length > 0, true);
    assert.notDeepEqual(explain(lm, text, { targetLanguage: 'fra' }).sourceIds, e.sourceIds);
  });

  test('offsets stay relative to the user text', () => {
    const e = explain(lm, text, { targetLanguage: 'spa' });
    assert.equal(e.sourceText, text);
    assert.deepEqual(e.sourceOffsets[0], [0, 0]);
    assert.equal(text.slice(...e.sourceOffsets[2]), 'lion');
  });

  test('an unknown language is refused with the available ones listed', () => {
    assert.throws(() => explain(lm, text, { targetLanguage: 'deu' }), /no target language "deu"; it offers .*>>spa<</);
  });

  test('a model without language tokens refuses a target language', () => {
    const single = loadModelFolder(TINY_MODEL);
    assert.throws(() => translate(single, text, { targetLanguage: 'spa' }), /no >>xx<< language tokens/);
  });
});

describe('separate source and target vocabularies', () => {
  // target ids 2..7997 are reversed relative to the source vocabulary; specials keep their ids
  const dir = variant('separate-vocabs', (d, vocab) => {
    const target: Record<string, number> = {};
    for (const [piece, id] of Object.entries(vocab)) target[piece] = id >= 2 && id <= 7997 ? 7999 - id : id;
    fs.writeFileSync(path.join(d, 'target_vocab.json'), JSON.stringify(target));
    const cfg = JSON.parse(fs.readFileSync(path.join(d, 'tokenizer_config.json'), 'utf8'));
    fs.writeFileSync(path.join(d, 'tokenizer_config.json'), JSON.stringify({ ...cfg, separate_vocabs: true }));
  });
  const sep = loadModelFolder(dir);
  const shared = loadModelFolder(TINY_MODEL);
  const text = 'Where is the nearest train station?';

  test('source ids come from vocab.json and output pieces from target_vocab.json', () => {
    const a = explain(sep, text);
    const b = explain(shared, text);
    assert.deepEqual(a.sourceIds, b.sourceIds);
    assert.deepEqual(a.targetIds, b.targetIds); // same network, same source ids
    a.targetIds.forEach((id, i) => {
      const expected = id >= 2 && id <= 7997 ? shared.tokenizer.idToPiece(7999 - id) : shared.tokenizer.idToPiece(id);
      assert.equal(a.targetPieces[i], expected);
    });
    assert.notEqual(a.translation, b.translation);
  });
});
