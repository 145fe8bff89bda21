/**
 * Issue 18, classes 1, 3, 5 and 6: model files that are special files (symlinks to /dev/zero and /dev/urandom,
 * FIFOs, symlink loops, folders), sizes and counts beyond what the config allows (sparse weight files, a 5M-entry
 * vocab.json, pickle opcode bombs), a vocab.json from another checkpoint, and file contents that would reach the
 * terminal raw. Every file is built on the fly.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { loadModelFolder, translate, ModelFileError } from '../../../src/model';
import { unpickleStateDict, PICKLE_LIMITS } from '../../../src/model/loading/pytorch/unpickle';
import { escapeControls } from '../../../src/shared/safeText';
import { ROOT, TINY_MODEL } from '../../helpers/golden';
import { editTensor, fifoIn, hugeVocab, opcodeBomb, sparseFile, symlinkIn, tinyCopy, tinyTensors, withPickle } from '../../helpers/hostileFiles';
import { encodeSafetensors } from '../../helpers/modelFiles';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-lens-special-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const BIN_MODEL = path.join(ROOT, 'test', 'fixtures', 'byo', 'tiny-random-swish-bin');
let n = 0;
const copy = (from = TINY_MODEL) => tinyCopy(tmp, `m${n++}`, from);
const reference = translate(loadModelFolder(TINY_MODEL), 'The lion kills the tiger.').ids;

/** Loading `dir` fails with a ModelFileError about `file` whose message matches `problem`. */
function refuses(dir: string, file: string, problem: RegExp): ModelFileError {
  let caught: unknown;
  try {
    loadModelFolder(dir);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ModelFileError, `expected ModelFileError, got ${String(caught)}`);
  assert.equal(path.basename(caught.file), file, caught.message);
  assert.match(caught.message, problem);
  return caught;
}

describe('special files in place of model files (class 1)', () => {
  for (const [file, device] of [
    ['config.json', '/dev/zero'], ['vocab.json', '/dev/urandom'], ['source.spm', '/dev/zero'], ['target.spm', '/dev/urandom'],
    ['tokenizer_config.json', '/dev/zero'], ['model.safetensors', '/dev/zero'],
  ] as const) {
    test(`${file} → ${device} is refused as a character device, unread`, () => {
      const dir = copy();
      symlinkIn(dir, file, device);
      refuses(dir, file, new RegExp(`${file.replace('.', '\\.')}: is a character device, not a file`));
    });
  }

  test('generation_config.json → /dev/zero is refused too (an optional file that is present must be a file)', () => {
    const dir = copy();
    symlinkIn(dir, 'generation_config.json', '/dev/zero');
    refuses(dir, 'generation_config.json', /is a character device, not a file/);
  });

  test('an unused target_vocab.json → /dev/zero is never opened: the model loads and translates', () => {
    const dir = copy();
    symlinkIn(dir, 'target_vocab.json', '/dev/zero');
    assert.deepEqual(translate(loadModelFolder(dir), 'The lion kills the tiger.').ids, reference);
  });

  for (const file of ['config.json', 'vocab.json', 'source.spm', 'model.safetensors']) {
    test(`a FIFO as ${file} is refused without blocking`, () => {
      const dir = copy();
      fifoIn(dir, file);
      refuses(dir, file, /is a FIFO \(named pipe\), not a file/);
    });
  }

  test('a symlink loop is named as such, not "file not found"', () => {
    const dir = copy();
    symlinkIn(dir, 'vocab.json', 'loop-b');
    fs.symlinkSync('vocab.json', path.join(dir, 'loop-b'));
    refuses(dir, 'vocab.json', /is a symbolic link loop/);
  });

  test('a folder named config.json, and a dangling symlink', () => {
    const dir = copy();
    fs.rmSync(path.join(dir, 'config.json'));
    fs.mkdirSync(path.join(dir, 'config.json'));
    refuses(dir, 'config.json', /is a folder, not a file/);
    const dir2 = copy();
    symlinkIn(dir2, 'source.spm', path.join(tmp, 'nowhere'));
    refuses(dir2, 'source.spm', /file not found/);
  });

  test('small files are capped for their purpose (a 5 MB sparse config.json, a 40 MB sparse source.spm)', () => {
    const dir = copy();
    sparseFile(path.join(dir, 'config.json'), Buffer.from('{'), 5 * 1024 * 1024);
    refuses(dir, 'config.json', /is 5\.0 MB, more than the 4\.0 MB a configuration file can need/);
    const dir2 = copy();
    sparseFile(path.join(dir2, 'source.spm'), new Uint8Array(1), 40 * 1024 * 1024);
    refuses(dir2, 'source.spm', /is 40\.0 MB, more than the 32\.0 MB a SentencePiece model can need/);
  });
});

