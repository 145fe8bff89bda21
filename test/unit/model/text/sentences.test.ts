/** Sentence splitting of editor text: boundaries, abbreviations, line wrapping, offsets into the input. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { sentenceAt, shiftSentences, splitSentences } from '../../../../src/model/text/sentences';

const texts = (input: string) => splitSentences(input).map((s) => s.text);

describe('splitSentences', () => {
  test('a four-sentence paragraph gives four sentences with exact offsets', () => {
    const p = 'The lion kills the tiger. The cat sleeps on the mat! Where is the dog? It is in the garden.';
    const s = splitSentences(p);
    assert.deepEqual(texts(p), ['The lion kills the tiger.', 'The cat sleeps on the mat!', 'Where is the dog?', 'It is in the garden.']);
    for (const x of s) assert.equal(p.slice(x.start, x.end), x.text);
    assert.deepEqual(s.map((x) => x.start), [0, 26, 53, 71]);
  });

  test('abbreviations and initials do not end a sentence', () => {
    assert.deepEqual(texts('Mr. Smith met Dr. Jones. They talked.'), ['Mr. Smith met Dr. Jones.', 'They talked.']);
    assert.deepEqual(texts('J. R. R. Tolkien wrote books. Then e.g. apples fell.'), ['J. R. R. Tolkien wrote books.', 'Then e.g. apples fell.']);
  });

  test('a quotation ending in ! or ? followed by lower case continues the sentence', () => {
    assert.deepEqual(texts('He said "stop!" and left. She stayed.'), ['He said "stop!" and left.', 'She stayed.']);
  });

  test('wrapped lines join; blank lines and list items break', () => {
    const t = 'This sentence is\nwrapped over\r\nthree lines. Next.\n\nNew paragraph\n- item one\n- item two';
    assert.deepEqual(texts(t), ['This sentence is\nwrapped over\r\nthree lines.', 'Next.', 'New paragraph', '- item one', '- item two']);
  });

  test('CJK full stops end sentences', () => {
    assert.deepEqual(texts('我喜欢喝茶。你呢？'), ['我喜欢喝茶。', '你呢？']);
  });

  test('empty, whitespace and punctuation-only pieces give no sentence', () => {
    assert.deepEqual(splitSentences(''), []);
    assert.deepEqual(splitSentences(' \n\t '), []);
    assert.deepEqual(splitSentences('... !!'), []);
    // punctuation after a sentence stays with it rather than becoming a sentence of its own
    assert.deepEqual(texts('It works. ...'), ['It works. ...']);
  });

  test('offsets always point at the sentence text, sentences are ordered and disjoint (fuzz)', () => {
    const alphabet = fc.constantFrom('a', 'B', ' ', '.', '!', '?', '\n', '\r', 'Mr.', 'é', '。', '"', '3', '😀');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 60 }), (parts) => {
        const t = parts.join('');
        let last = 0;
        for (const s of splitSentences(t)) {
          assert.equal(t.slice(s.start, s.end), s.text);
          assert.equal(s.text, s.text.trim());
          assert.ok(s.start >= last && s.end > s.start);
          assert.match(s.text, /[\p{L}\p{N}]/u);
          last = s.end;
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('sentenceAt / shiftSentences', () => {
  const t = 'One two. Three four. Five.';
  const s = splitSentences(t);
  test('finds the sentence under an offset, the one before in a gap', () => {
    assert.equal(sentenceAt(s, t.indexOf('four'))?.text, 'Three four.');
    assert.equal(sentenceAt(s, t.indexOf(' Three'))?.text, 'One two.'); // the space between
    assert.equal(sentenceAt([], 3), undefined);
  });
  test('shifts to document offsets', () => {
    assert.deepEqual(shiftSentences(s, 100)[1], { start: 109, end: 120, text: 'Three four.' });
  });
});
