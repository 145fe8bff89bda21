/**
 * Issue 18, class 2: non-finite numbers are never shown as results. Weights with one NaN, +∞ in an unused
 * embedding row, all-NaN float16 weights, NaN in pytorch_model.bin and finite but huge weights (±3e38, which
 * overflow in the forward pass) each give a clear error naming the weights file, the decoding step and the first
 * layer where a non-finite value appeared, greedy and beam alike; a bad_words_ids that bans every token is refused.
 * Every file is built on the fly from the tiny model.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { explain, loadModelFolder, translate, ModelFileError } from '../../../src/model';
import { firstNonFinite } from '../../../src/model/generation/finite';
import { ROOT } from '../../helpers/golden';
import { editTensor, tinyCopy, tinyTensors } from '../../helpers/hostileFiles';
import { buildZip, encodeSafetensors, readZipEntries } from '../../helpers/modelFiles';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-lens-nonfinite-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const TEXT = 'The lion kills the tiger.';

function withEdit(tensor: string, edit: (v: Float32Array) => void): string {
  const dir = tinyCopy(tmp, `m${n++}`);
  editTensor(dir, tensor, edit);
  return dir;
}

/** Greedy explain, greedy translate and 4-beam translate all fail with the same located error. */
function failsEverywhere(dir: string, expected: RegExp): string {
  const lm = loadModelFolder(dir);
  const messages: string[] = [];
  for (const run of [() => explain(lm, TEXT), () => translate(lm, TEXT), () => translate(lm, TEXT, { numBeams: 4 }), () => explain(lm, TEXT, { numBeams: 4 })]) {
    assert.throws(run, (e: unknown) => {
      assert.ok(e instanceof ModelFileError, `expected ModelFileError, got ${String(e)}`);
      assert.equal(path.basename(e.file), fs.existsSync(path.join(dir, 'model.safetensors')) ? 'model.safetensors' : 'pytorch_model.bin');
      assert.match(e.message, expected);
      messages.push(e.problem);
      return true;
    });
  }
  assert.equal(new Set(messages).size, 1, `greedy and beam report the same: ${messages.join(' | ')}`);
  return messages[0];
}

describe('non-finite weights give a located error, never null probabilities (class 2)', () => {
  test('firstNonFinite finds NaN and ±∞ and nothing else', () => {
    assert.equal(firstNonFinite(new Float32Array([0, -3e38, 3.4e38, 1e-45])), -1);
    assert.equal(firstNonFinite(new Float32Array([0, 1, NaN])), 2);
    assert.equal(firstNonFinite(new Float64Array([Infinity])), 0);
    assert.equal(firstNonFinite(new Float32Array([1, -Infinity, 2]), 2), -1);
  });

  test('one NaN in a decoder feed-forward weight: step 1, decoder layer 1, feed-forward', () => {
    failsEverywhere(withEdit('decoder.layers.0.fc1.weight', (v) => (v[5] = NaN)),
      /gives NaN at decoding step 1 \(in the next-token scores\); it first appears in decoder layer 1, feed-forward \(fc1 and activation\)/);
  });

  test('one NaN in an encoder attention projection: located in the encoder', () => {
    failsEverywhere(withEdit('encoder.layers.1.self_attn.q_proj.weight', (v) => (v[0] = NaN)),
      /decoding step 1 .*first appears in encoder layer 2, self-attention/);
  });

  test('+∞ in one unused embedding row: the output projection row of that token', () => {
    failsEverywhere(withEdit('shared.weight', (v) => (v[7000 * 64 + 3] = Infinity)),
      /decoding step 1 .*first appears in the output projection \(its weight row for token 7000\)/);
  });

  test('finite but huge weights (±3e38) overflow in the forward pass and are located', () => {
    failsEverywhere(withEdit('encoder.layers.0.fc1.weight', (v) => v.forEach((_, i) => (v[i] = i % 2 ? -3e38 : 3e38))),
      /decoding step 1 .*first appears in encoder layer 1, feed-forward \(fc1 and activation\)/);
  });

  test('all-NaN float16 weights: the encoder input embeddings', () => {
    const dir = tinyCopy(tmp, `m${n++}`);
    const f16 = tinyTensors(dir).map((t) => {
      const count = t.shape.reduce((a, b) => a * b, 1);
      return { ...t, dtype: 'F16' as const, data: new Uint8Array(new Uint16Array(count).fill(0x7e00).buffer) };
    });
    fs.writeFileSync(path.join(dir, 'model.safetensors'), encodeSafetensors(f16));
    failsEverywhere(dir, /gives NaN at decoding step 1 .*first appears in the encoder's input embeddings/);
  });

  test('NaN in pytorch_model.bin: every float storage record set to NaN', () => {
    const dir = tinyCopy(tmp, `m${n++}`, path.join(ROOT, 'test', 'fixtures', 'byo', 'tiny-random-swish-bin'));
    const entries = readZipEntries(fs.readFileSync(path.join(dir, 'pytorch_model.bin'))).map((e) =>
      /\/data\/\d+$/.test(e.name) ? { ...e, data: new Uint8Array(new Float32Array(e.data.length / 4).fill(NaN).buffer), crc: undefined } : e);
    fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), buildZip(entries));
    failsEverywhere(dir, /pytorch_model\.bin: gives NaN at decoding step 1 .*encoder's input embeddings/);
  });

  test('a NaN that appears only later (the embedding of a generated token, untied output layer) names that step', () => {
    // untied: lm_head.weight is a clean copy, so the NaN row is only read when its token is fed back at step 2
    const dir = tinyCopy(tmp, `m${n++}`);
    const first = translate(loadModelFolder(dir), TEXT).ids[1];
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, tie_word_embeddings: false }));
    const tensors = tinyTensors(dir);
    const shared = tensors.find((t) => t.name === 'model.shared.weight')!;
    tensors.push({ ...shared, name: 'lm_head.weight', data: (shared.data as Uint8Array).slice() });
    new Float32Array((shared.data as Uint8Array).buffer)[first * 64] = NaN;
    fs.writeFileSync(path.join(dir, 'model.safetensors'), encodeSafetensors(tensors));
    const lm = loadModelFolder(dir);
    assert.throws(() => translate(lm, TEXT), (e: unknown) =>
      e instanceof ModelFileError && /gives NaN at decoding step 2 .*first appears in the decoder's input embeddings \(an embedding row of a token it reads\)/.test(e.message));
  });

  test('bad_words_ids banning every token is refused at load', () => {
    const dir = tinyCopy(tmp, `m${n++}`);
    fs.writeFileSync(path.join(dir, 'generation_config.json'), JSON.stringify({ bad_words_ids: Array.from({ length: 7999 }, (_, i) => [i]) }));
    assert.throws(() => loadModelFolder(dir), (e: unknown) =>
      e instanceof ModelFileError && e.file.endsWith('generation_config.json') && /bans every one of the 7999 tokens/.test(e.message));
    // one token fewer still loads, and the remaining token is the only one ever chosen
    fs.writeFileSync(path.join(dir, 'generation_config.json'), JSON.stringify({ max_length: 5, bad_words_ids: Array.from({ length: 7999 }, (_, i) => [i]).filter(([i]) => i !== 42) }));
    const ids = translate(loadModelFolder(dir), TEXT).ids;
    assert.deepEqual(ids.slice(1), [42, 42, 42, 42]);
  });
});
