/** Bad model files give a ModelFileError naming the file and the problem, never a crash or a hang. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { parseGenerationSettings, parseMarianConfig } from '../../../src/model/loading/config';
import { loadMarianNetwork } from '../../../src/model/loading/loadNetwork';
import { parseSafetensors, toFloat32 } from '../../../src/model/loading/safetensors';
import { TINY_MODEL } from '../../helpers/golden';
import { expectFileError } from '../../helpers/expectFileError';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-lens-errors-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** A copy of the tiny model folder with one file replaced. */
function brokenFolder(name: string, file: string, content: Buffer | string | null): string {
  const dir = path.join(tmpRoot, name);
  fs.cpSync(TINY_MODEL, dir, { recursive: true });
  fs.rmSync(path.join(dir, 'golden.json'));
  if (content === null) fs.rmSync(path.join(dir, file));
  else fs.writeFileSync(path.join(dir, file), content);
  return dir;
}

/** Builds a safetensors buffer from a header object and a data section. */
function safetensors(header: object, data: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

const realWeights = fs.readFileSync(path.join(TINY_MODEL, 'model.safetensors'));

describe('safetensors', () => {
  test('reads F32, F16 and BF16 tensors', () => {
    const f16 = Buffer.from([0x00, 0x3c, 0x00, 0xc0]); // 1.0, -2.0
    const bf16 = Buffer.from([0x80, 0x3f, 0x40, 0x40]); // 1.0, 3.0
    const f32 = Buffer.alloc(8);
    f32.writeFloatLE(0.5, 0);
    f32.writeFloatLE(-4, 4);
    const buf = safetensors(
      { a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'BF16', shape: [2], data_offsets: [4, 8] }, c: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } },
      Buffer.concat([f16, bf16, f32]),
    );
    const t = parseSafetensors('x.safetensors', buf);
    assert.deepEqual(Array.from(toFloat32(t.get('a')!)), [1, -2]);
    assert.deepEqual(Array.from(toFloat32(t.get('b')!)), [1, 3]);
    assert.deepEqual(Array.from(toFloat32(t.get('c')!)), [0.5, -4]);
  });
  test('truncated file', () => expectFileError(() => parseSafetensors('w.safetensors', realWeights.subarray(0, realWeights.length - 100)), 'w.safetensors', /outside the \d+-byte data section/));
  test('file shorter than the length prefix', () => expectFileError(() => parseSafetensors('w.safetensors', Buffer.from([1, 2, 3])), 'w.safetensors', /too short/));
  test('header length beyond the file', () => {
    const b = Buffer.from(realWeights);
    b.writeBigUInt64LE(BigInt(b.length));
    expectFileError(() => parseSafetensors('w.safetensors', b), 'w.safetensors', /header length/);
  });
  test('header that is not JSON', () => expectFileError(() => parseSafetensors('w.safetensors', Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{{{{')])), 'w.safetensors', /not valid UTF-8 JSON/));
  test('offsets pointing outside the file', () =>
    expectFileError(() => parseSafetensors('w.safetensors', safetensors({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8))), 'w.safetensors', /point outside/));
  test('offsets disagreeing with the shape', () =>
    expectFileError(() => parseSafetensors('w.safetensors', safetensors({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, new Uint8Array(16))), 'w.safetensors', /needs 12 bytes/));
  test('overlapping tensors', () =>
    expectFileError(
      () => parseSafetensors('w.safetensors', safetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12))),
      'w.safetensors', /overlap/,
    ));
  test('unsupported dtype', () =>
    expectFileError(() => parseSafetensors('w.safetensors', safetensors({ a: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8))), 'w.safetensors', /dtype "I64"/));
});

describe('model folder', () => {
  test('missing folder', () => expectFileError(() => loadMarianNetwork(path.join(tmpRoot, 'nope')), 'nope', /not a folder/));
  test('missing model.safetensors', () => expectFileError(() => loadMarianNetwork(brokenFolder('no-weights', 'model.safetensors', null)), 'model.safetensors', /file not found/));
  test('truncated model.safetensors', () =>
    expectFileError(() => loadMarianNetwork(brokenFolder('truncated', 'model.safetensors', realWeights.subarray(0, 5000))), 'model.safetensors', /outside|does not fit/));
  test('a tensor with the wrong shape', () => {
    const t = parseSafetensors('x', realWeights);
    const header: Record<string, unknown> = {};
    const parts: Buffer[] = [];
    let off = 0;
    for (const [name, raw] of t) {
      const shape = name === 'model.encoder.layers.0.fc1.weight' ? [raw.shape[1], raw.shape[0]] : raw.shape;
      header[name] = { dtype: raw.dtype, shape, data_offsets: [off, off + raw.bytes.length] };
      parts.push(Buffer.from(raw.bytes));
      off += raw.bytes.length;
    }
    const dir = brokenFolder('wrong-shape', 'model.safetensors', safetensors(header, Buffer.concat(parts)));
    expectFileError(() => loadMarianNetwork(dir), 'model.safetensors', /"encoder\.layers\.0\.fc1\.weight" has shape \[64, 128\], expected \[128, 64\]/);
  });
  test('a missing tensor', () => {
    const t = parseSafetensors('x', realWeights);
    const header: Record<string, unknown> = {};
    const parts: Buffer[] = [];
    let off = 0;
    for (const [name, raw] of t) {
      if (name === 'model.decoder.layers.1.encoder_attn.v_proj.bias') continue;
      header[name] = { dtype: raw.dtype, shape: raw.shape, data_offsets: [off, off + raw.bytes.length] };
      parts.push(Buffer.from(raw.bytes));
      off += raw.bytes.length;
    }
    const dir = brokenFolder('missing-tensor', 'model.safetensors', safetensors(header, Buffer.concat(parts)));
    expectFileError(() => loadMarianNetwork(dir), 'model.safetensors', /missing tensor "decoder\.layers\.1\.encoder_attn\.v_proj\.bias"/);
  });
  test('malformed config.json', () => expectFileError(() => loadMarianNetwork(brokenFolder('bad-config', 'config.json', '{"d_model": 64,')), 'config.json', /not valid JSON/));
  test('bad generation_config.json', () =>
    expectFileError(() => loadMarianNetwork(brokenFolder('bad-gen', 'generation_config.json', '{"num_beams": "four"}')), 'generation_config.json', /"num_beams"/));
});

describe('config values', () => {
  const base = JSON.parse(fs.readFileSync(path.join(TINY_MODEL, 'config.json'), 'utf8'));
  const parse = (patch: object) => () => parseMarianConfig('config.json', JSON.stringify({ ...base, ...patch }));
  test('unsupported activation names the key', () => expectFileError(parse({ activation_function: 'tanh' }), 'config.json', /"activation_function" is "tanh"/));
  test('another architecture', () => expectFileError(parse({ model_type: 'bart' }), 'config.json', /"model_type"/));
  test('normalize_before is accepted and ignored, as transformers does', () => assert.equal(parse({ normalize_before: true })().activation, 'swish'));
  test('heads that do not divide d_model', () => expectFileError(parse({ encoder_attention_heads: 3 }), 'config.json', /not divisible/));
  test('missing d_model', () => expectFileError(parse({ d_model: undefined }), 'config.json', /"d_model"/));
  test('gelu and silu are accepted', () => {
    assert.equal(parseMarianConfig('c', JSON.stringify({ ...base, activation_function: 'gelu' })).activation, 'gelu');
    assert.equal(parseMarianConfig('c', JSON.stringify({ ...base, activation_function: 'silu' })).activation, 'swish');
  });
  test('generation defaults follow transformers when keys are absent', () => {
    const cfg = parseMarianConfig('c', JSON.stringify(base));
    const g = parseGenerationSettings({ file: 'g', text: '{}' }, cfg);
    assert.deepEqual(g, { numBeams: 1, maxLength: 20, badWordsIds: [], forcedEosTokenId: undefined, lengthPenalty: 1, earlyStopping: false });
  });
});
