/**
 * Fuzzing `parseSafetensors` (and the weight mapping that consumes its tensors) with mutations of the real
 * tiny-model `model.safetensors` (2.7 MB): byte-level mutations concentrated on the length prefix and the JSON
 * header, with some anywhere in the file, and structural rewrites of the header's fields (dtype, shape,
 * data_offsets, names) with the length prefix fixed up or not. Every run ends in a valid result or a ModelFileError
 * naming the file, within the time and memory bounds (a header claiming a 4 GiB tensor must not allocate it).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseMarianConfig } from '../../../src/model/loading/config';
import { parseSafetensors, toFloat32, type RawTensor } from '../../../src/model/loading/safetensors';
import { buildMarianWeights } from '../../../src/model/loading/weights';
import { TINY_MODEL } from '../../helpers/golden';
import {
  FUZZ_TIMEOUT_MS, FuzzStats, applyJsonMutations, applyMutations, describeMutations, fuzzOnce, fuzzRuns, show, hostileJsonValueArb, jsonMutationArb, mutationsArb,
  runProperty,
} from '../../helpers/fuzz';

const FILE = path.join(TINY_MODEL, 'model.safetensors');
const real = new Uint8Array(fs.readFileSync(FILE));
const headerLen = Number(Buffer.from(real.buffer, real.byteOffset, 8).readBigUInt64LE(0));
const header = JSON.parse(Buffer.from(real.subarray(8, 8 + headerLen)).toString('utf8')) as Record<string, unknown>;
const data = real.subarray(8 + headerLen);
const config = parseMarianConfig('config.json', fs.readFileSync(path.join(TINY_MODEL, 'config.json'), 'utf8'));

const BYTES = { F32: 4, F16: 2, BF16: 2 } as const;

/** What a valid parse must satisfy, then the weight mapping must give weights or a clean error. */
function checkTensors(buf: Uint8Array, tensors: Map<string, RawTensor>): void {
  const spans: Array<[number, number]> = [];
  for (const [name, t] of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    assert.equal(t.bytes.byteLength, count * BYTES[t.dtype], name);
    assert.equal(t.bytes.buffer, buf.buffer, `${name} views the file buffer`);
    assert.ok(t.bytes.byteOffset >= buf.byteOffset + 8 && t.bytes.byteOffset + t.bytes.byteLength <= buf.byteOffset + buf.byteLength, `${name} inside the file`);
    if (t.bytes.byteLength > 0) spans.push([t.bytes.byteOffset, t.bytes.byteOffset + t.bytes.byteLength]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i][0] >= spans[i - 1][1], 'no overlapping tensors');
}

function parseAndMap(buf: Uint8Array): void {
  const tensors = parseSafetensors(FILE, buf);
  checkTensors(buf, tensors);
  const w = buildMarianWeights(FILE, tensors, config);
  assert.equal(w.embeddings.length, config.vocabSize * config.dModel);
  // the one widening path the tiny model does not take (F16/BF16 or unaligned tensors): every tensor widens cleanly
  for (const t of tensors.values()) assert.equal(toFloat32(t).length, t.bytes.byteLength / BYTES[t.dtype]);
}

describe('fuzz: model.safetensors', { timeout: FUZZ_TIMEOUT_MS }, () => {
  test('byte-level mutations of the real file (length prefix, header, anywhere)', (t) => {
    const stats = new FuzzStats('safetensors bytes');
    const hot = [
      { start: 0, end: 8, weight: 3 }, // the header length
      { start: 8, end: 8 + headerLen, weight: 10 }, // the JSON header
      { start: 8 + headerLen - 16, end: 8 + headerLen + 16, weight: 2 }, // header/data boundary
    ];
    runProperty(mutationsArb(real.length, hot, 4), fuzzRuns(1200), (muts) => {
      const buf = applyMutations(real, muts);
      fuzzOnce(stats, FILE, () => describeMutations(muts), () => parseAndMap(buf));
    });
    t.diagnostic(stats.summary());
    assert.ok(stats.valid > 0 && stats.cleanErrors > 0, 'both outcomes reached');
  });

  test('header field rewrites (dtype, shape, data_offsets, names), length prefix fixed up or not', (t) => {
    const stats = new FuzzStats('safetensors header fields');
    const tensorValues = hostileJsonValueArb([
      'F32', 'F16', 'BF16', 'I64', 'F64', 'f32', '', { dtype: 'F32', shape: [4294967296], data_offsets: [0, 17179869184] },
      { dtype: 'F32', shape: [1073741824, 4], data_offsets: [0, 16] }, { dtype: 'F16', shape: [], data_offsets: [0, 2] },
      [0, 4294967296], [0, 2 ** 53], [2 ** 53, 2 ** 53 + 4], [-4, 0], [8, 4], [0.5, 4.5], [0, data.length], [data.length, data.length],
      [4294967296], [65536, 65536], [2 ** 26, 2 ** 27], [-1, 2], [7999, 64, 1], [64, 7999],
    ]);
    const lengthMode = fc.oneof(
      { weight: 8, arbitrary: fc.constant('fixed' as const) },
      { weight: 1, arbitrary: fc.constantFrom('original' as const, 'short' as const, 'long' as const) },
    );
    const arb = fc.record({ muts: fc.array(jsonMutationArb(tensorValues), { minLength: 1, maxLength: 3 }), lengthMode });
    runProperty(arb, fuzzRuns(800), ({ muts, lengthMode }) => {
      const json = Buffer.from(JSON.stringify(applyJsonMutations(header, muts)) ?? 'null', 'utf8');
      const declared = lengthMode === 'fixed' ? json.length : lengthMode === 'original' ? headerLen : lengthMode === 'short' ? json.length - 1 : json.length + 1;
      const buf = new Uint8Array(8 + json.length + data.length);
      Buffer.from(buf.buffer).writeBigUInt64LE(BigInt(Math.max(0, declared)), 0);
      buf.set(json, 8);
      buf.set(data, 8 + json.length);
      fuzzOnce(stats, FILE, () => `${lengthMode} ${show(muts)}`, () => parseAndMap(buf));
    });
    t.diagnostic(stats.summary());
    assert.ok(stats.valid > 0 && stats.cleanErrors > 0, 'both outcomes reached');
  });
});
