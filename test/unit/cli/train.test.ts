/** `attention-lens train --json`: progress lines, the summary line's contract, and the saved folder. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { ROOT } from '../../helpers/golden';
import { CLI } from '../../helpers/cli';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8' });

describe('attention-lens train', () => {
  test('lets-go: progress lines, then {task, steps, seconds, loss, probe}; --out is a folder translate reads', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'al-cli-train-')), 'lets-go');
    const r = cli('train', '--task', 'lets-go', '--steps', '200', '--seed', '1', '--out', out, '--json');
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const last = lines.pop();
    assert.ok(lines.length >= 10 && lines.every((l) => Number.isInteger(l.step) && Number.isFinite(l.loss)));
    assert.deepEqual(Object.keys(last), ['task', 'steps', 'seconds', 'loss', 'probe']);
    assert.equal(last.task, 'lets-go');
    assert.equal(last.steps, 200);
    assert.ok(last.loss < 0.05);
    assert.deepEqual(last.probe, [{ source: "let's go", translation: 'vamos' }, { source: 'to go', translation: 'ir' }]);
    const t = spawnSync(process.execPath, [CLI, 'translate', '--model', out],
      { cwd: ROOT, encoding: 'utf8', input: "let's go\nto go\n" });
    assert.equal(t.stdout, 'vamos\nir\n', t.stderr);
  });

  test('an unknown task is an error listing the tasks', () => {
    const r = cli('train', '--task', 'chess', '--steps', '1', '--json');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /unknown task "chess"; tasks: lets-go, reverse, tatoeba-en-es/);
  });
});
