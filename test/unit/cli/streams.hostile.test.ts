/**
 * Issue 18, class 7 (and 6 on the terminal): the CLI's streams. Only LF and CRLF end a line; a full disk or a
 * closed pipe gives one line on stderr, never a stack trace; an overlong input line is refused with a message;
 * `explain` cuts the source at 128 tokens by default, like the extension; file contents in errors reach stderr
 * escaped.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { ROOT, TINY_MODEL } from '../../helpers/golden';
import { CLI } from '../../helpers/cli';
import { tinyCopy } from '../../helpers/hostileFiles';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-lens-cli-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const run = (args: string[], input: string | Buffer, stdout: 'pipe' | number = 'pipe') =>
  spawnSync(process.execPath, [CLI, ...args], { input, cwd: ROOT, encoding: 'utf8', stdio: ['pipe', stdout, 'pipe'], maxBuffer: 64 * 1024 * 1024 });
const oneLine = (stderr: string): string => {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${stderr}`);
  assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
  return lines[0];
};

describe('the CLI streams (class 7)', () => {
  test('a lone CR does not end a line: three input lines give three output lines', () => {
    const r = run(['translate', '--model', TINY_MODEL, '--threads', '1'], 'Hello.\rGood morning.\nThe cat.\r\nThanks');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.split('\n').length - 1, 3, JSON.stringify(r.stdout));
    const alone = run(['translate', '--model', TINY_MODEL, '--threads', '1'], 'Hello.\rGood morning.\n');
    assert.equal(r.stdout.split('\n')[0], alone.stdout.split('\n')[0], 'the CR stays inside the first line');
  });

  test('writing to a full disk (> /dev/full) is one line and status 1', () => {
    const full = fs.openSync('/dev/full', 'w');
    try {
      for (const args of [['translate', '--model', TINY_MODEL, '--threads', '1'], ['explain', '--model', TINY_MODEL, '--threads', '1', 'Hello.']]) {
        const r = run(args, 'Hello.\n', full);
        assert.equal(r.status, 1, r.stderr);
        assert.match(oneLine(r.stderr), /^attention-lens: cannot write the output: no space left on the device \(ENOSPC\)$/);
      }
    } finally {
      fs.closeSync(full);
    }
  });

  test('a reader that closes the pipe early gets one line and status 0', async () => {
    const child = spawn(process.execPath, [CLI, 'translate', '--model', TINY_MODEL, '--threads', '1'], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    child.stdin.on('error', () => undefined);
    child.stdin.end('Hello.\n'.repeat(3000));
    const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(status, 0, stderr);
    assert.match(oneLine(stderr), /the output was closed before everything was written \(EPIPE\)/);
  });

  test('an input line over 1 MB is refused with a message, not a stack trace', () => {
    const r = run(['translate', '--model', TINY_MODEL, '--threads', '1'], `Hello.\n${'a'.repeat(1_200_000)}\nBye.\n`);
    assert.equal(r.status, 1);
    assert.match(oneLine(r.stderr), /^attention-lens: input line 2 is longer than 1048576 bytes; split it into shorter lines$/);
    assert.equal(r.stdout.split('\n').length - 1, 1, 'the line before it was translated');
    const e = run(['explain', '--model', TINY_MODEL], Buffer.alloc(1_100_000, 0x61));
    assert.equal(e.status, 1);
    assert.match(oneLine(e.stderr), /the input is longer than 1048576 bytes/);
  });

  test('explain cuts the source at 128 tokens by default, like the extension', () => {
    const text = Array.from({ length: 300 }, (_, i) => `word${i}`).join(' ');
    const r = run(['explain', '--threads', '1', '--json'], text);
    assert.equal(r.status, 0, r.stderr);
    const e = JSON.parse(r.stdout);
    assert.equal(e.sourceIds.length, 128);
    assert.equal(e.truncated, true);
  });

  test('file contents in an error reach stderr escaped (class 6)', () => {
    const dir = tinyCopy(tmp, 'esc');
    const cfg = JSON.parse(fs.readFileSync(path.join(TINY_MODEL, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, model_type: '\x1b]0;pwned\x07\x1b[2J' }));
    const r = run(['translate', '--model', dir], 'Hello.\n');
    assert.equal(r.status, 1);
    const line = oneLine(r.stderr);
    assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(r.stderr), JSON.stringify(r.stderr));
    assert.match(line, /\\u001b\]0;pwned\\u0007|\\x1b\]0;pwned\\x07/);
  });
});
