/**
 * Bring your own model: pytorch_model.bin checkpoints (PyTorch's zip format) load through the restricted reader
 * and compute exactly what the safetensors copy computes; broken or hostile files give a ModelFileError naming the
 * file and the problem, and nothing in them is ever executed.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { generate } from '../../../src/model/generation/generate';
import { loadMarianNetwork } from '../../../src/model/loading/loadNetwork';
import { parsePytorchCheckpoint } from '../../../src/model/loading/pytorch/checkpoint';
import { toFloat32 } from '../../../src/model/loading/safetensors';
import { ROOT, TINY_MODEL, maxAbsDiff, readJson, teacherForced } from '../../helpers/golden';
import { buildZip, pickle, readZipEntries, type ZipSpec } from '../../helpers/modelFiles';
import { expectFileError } from '../../helpers/expectFileError';

const BIN_MODEL = path.join(ROOT, 'test', 'fixtures', 'byo', 'tiny-random-swish-bin');
const F16_MODEL = path.join(ROOT, 'test', 'fixtures', 'byo', 'tiny-random-swish-f16-bin');
const realBin = fs.readFileSync(path.join(BIN_MODEL, 'pytorch_model.bin'));
const realEntries = readZipEntries(realBin);
const PREFIX = realEntries.find((e) => e.name.endsWith('/data.pkl'))!.name.slice(0, -'data.pkl'.length);

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-lens-byo-bin-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** The tiny .bin folder with its pytorch_model.bin replaced. */
function binFolder(name: string, content: Buffer): string {
  const dir = path.join(tmpRoot, name);
  fs.cpSync(BIN_MODEL, dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), content);
  return dir;
}

/** A folder whose pytorch_model.bin holds `pkl` as data.pkl plus the given storage records. */
function checkpoint(pkl: Buffer, records: Array<[string, Uint8Array]> = [], opts: { align?: number } = {}): Buffer {
  return buildZip([{ name: 'archive/data.pkl', data: pkl }, ...records.map(([k, d]) => ({ name: `archive/data/${k}`, data: d })), { name: 'archive/version', data: Buffer.from('3\n') }], opts);
}

const f32 = (xs: number[]): Uint8Array => new Uint8Array(new Float32Array(xs).buffer);

describe('pytorch_model.bin of the tiny swish model', () => {
  const ref = loadMarianNetwork(TINY_MODEL);
  const bin = loadMarianNetwork(BIN_MODEL);
  const golden = readJson('test', 'fixtures', 'tiny-random-swish', 'golden.json');

  test('the fixture has the published opus-mt layout (prefixes, tied copies, positions, lm_head)', () => {
    const t = parsePytorchCheckpoint('pytorch_model.bin', realBin);
    for (const k of ['model.shared.weight', 'model.encoder.embed_tokens.weight', 'model.decoder.embed_tokens.weight', 'lm_head.weight', 'model.encoder.embed_positions.weight', 'final_logits_bias']) {
      assert.ok(t.has(k), k);
    }
    // tied copies view the same storage bytes
    assert.equal(t.get('lm_head.weight')!.bytes.byteOffset, t.get('model.shared.weight')!.bytes.byteOffset);
  });

  test('float32 weights are zero-copy views into one file buffer, tied copies shared', () => {
    const w = bin.model.weights;
    const buf = w.embeddings.buffer;
    assert.ok(buf.byteLength >= realBin.length);
    for (const arr of [w.lmHead, w.finalLogitsBias, w.encoder[0].fc1.weight, w.decoder[1].encoderAttn.v.bias, w.decoder[1].finalNorm.gamma]) assert.equal(arr.buffer, buf);
    assert.equal(w.lmHead, w.embeddings);
  });

  for (const s of golden.sentences as any[]) {
    test(`identical numbers and generation to model.safetensors: ${s.text}`, () => {
      const a = teacherForced(ref.model, s.input_ids, s.decoder_input_ids);
      const b = teacherForced(bin.model, s.input_ids, s.decoder_input_ids);
      assert.equal(maxAbsDiff(b.logits, a.logits), 0);
      assert.equal(maxAbsDiff(b.enc.hidden, a.enc.hidden), 0);
      b.cross.forEach((x, l) => assert.equal(maxAbsDiff(x, a.cross[l]), 0));
      assert.ok(maxAbsDiff(b.logits, s.logits) < 1e-4);
      const mem = bin.model.crossMemory(b.enc);
      assert.deepEqual(generate(bin.model, mem, { ...bin.generation, maxLength: 13, numBeams: 1, topK: 5 }).ids, s.greedy_ids);
      assert.deepEqual(generate(bin.model, mem, { ...bin.generation, maxLength: 13, numBeams: 3, topK: 5 }).ids, s.beam3_ids);
    });
  }

  test('float16 checkpoint: weights are the float32 ones rounded to half, outputs within a loose tolerance', () => {
    const half = loadMarianNetwork(F16_MODEL);
    const e32 = ref.model.weights.embeddings, e16 = half.model.weights.embeddings;
    assert.equal(e16.length, e32.length);
    for (let i = 0; i < e32.length; i++) assert.ok(Math.abs(e16[i] - e32[i]) <= Math.abs(e32[i]) * 2 ** -11 + 2 ** -24, `weight ${i}`);
    for (const s of golden.sentences as any[]) {
      const a = teacherForced(ref.model, s.input_ids, s.decoder_input_ids);
      const b = teacherForced(half.model, s.input_ids, s.decoder_input_ids);
      assert.ok(maxAbsDiff(b.logits, a.logits) < 1e-2, s.text);
    }
  });

  test('a ZIP64 archive with unaligned records reads the same tensors (unaligned float32 copied, not misread)', () => {
    const rebuilt = buildZip(realEntries, { zip64: true, align: 1 });
    const a = parsePytorchCheckpoint('a.bin', realBin), b = parsePytorchCheckpoint('b.bin', rebuilt);
    assert.deepEqual([...b.keys()], [...a.keys()]);
    const bytesOf = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
    let copied = 0;
    for (const [k, t] of a) {
      const x = toFloat32(b.get(k)!);
      if (x.buffer !== b.get(k)!.bytes.buffer) copied++;
      assert.ok(bytesOf(x).equals(bytesOf(toFloat32(t))), k);
    }
    assert.ok(copied > 0, 'some records are unaligned in this archive');
  });

  test('model.safetensors is preferred when both weight files are present', () => {
    const dir = path.join(tmpRoot, 'both');
    fs.cpSync(TINY_MODEL, dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), 'not a checkpoint');
    assert.doesNotThrow(() => loadMarianNetwork(dir));
  });

  test('neither weight file: the error names both', () => {
    const dir = path.join(tmpRoot, 'none');
    fs.cpSync(BIN_MODEL, dir, { recursive: true });
    fs.rmSync(path.join(dir, 'pytorch_model.bin'));
    expectFileError(() => loadMarianNetwork(dir), 'model.safetensors', /file not found.*pytorch_model\.bin/);
  });
});

