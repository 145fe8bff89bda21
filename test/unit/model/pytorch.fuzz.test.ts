/**
 * Fuzzing the PyTorch checkpoint reader (`pytorch_model.bin`: ZIP container + restricted unpickler, then the weight
 * mapping) with mutations of the real tiny-model checkpoint (2.8 MB, 90 records):
 *  - raw archive bytes: local headers and data.pkl at the start, the central directory and end records at the end,
 *    anywhere else now and then;
 *  - the pickle itself, with the archive rebuilt around it so the CRC matches and the unpickler and the tensor
 *    checks (storage keys, offsets, shapes, strides, record sizes) are really reached;
 *  - the pickle alone through the unpickler, many more times (it is the part that interprets hostile bytes).
 * Every run ends in a valid result or a ModelFileError naming the file, within the time and memory bounds, and
 * nothing in a pickle is ever executed (a refused GLOBAL is an error, never an import).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseMarianConfig } from '../../../src/model/loading/config';
import { parsePytorchCheckpoint } from '../../../src/model/loading/pytorch/checkpoint';
import { unpickleStateDict } from '../../../src/model/loading/pytorch/unpickle';
import { crc32 } from '../../../src/model/loading/pytorch/zip';
import type { RawTensor } from '../../../src/model/loading/safetensors';
import { buildMarianWeights } from '../../../src/model/loading/weights';
import { ROOT } from '../../helpers/golden';
import { buildZip, readZipEntries } from '../../helpers/modelFiles';
import { FUZZ_TIMEOUT_MS, FuzzStats, applyMutations, describeMutations, fuzzOnce, fuzzRuns, mutationsArb, runProperty } from '../../helpers/fuzz';

const FOLDER = path.join(ROOT, 'test', 'fixtures', 'byo', 'tiny-random-swish-bin');
const FILE = path.join(FOLDER, 'pytorch_model.bin');
const real = fs.readFileSync(FILE);
const entries = readZipEntries(real);
const pklEntry = entries.find((e) => e.name.endsWith('/data.pkl'))!;
const pkl = new Uint8Array(pklEntry.data);
const others = entries.filter((e) => e !== pklEntry).map((e) => ({ ...e, crc: crc32(e.data) })); // CRCs computed once
const config = parseMarianConfig('config.json', fs.readFileSync(path.join(FOLDER, 'config.json'), 'utf8'));
const BYTES = { F32: 4, F16: 2, BF16: 2 } as const;

function checkTensors(buf: Uint8Array, tensors: Map<string, RawTensor>): void {
  for (const [name, t] of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    assert.equal(t.bytes.byteLength, count * BYTES[t.dtype], name);
    assert.equal(t.bytes.buffer, buf.buffer, `${name} views the archive`);
    assert.ok(t.bytes.byteOffset >= buf.byteOffset && t.bytes.byteOffset + t.bytes.byteLength <= buf.byteOffset + buf.byteLength, `${name} inside the archive`);
  }
  buildMarianWeights(FILE, tensors, config);
}

function parseAndMap(buf: Uint8Array): void {
  checkTensors(buf, parsePytorchCheckpoint(FILE, buf));
}

describe('fuzz: pytorch_model.bin', { timeout: FUZZ_TIMEOUT_MS }, () => {
  test('raw archive mutations (local headers, data.pkl, central directory, end records)', (t) => {
    const stats = new FuzzStats('pytorch_model.bin archive bytes');
    const eocd = real.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    const cdOffset = real.readUInt32LE(eocd + 16);
    const hot = [
      { start: 0, end: 128, weight: 3 }, // first local header and the start of data.pkl
      { start: 128, end: pkl.length + 128, weight: 2 }, // the pickle (CRC-checked)
      { start: cdOffset, end: eocd, weight: 4 }, // central directory
      { start: eocd, end: real.length, weight: 3 }, // end-of-central-directory record
    ];
    runProperty(mutationsArb(real.length, hot, 4), fuzzRuns(500), (muts) => {
      const buf = applyMutations(real, muts);
      fuzzOnce(stats, FILE, () => describeMutations(muts), () => parseAndMap(buf));
    });
    t.diagnostic(stats.summary());
    assert.ok(stats.valid > 0 && stats.cleanErrors > 0, 'both outcomes reached');
  });

  test('pickle mutations inside a consistent archive (CRC fixed up, so the unpickler and tensor checks run)', (t) => {
    const stats = new FuzzStats('pytorch_model.bin pickle in archive');
    runProperty(mutationsArb(pkl.length, [], 3), fuzzRuns(500), (muts) => {
      const mutated = applyMutations(pkl, muts);
      // data.pkl last, as the only record that moves: the other records keep PyTorch's 64-byte alignment
      const buf = new Uint8Array(buildZip([...others, { name: pklEntry.name, data: mutated }]));
      fuzzOnce(stats, FILE, () => describeMutations(muts), () => parseAndMap(buf));
    });
    t.diagnostic(stats.summary());
    assert.ok(stats.valid > 0 && stats.cleanErrors > 0, 'both outcomes reached');
  });

  test('the restricted unpickler alone on mutated data.pkl (opcodes, lengths, memo indices, globals)', (t) => {
    const stats = new FuzzStats('data.pkl unpickler');
    // Opcode bytes the unpickler knows, plus ones it must refuse (INST, OBJ, NEWOBJ, BUILD chains, EXT, …).
    const opcodes = fc.constantFrom(0x80, 0x95, 0x2e, 0x28, 0x7d, 0x5d, 0x29, 0x74, 0x85, 0x86, 0x87, 0x4e, 0x88, 0x89, 0x4b, 0x4d, 0x4a, 0x8a, 0x47,
      0x58, 0x8c, 0x71, 0x72, 0x94, 0x68, 0x6a, 0x63, 0x93, 0x52, 0x62, 0x51, 0x73, 0x75, 0x61, 0x65, 0x69, 0x6f, 0x81, 0x92, 0x82, 0x8b, 0x8e, 0x56, 0x31);
    const opcodeInsert = fc.record({ kind: fc.constant('insert' as const), at: fc.nat({ max: pkl.length }), bytes: fc.array(opcodes, { minLength: 1, maxLength: 6 }) });
    const arb = fc.array(fc.oneof({ weight: 3, arbitrary: mutationsArb(pkl.length, [], 1).map((m) => m[0]) }, { weight: 2, arbitrary: opcodeInsert }), { minLength: 1, maxLength: 5 });
    runProperty(arb, fuzzRuns(1500), (muts) => {
      const mutated = applyMutations(pkl, muts);
      fuzzOnce(stats, FILE, () => describeMutations(muts), () => unpickleStateDict(FILE, mutated, pklEntry.name));
    });
    t.diagnostic(stats.summary());
    assert.ok(stats.valid > 0 && stats.cleanErrors > 0, 'both outcomes reached');
  });
});
