/** Which sentences of a selection are explained, the per-sentence notice, and where the hover appears. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { explain, loadModelFolder } from '../../../src/model';
import { hoverAllowed, hoverSentence } from '../../../src/host/hoverScope';
import { MAX_SENTENCES, planSentences, sentenceNotice, sidebarSentence } from '../../../src/host/sentencePlan';
import { DEFAULTS } from '../../../src/host/settings';
import { BUNDLED_MODEL } from '../../helpers/golden';

const DOC = 'Intro line.\nThe lion kills the tiger. The cat sleeps. Where is the dog? Mr. Brown reads.';

describe('planSentences', () => {
  test('a paragraph in plain text: one span per sentence, document offsets', () => {
    const start = DOC.indexOf('The lion');
    const span = { start, end: DOC.length, text: DOC.slice(start) };
    const plan = planSentences(span, 'plaintext', 'commentsAndStrings');
    assert.deepEqual(plan.sentences.map((s) => s.text), ['The lion kills the tiger.', 'The cat sleeps.', 'Where is the dog?', 'Mr. Brown reads.']);
    for (const s of plan.sentences) assert.equal(DOC.slice(s.start, s.end), s.text);
    assert.equal(plan.notice, undefined);
    assert.equal(plan.proseOnly, false);
  });

  test('code: the comment\'s sentences with the markers blanked, same length as the document slice, and a notice', () => {
    const code = 'let x = 1; // Add the values.\n  // Then print them.\nfoo("Hello there.");';
    const plan = planSentences({ start: 100, end: 100 + code.length, text: code }, 'typescript', 'commentsAndStrings');
    assert.deepEqual(plan.sentences.map((s) => s.text.replace(/\s+/g, ' ')), ['Add the values.', 'Then print them.', 'Hello there.']);
    for (const s of plan.sentences) {
      assert.equal(s.end - s.start, s.text.length);
      const slice = code.slice(s.start - 100, s.end - 100);
      for (let i = 0; i < s.text.length; i++) if (s.text[i] !== ' ') assert.equal(s.text[i], slice[i]);
    }
    assert.match(plan.notice ?? '', /only the comments and text strings of this typescript selection/);
    assert.equal(planSentences({ start: 0, end: 9, text: 'x = y * 2' }, 'python', 'commentsAndStrings').sentences.length, 0);
    assert.match(planSentences({ start: 0, end: 9, text: 'x = y * 2' }, 'python', 'commentsAndStrings').notice ?? '', /no comments or text strings/);
    const all = planSentences({ start: 0, end: code.length, text: code }, 'typescript', 'everything');
    assert.equal(all.proseOnly, false);
    assert.ok(all.sentences[0].text.startsWith('let x = 1;'));
  });

  test('caps the number of sentences and says so', () => {
    const many = Array.from({ length: MAX_SENTENCES + 5 }, (_, i) => `Sentence number ${i + 1} is here.`).join(' ');
    const plan = planSentences({ start: 0, end: many.length, text: many }, 'markdown', 'commentsAndStrings');
    assert.equal(plan.sentences.length, MAX_SENTENCES);
    assert.match(plan.notice ?? '', new RegExp(`${MAX_SENTENCES + 5} sentences; the first ${MAX_SENTENCES}`));
  });
});

describe('sentenceNotice and the side view entry, on the real model', () => {
  const lm = loadModelFolder(BUNDLED_MODEL, { name: 'bundled' });
  test('English text: no notice; Chinese: the language and <unk> notice; truncation is appended', () => {
    const en = explain(lm, 'The lion kills the tiger.', { topK: DEFAULTS.topK });
    assert.equal(sentenceNotice(en, undefined), undefined);
    const zh = explain(lm, '我喜欢喝茶。', { topK: DEFAULTS.topK });
    assert.match(sentenceNotice(zh, 'CUT') ?? '', /^This model translates English; 100 % of the text's letters are in Han script .* CUT$/);
    const entry = sidebarSentence(en, undefined);
    assert.equal(entry.translation, en.translation);
    assert.deepEqual(entry.tokens.map((t) => t.piece), en.targetPieces.slice(1));
    assert.deepEqual(entry.tokens.map((t) => t.prob), en.steps.map((s) => s.chosenProb));
  });
});

describe('hover scope', () => {
  test('the default languages: plain text and Markdown everywhere, code only in comments, others never', () => {
    const langs = DEFAULTS.hoverLanguages;
    assert.equal(hoverAllowed('plaintext', langs), 'all');
    assert.equal(hoverAllowed('markdown', langs), 'all');
    assert.equal(hoverAllowed('typescript', langs), 'comments');
    assert.equal(hoverAllowed('json', ['plaintext']), 'none');
    assert.equal(hoverAllowed('typescript', ['*']), 'all');
    assert.equal(hoverAllowed('latex', langs), 'none');
  });

  test('the sentence under the cursor; in code only inside a comment', () => {
    const text = 'First one. The lion kills the tiger. Last.';
    const at = text.indexOf('kills');
    assert.deepEqual(hoverSentence(text, 50, 50 + at, 'plaintext', 'all'), { start: 61, end: 86, text: 'The lion kills the tiger.' });
    const code = 'const values = [1]; // Sum the values. Then stop.';
    assert.equal(hoverSentence(code, 0, code.indexOf('values'), 'typescript', 'comments'), 'outside');
    const s = hoverSentence(code, 0, code.indexOf('stop'), 'typescript', 'comments');
    assert.ok(s && s !== 'outside');
    assert.equal(s.text, 'Then stop.');
    assert.equal(code.slice(s.start, s.end), 'Then stop.');
  });
});