describe('sizes and counts checked against the config before anything is built (class 3)', () => {
  test('a 2.2 GB sparse model.safetensors with the tiny header: only the tensors are read, the holes never', () => {
    const dir = copy();
    const real = fs.readFileSync(path.join(dir, 'model.safetensors'));
    sparseFile(path.join(dir, 'model.safetensors'), real, 2.2e9);
    // the data section now ends in 2.2 GB of holes the header never points into
    const before = process.memoryUsage().arrayBuffers;
    const lm = loadModelFolder(dir);
    const grew = process.memoryUsage().arrayBuffers - before;
    assert.ok(grew < 64 * 1024 * 1024, `array buffers grew by ${grew} bytes`);
    assert.deepEqual(translate(lm, 'The lion kills the tiger.').ids, reference);
  });

  test('a 2.2 GB sparse pytorch_model.bin is refused before it is read (the config allows far less)', () => {
    const dir = copy(BIN_MODEL);
    const real = fs.readFileSync(path.join(dir, 'pytorch_model.bin'));
    sparseFile(path.join(dir, 'pytorch_model.bin'), real, 2.2e9);
    refuses(dir, 'pytorch_model.bin', /is 2098\.1 MB, more than the \d+\.\d MB a weights file of the model config\.json describes can need/);
  });

  test('a config.json describing 10^12 parameters is refused before any weight is read', () => {
    const dir = copy();
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, d_model: 65536, encoder_ffn_dim: 1 << 20, encoder_attention_heads: 1, decoder_attention_heads: 1 }));
    refuses(dir, 'config.json', /describes a model of .* parameters .*; at most 1\.07e\+9 are supported/);
  });

  test('a 5M-entry vocab.json is refused before it is parsed', () => {
    const dir = copy();
    hugeVocab(path.join(dir, 'vocab.json'), 5_000_000);
    // 98 MB: over the absolute cap for any vocabulary; a smaller one is held to vocab_size × 1 KB
    refuses(dir, 'vocab.json', /is 98\.0 MB, more than the 64\.0 MB a vocabulary can need/);
    const dir2 = copy();
    hugeVocab(path.join(dir2, 'vocab.json'), 1_000_000);
    refuses(dir2, 'vocab.json', /is \d+ bytes, more than a vocabulary of config\.json's vocab_size 7999 can take/);
  });

  test('a vocab.json with one entry more than vocab_size is refused by its count', () => {
    const dir = copy();
    const vocab = JSON.parse(fs.readFileSync(path.join(dir, 'vocab.json'), 'utf8'));
    vocab['extra, "with": {commas}'] = 7998; // an id in range, a key that fools naive counting
    fs.writeFileSync(path.join(dir, 'vocab.json'), JSON.stringify(vocab));
    refuses(dir, 'vocab.json', /has 8000 entries but config\.json's vocab_size is 7999/);
  });

  test('data.pkl opcode bombs: 40 MB of EMPTY_DICT is refused unread, a smaller one stops at the stack bound', () => {
    const dir = copy(BIN_MODEL);
    const bin = path.join(dir, 'pytorch_model.bin');
    withPickle(path.join(BIN_MODEL, 'pytorch_model.bin'), opcodeBomb(0x7d, 40_000_000), bin);
    refuses(dir, 'pytorch_model.bin', /data\.pkl is 40000003 bytes; a state dict's pickle needs far less/);
    for (const op of [0x7d /* EMPTY_DICT */, 0x4e /* NONE */, 0x28 /* MARK */]) {
      assert.throws(() => unpickleStateDict('p.bin', opcodeBomb(op, 4_000_000)), (e: unknown) =>
        e instanceof ModelFileError && /grows past \d+ entries: not a state dict/.test(e.message));
    }
    // lists: NONE, APPEND pairs (each element counted)
    const appends = Buffer.concat([Buffer.from([0x80, 0x02, 0x5d]), Buffer.alloc(2 * (PICKLE_LIMITS.items + 2), Buffer.from([0x4e, 0x61])), Buffer.from([0x2e])]);
    assert.throws(() => unpickleStateDict('p.bin', appends), /the lists and dicts grows past/);
  });
});

describe('vocab.json from another checkpoint (class 5)', () => {
  test('an id at or above vocab_size is refused at load, naming vocab.json and the piece', () => {
    const dir = copy();
    const vocab = JSON.parse(fs.readFileSync(path.join(dir, 'vocab.json'), 'utf8'));
    vocab['▁lion'] = 50000;
    fs.writeFileSync(path.join(dir, 'vocab.json'), JSON.stringify(vocab));
    refuses(dir, 'vocab.json', /vocabulary entry "▁lion" has id 50000, outside config\.json's vocab_size of 7999/);
  });
});

describe('file contents never reach the terminal raw (class 6)', () => {
  const ESC = '\x1b]0;pwned\x07\x1b[2J';

  test('escape sequences in a tensor name are shown escaped', () => {
    const dir = copy();
    const tensors = tinyTensors(dir).filter((t) => !t.name.endsWith('fc2.bias'));
    const bad = tinyTensors(dir).find((t) => t.name.endsWith('encoder.layers.0.fc2.bias'))!;
    fs.writeFileSync(path.join(dir, 'model.safetensors'), encodeSafetensors([...tensors, { ...bad, name: `${ESC}x`, dtype: 'F32', shape: [3] }]));
    const e = refuses(dir, 'model.safetensors', /\\x1b\]0;pwned\\x07\\x1b\[2J/);
    assert.ok(!/[\x00-\x1f]/.test(e.message), e.message);
  });

  test('config.json starting with an escape sequence, or a symlink to /etc/passwd: no contents quoted', () => {
    const dir = copy();
    fs.writeFileSync(path.join(dir, 'config.json'), `${ESC}{}`);
    const e = refuses(dir, 'config.json', /is not valid JSON \(unexpected character\)/);
    assert.ok(!e.message.includes('pwned') && !/[\x00-\x1f]/.test(e.message), e.message);
    const dir2 = copy();
    symlinkIn(dir2, 'config.json', '/etc/passwd');
    const e2 = refuses(dir2, 'config.json', /is not valid JSON/);
    assert.ok(!e2.message.includes('root'), e2.message);
  });

  test('a duplicated .spm piece with control characters, a pickle global with escapes, a folder name', () => {
    assert.equal(escapeControls('a\x1b[2Jb\ufeffc\u202ed\u2066e\x9bf\ud800'), 'a\\x1b[2Jb\\ufeffc\\u202ed\\u2066e\\x9bf\\ud800');
    assert.equal(escapeControls('▁lion «ok» 日本 😀'), '▁lion «ok» 日本 😀');
    const g = Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.from(`cos\x1b]0;x\x07\nsystem\n`, 'latin1'), Buffer.from([0x2e])]);
    assert.throws(() => unpickleStateDict('p.bin', g), (e: unknown) => e instanceof ModelFileError && e.message.includes('os\\x1b]0;x\\x07.system') && !/[\x00-\x1f]/.test(e.message));
    const e = new ModelFileError(`/m/\x1b[31mred`, 'x');
    assert.equal(e.message, '/m/\\x1b[31mred: x');
  });

  test('the tensor-editing helper rewrites model.safetensors faithfully', () => {
    const dir = copy();
    editTensor(dir, 'final_logits_bias', () => undefined);
    assert.deepEqual(translate(loadModelFolder(dir), 'The lion kills the tiger.').ids, reference);
  });
});
