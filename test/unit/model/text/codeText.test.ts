/** The prose of a code selection: comments and string literals per language, offsets kept. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isCodeLanguage, proseSegments } from '../../../../src/model/text/codeText';

const TS = `/**
 * Returns the sum of the values.
 */
function sum(values: number[]): number {
  // Add them up. The comment
  // continues here.
  const s = values.reduce((a, b) => a + b, 0); // trailing note
  log("The total is ready.", 'utf8');
  return s * 2;
}`;

describe('proseSegments', () => {
  test('TypeScript: block comment, joined line comments, trailing comment, prose string; no code', () => {
    const segs = proseSegments(TS, 'typescript');
    assert.deepEqual(segs.map((s) => [s.kind, s.text.replace(/\s+/g, ' ').trim()]), [
      ['comment', 'Returns the sum of the values.'],
      ['comment', 'Add them up. The comment continues here.'],
      ['comment', 'trailing note'],
      ['string', 'The total is ready.'],
    ]);
    for (const s of segs) {
      assert.equal(s.text.length, s.end - s.start, 'same length as the selection slice');
      // every non-space character of a segment is the selection's character at that offset
      for (let i = 0; i < s.text.length; i++) if (s.text[i] !== ' ') assert.equal(s.text[i], TS[s.start + i]);
    }
    const all = segs.map((s) => s.text).join(' ');
    for (const code of ['{', '[', '=', '*', 'reduce', 'utf8']) assert.ok(!all.includes(code), `no ${code}`);
  });

  test('Python: hash comments, docstrings, escapes inside strings', () => {
    const py = "# Compute the answer.\nx = 'it\\'s a test'\n'''Doc string here.'''\ny = \"a\"";
    assert.deepEqual(proseSegments(py, 'python').map((s) => s.text.trim()), ['Compute the answer.', "it\\'s a test", 'Doc string here.']);
  });

  test('HTML comments, SQL line comments', () => {
    assert.deepEqual(proseSegments('<p>x</p><!-- Hidden note here. -->', 'html').map((s) => s.text.trim()), ['Hidden note here.']);
    assert.deepEqual(proseSegments("SELECT 1; -- Count the rows.\n", 'sql').map((s) => s.text.trim()), ['Count the rows.']);
  });

  test('prose languages, unknown ids and mode "everything" send the whole text', () => {
    for (const id of ['plaintext', 'markdown', 'some-new-language']) {
      assert.deepEqual(proseSegments('Hello world.', id), [{ start: 0, end: 12, text: 'Hello world.', kind: 'text' }]);
    }
    assert.deepEqual(proseSegments('x = 1 // hi', 'typescript', 'everything'), [{ start: 0, end: 11, text: 'x = 1 // hi', kind: 'text' }]);
    assert.deepEqual(proseSegments('   ', 'plaintext'), []);
  });

  test('code with no comments or prose strings gives no segment', () => {
    assert.deepEqual(proseSegments('const { a } = b[0] * 2;', 'typescript'), []);
    assert.equal(isCodeLanguage('typescript'), true);
    assert.equal(isCodeLanguage('markdown'), false);
  });

  test('an unterminated block comment runs to the end of the selection', () => {
    const segs = proseSegments('x; /* Still open', 'c');
    assert.equal(segs.length, 1);
    assert.equal(segs[0].end, 16);
  });
});