describe('broken and hostile pytorch_model.bin files', () => {
  const F = 'pytorch_model.bin';
  const load = (name: string, content: Buffer) => () => loadMarianNetwork(binFolder(name, content));

  test('truncated archive', () => expectFileError(load('truncated', realBin.subarray(0, realBin.length >> 1)), F, /end-of-central-directory record is missing \(file truncated/));
  test('archive cut inside the central directory', () => expectFileError(load('truncated-cd', realBin.subarray(0, realBin.length - 30)), F, /truncated|damaged|missing/));
  test('not a ZIP archive', () => expectFileError(load('garbage', Buffer.from('hello, this is not a checkpoint')), F, /not a PyTorch zip checkpoint/));
  test('empty file', () => expectFileError(load('empty', Buffer.alloc(0)), F, /is empty/));
  test('legacy (pre-1.6) pickle format', () => expectFileError(load('legacy', Buffer.concat([pickle.proto(), pickle.stop()])), F, /legacy/));
  test('ZIP without data.pkl', () => expectFileError(load('no-pkl', buildZip(realEntries.filter((e) => !e.name.endsWith('data.pkl')))), F, /no <name>\/data\.pkl record/));
  test('missing data record for a storage', () =>
    expectFileError(load('no-record', buildZip(realEntries.filter((e) => e.name !== `${PREFIX}data/1`))), F, new RegExp(`missing the data record ${PREFIX}data/1 for tensor "model\\.shared\\.weight"`)));
  test('storage too short for the shape', () => {
    const entries = realEntries.map((e): ZipSpec => (e.name === `${PREFIX}data/1` ? { name: e.name, data: e.data.subarray(0, 1000) } : e));
    expectFileError(load('short', buildZip(entries)), F, /storage .*data\/1 holds 1000 bytes, too short for tensor "model\.shared\.weight" of shape \[7999, 64\]/);
  });
  test('compressed entry', () => {
    const entries = realEntries.map((e): ZipSpec => (e.name === `${PREFIX}data/3` ? { ...e, method: 8 } : e));
    expectFileError(load('deflated', buildZip(entries)), F, /data\/3" is compressed \(method 8\)/);
  });
  test('encrypted entry', () => {
    const entries = realEntries.map((e): ZipSpec => (e.name.endsWith('data.pkl') ? { ...e, flags: 1 } : e));
    expectFileError(load('encrypted', buildZip(entries)), F, /data\.pkl" is encrypted/);
  });
  test('damaged data.pkl (CRC mismatch)', () => {
    const entries = realEntries.map((e): ZipSpec => (e.name.endsWith('data.pkl') ? { ...e, crc: 12345 } : e));
    expectFileError(load('crc', buildZip(entries)), F, /data\.pkl is damaged \(CRC mismatch\)/);
  });

  test('a disallowed GLOBAL (os.system) is refused and never executed', () => {
    const marker = path.join(tmpRoot, 'pwned');
    // what Python's pickle would run as os.system("touch <marker>")
    const evil = Buffer.concat([pickle.proto(), pickle.global('os', 'system'), pickle.mark(), pickle.str(`touch ${marker}`), pickle.tuple(), pickle.reduce(), pickle.stop()]);
    expectFileError(load('evil-global', checkpoint(evil)), F, /refuses global os\.system .* at byte 2 of archive\/data\.pkl/);
    assert.equal(fs.existsSync(marker), false);
  });
  test('STACK_GLOBAL of builtins.eval is refused', () => {
    const evil = Buffer.concat([pickle.proto(), Buffer.from([0x8c, 8]), Buffer.from('builtins'), Buffer.from([0x8c, 4]), Buffer.from('eval'), Buffer.from([0x93]), pickle.stop()]);
    expectFileError(() => parsePytorchCheckpoint(F, checkpoint(evil)), F, /refuses global builtins\.eval .* at byte 18/);
  });
  test('a torch global outside the allow-list is refused', () => {
    const evil = Buffer.concat([pickle.proto(), pickle.global('torch', 'load'), pickle.stop()]);
    expectFileError(() => parsePytorchCheckpoint(F, checkpoint(evil)), F, /refuses global torch\.load/);
  });
  test('an unsupported opcode (INST, which would call a class) is refused with its position', () => {
    const bad = Buffer.concat([pickle.proto(), pickle.mark(), Buffer.from('ios\nsystem\n', 'latin1'), pickle.stop()]);
    expectFileError(load('bad-opcode', checkpoint(bad)), F, /unsupported pickle opcode 0x69 at byte 3 of archive\/data\.pkl/);
  });
  test('an unknown opcode byte', () => {
    expectFileError(() => parsePytorchCheckpoint(F, checkpoint(Buffer.from([0x80, 0x02, 0xff]))), F, /unsupported pickle opcode 0xff at byte 2/);
  });
  test('a truncated pickle', () => {
    expectFileError(() => parsePytorchCheckpoint(F, checkpoint(Buffer.concat([pickle.proto(), pickle.str('abc').subarray(0, 6)]))), F, /truncated pickle/);
  });
  test('an integer tensor type is refused by name', () => {
    const pkl = pickle.stateDict([['x', pickle.tensor('LongStorage', '0', 2, 0, [2], [1])]]);
    expectFileError(() => parsePytorchCheckpoint(F, checkpoint(pkl, [['0', new Uint8Array(16)]])), F, /torch\.LongStorage: tensor type not supported/);
  });
  test('a non-contiguous tensor is refused', () => {
    const pkl = pickle.stateDict([['x', pickle.tensor('FloatStorage', '0', 6, 0, [2, 3], [1, 2])]]);
    expectFileError(() => parsePytorchCheckpoint(F, checkpoint(pkl, [['0', f32([1, 2, 3, 4, 5, 6])]])), F, /tensor "x" is not contiguous \(shape \[2, 3\], stride \[1, 2\]\)/);
  });
  test('a pickle that is not a state dict', () => {
    expectFileError(() => parsePytorchCheckpoint(F, checkpoint(Buffer.concat([pickle.proto(), pickle.int(7), pickle.stop()]))), F, /does not hold a state dict/);
  });

  test('hand-built checkpoint: storage offsets, shared storages, F16/BF16 and size-1 dims are honoured', () => {
    const halfBytes = new Uint8Array([0x00, 0x3c, 0x00, 0xc0]); // 1.0, -2.0
    const bf16Bytes = new Uint8Array([0x80, 0x3f, 0x40, 0x40]); // 1.0, 3.0
    const pkl = pickle.stateDict([
      ['a', pickle.tensor('FloatStorage', '0', 6, 2, [2, 2], [2, 1])],
      ['b', pickle.tensor('FloatStorage', '0', 6, 0, [1, 3], [99, 1])],
      ['h', pickle.tensor('HalfStorage', '1', 2, 0, [2], [1])],
      ['g', pickle.tensor('BFloat16Storage', '2', 2, 1, [1], [1])],
      ['e', pickle.tensor('FloatStorage', '0', 6, 0, [0, 4], [4, 1])],
    ]);
    const t = parsePytorchCheckpoint(F, checkpoint(pkl, [['0', f32([0, 1, 2, 3, 4, 5])], ['1', halfBytes], ['2', bf16Bytes]]));
    assert.deepEqual(Array.from(toFloat32(t.get('a')!)), [2, 3, 4, 5]);
    assert.deepEqual(t.get('a')!.shape, [2, 2]);
    assert.deepEqual(Array.from(toFloat32(t.get('b')!)), [0, 1, 2]);
    assert.deepEqual(Array.from(toFloat32(t.get('h')!)), [1, -2]);
    assert.deepEqual(Array.from(toFloat32(t.get('g')!)), [3]);
    assert.equal(t.get('e')!.bytes.byteLength, 0);
  });
});
