/** Which text gets explained: selection, current line, sentence around a hover, budgets and labels. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MAX_SELECTION_CHARS,
  READ_MARGIN_CHARS,
  capSpan,
  capToBudget,
  charBudget,
  explainTarget,
  selectionSpan,
  sentenceAround,
  shortLabel,
  trimSpan,
} from '../../../src/host/selection';

describe('explainTarget', () => {
  const line = { text: '  The lion kills the tiger.  ', start: 100 };

  test('a selection is explained as selected, trimmed, with exact offsets', () => {
    assert.deepEqual(explainTarget({ text: ' lion kills ', start: 105 }, line), { start: 106, end: 116, text: 'lion kills' });
  });

  test('an empty selection explains the current line', () => {
    assert.deepEqual(explainTarget({ text: '', start: 110 }, line), { start: 102, end: 127, text: 'The lion kills the tiger.' });
  });

  test('whitespace-only selection or line gives nothing', () => {
    assert.equal(explainTarget({ text: ' \t\n ', start: 0 }, line), undefined);
    assert.equal(explainTarget({ text: '', start: 0 }, { text: '   ', start: 0 }), undefined);
    assert.equal(explainTarget({ text: '', start: 0 }, { text: '', start: 0 }), undefined);
  });

  test('multi-line selections keep inner line breaks', () => {
    assert.deepEqual(explainTarget({ text: 'a\nb\n', start: 5 }, line), { start: 5, end: 8, text: 'a\nb' });
  });
});

describe('budgets', () => {
  test('charBudget scales with tokens and has a floor', () => {
    assert.equal(charBudget(128), 2048);
    assert.equal(charBudget(1), 64);
  });

  test('capSpan cuts long text without splitting surrogate pairs', () => {
    const span = trimSpan('ab😀cd', 0)!;
    const { span: cut, cut: wasCut } = capSpan(span, 3);
    assert.equal(wasCut, true);
    assert.equal(cut.text, 'ab');
    assert.equal(cut.end, 2);
    assert.deepEqual(capSpan(span, 100), { span, cut: false });
  });
});

describe('sentenceAround', () => {
  const text = 'First one. The lion kills the tiger! Last?';
  const line = { text, start: 1000 };

  test('finds the sentence holding the offset', () => {
    assert.deepEqual(sentenceAround(line, 1000 + text.indexOf('lion')), { start: 1011, end: 1036, text: 'The lion kills the tiger!' });
    assert.equal(sentenceAround(line, 1000)!.text, 'First one.');
    assert.equal(sentenceAround(line, 1000 + text.indexOf('Last'))!.text, 'Last?');
  });

  test('dots inside words (e.g. numbers, file names) do not end a sentence', () => {
    assert.equal(sentenceAround({ text: 'Version 1.2 is out. Next', start: 0 }, 9)!.text, 'Version 1.2 is out.');
  });

  test('long sentences are bounded around the offset', () => {
    const words = Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ');
    const at = words.indexOf('w100');
    const span = sentenceAround({ text: words, start: 0 }, at, 100)!;
    assert.ok(span.text.length <= 120, `length ${span.text.length}`);
    assert.ok(span.start <= at && span.end > at, 'contains the offset');
    assert.equal(words.slice(span.start, span.end), span.text);
    assert.ok(span.start === 0 || words[span.start - 1] === ' ', 'starts at a word boundary');
  });

  test('a whitespace line gives nothing', () => {
    assert.equal(sentenceAround({ text: '    ', start: 0 }, 2), undefined);
  });
});

describe('shortLabel', () => {
  test('first 30 characters with an ellipsis, whitespace collapsed', () => {
    assert.equal(shortLabel('The lion kills the tiger.'), 'The lion kills the tiger.');
    assert.equal(shortLabel('a\n\nb'), 'a b');
    assert.equal(shortLabel('x'.repeat(40)), `${'x'.repeat(30)}…`);
  });
});

describe('selectionSpan: the one way a selection becomes the text sent on', () => {
  const doc = '  ' + 'word '.repeat(20_000);
  const reads: Array<[number, number]> = [];
  const read = (a: number, b: number) => {
    reads.push([a, b]);
    return doc.slice(a, b);
  };

  test('reads at most max(budget + margin, MAX_SELECTION_CHARS) characters and says the selection was cut', () => {
    reads.length = 0;
    const { span, cut } = selectionSpan(0, doc.length, 128, read);
    assert.deepEqual(reads, [[0, MAX_SELECTION_CHARS]]);
    assert.equal(cut, true);
    assert.equal(span!.start, 2, 'leading whitespace trimmed, offsets kept');
    assert.equal(span!.text, doc.slice(2, MAX_SELECTION_CHARS).trimEnd());
    const big = 4096; // a budget above the cap: read up to budget + margin
    reads.length = 0;
    selectionSpan(10, doc.length, big, read);
    assert.deepEqual(reads, [[10, 10 + charBudget(big) + READ_MARGIN_CHARS]]);
  });

  test('a short selection is read whole, not cut; whitespace alone gives no span', () => {
    assert.deepEqual(selectionSpan(2, 12, 128, read), { span: { start: 2, end: 11, text: 'word word' }, cut: false });
    assert.deepEqual(selectionSpan(0, 2, 128, read), { span: undefined, cut: false });
  });

  test('capToBudget cuts a span to the character budget of the token setting', () => {
    const span = { start: 5, end: 5 + 5000, text: 'a'.repeat(5000) };
    assert.deepEqual(capToBudget(span, 128).span.text.length, charBudget(128));
    assert.equal(capToBudget(span, 128).cut, true);
  });
});
