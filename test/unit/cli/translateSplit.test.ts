/** `attention-lens translate --split`: several sentences per line, each translated on its own. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { loadModelFolder, translate } from '../../../src/model';
import { splitSentences } from '../../../src/model/text/sentences';
import { BUNDLED_MODEL, ROOT } from '../../helpers/golden';
import { CLI } from '../../helpers/cli';

const cli = (args: string[], input: string) =>
  spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', cwd: ROOT });

describe('translate --split', () => {
  const lm = loadModelFolder(BUNDLED_MODEL, { name: 'bundled' });
  const paragraph = 'The lion kills the tiger. The cat sleeps on the mat. Where is the dog? Mr. Brown reads a book.';
  const single = 'The cat sleeps.';

  test('each line gives the per-sentence translations joined by one space; without --split one line is one sequence', () => {
    const sentences = splitSentences(paragraph).map((s) => s.text);
    assert.equal(sentences.length, 4);
    const expected = sentences.map((s) => translate(lm, s, {}).text).join(' ');
    const r = cli(['translate', '--split', '--threads', '1'], `${paragraph}\n\n${single}\n`);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n'), [expected, '', translate(lm, single, {}).text, '']);

    const whole = cli(['translate', '--threads', '1'], `${paragraph}\n`);
    assert.equal(whole.status, 0, whole.stderr);
    assert.equal(whole.stdout, `${translate(lm, paragraph, {}).text}\n`);
    assert.notEqual(whole.stdout.trimEnd(), expected);
  });
});
