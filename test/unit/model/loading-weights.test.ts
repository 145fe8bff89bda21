/**
 * Bring your own model: the checkpoint layouts and config keys published opus-mt folders use — with or without the
 * "model." prefix, embed_tokens copies instead of shared.weight, untied lm_head.weight, no final_logits_bias —
 * and the BART-era keys transformers ignores.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { parseMarianConfig } from '../../../src/model/loading/config';
import { loadMarianNetwork } from '../../../src/model/loading/loadNetwork';
import { parseSafetensors, type RawTensor } from '../../../src/model/loading/safetensors';
import { TINY_MODEL, maxAbsDiff, readJson, teacherForced } from '../../helpers/golden';
import { encodeSafetensors, type TensorSpec } from '../../helpers/modelFiles';
import { expectFileError } from '../../helpers/expectFileError';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-lens-byo-weights-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

const original = parseSafetensors('model.safetensors', fs.readFileSync(path.join(TINY_MODEL, 'model.safetensors')));
const baseConfig = JSON.parse(fs.readFileSync(path.join(TINY_MODEL, 'config.json'), 'utf8'));
const golden = readJson('test', 'fixtures', 'tiny-random-swish', 'golden.json');
const s0 = golden.sentences[1];
const V = baseConfig.vocab_size as number, D = baseConfig.d_model as number;

const spec = (name: string, t: RawTensor): TensorSpec => ({ name, dtype: t.dtype, shape: t.shape, data: new Uint8Array(t.bytes) });
const f32spec = (name: string, shape: number[], data: Float32Array): TensorSpec => ({ name, dtype: 'F32', shape, data });

/** A copy of the tiny model folder with its tensors (renamed/dropped/added by `edit`) and config patched. */
function variant(name: string, edit: (tensors: TensorSpec[]) => TensorSpec[], configPatch: object = {}): string {
  const dir = path.join(tmpRoot, name);
  fs.cpSync(TINY_MODEL, dir, { recursive: true });
  fs.rmSync(path.join(dir, 'golden.json'));
  fs.writeFileSync(path.join(dir, 'model.safetensors'), encodeSafetensors(edit([...original].map(([k, t]) => spec(k, t)))));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...baseConfig, ...configPatch }));
  return dir;
}

const logitsOf = (dir: string) => teacherForced(loadMarianNetwork(dir).model, s0.input_ids, s0.decoder_input_ids).logits;
const reference = teacherForced(loadMarianNetwork(TINY_MODEL).model, s0.input_ids, s0.decoder_input_ids);
const T = s0.decoder_input_ids.length;
const embeddings = new Float32Array(new Uint8Array(original.get('model.shared.weight')!.bytes).buffer);
const bias = new Float32Array(new Uint8Array(original.get('final_logits_bias')!.bytes).buffer);

describe('checkpoint layouts', () => {
  test('no "model." prefix and embed_tokens copies instead of shared.weight give the same numbers', () => {
    const dir = variant('unprefixed', (ts) => {
      const out = ts.filter((t) => t.name !== 'model.shared.weight').map((t) => ({ ...t, name: t.name.replace(/^model\./, '') }));
      const shared = ts.find((t) => t.name === 'model.shared.weight')!;
      return [...out, { ...shared, name: 'encoder.embed_tokens.weight' }, { ...shared, name: 'decoder.embed_tokens.weight' }];
    });
    assert.equal(maxAbsDiff(logitsOf(dir), reference.logits), 0);
  });

  test('stored embed_positions tables are ignored (positions are computed)', () => {
    const junk = new Float32Array(64 * D).fill(123);
    const dir = variant('positions', (ts) => [...ts, f32spec('model.encoder.embed_positions.weight', [64, D], junk), f32spec('model.decoder.embed_positions.weight', [64, D], junk)]);
    assert.equal(maxAbsDiff(logitsOf(dir), reference.logits), 0);
  });

  test('missing final_logits_bias means zeros: every logit drops by exactly its bias', () => {
    const dir = variant('no-bias', (ts) => ts.filter((t) => t.name !== 'final_logits_bias'));
    const logits = logitsOf(dir);
    assert.ok(bias.some((b) => b !== 0), 'the fixture has a non-zero bias');
    let worst = 0;
    for (let t = 0; t < T; t++) for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(logits[t * V + v] - (reference.logits[t * V + v] - bias[v])));
    assert.ok(worst < 1e-5, `max deviation ${worst}`);
  });

  test('untied lm_head.weight ("tie_word_embeddings": false) is the output projection: logits are its dot products', () => {
    // lm_head rows 0..D-1 = unit vectors, the rest zero: logits[t, i] - bias[i] is then the decoder's final hidden state h_t[i]
    const unit = new Float32Array(V * D);
    for (let i = 0; i < D; i++) unit[i * D + i] = 1;
    const probe = logitsOf(variant('untied-probe', (ts) => [...ts, f32spec('lm_head.weight', [V, D], unit)], { tie_word_embeddings: false }));
    assert.notEqual(maxAbsDiff(probe, reference.logits), 0);
    for (let t = 0; t < T; t++) {
      const h = Array.from({ length: D }, (_, i) => probe[t * V + i] - bias[i]);
      for (const v of [0, 1, 57, s0.decoder_input_ids[Math.min(t + 1, T - 1)], V - 1]) {
        let dot = bias[v];
        for (let i = 0; i < D; i++) dot += h[i] * embeddings[v * D + i];
        assert.ok(Math.abs(dot - reference.logits[t * V + v]) < 1e-4, `row ${t} token ${v}: ${dot} vs ${reference.logits[t * V + v]}`);
      }
      for (let v = D; v < V; v += 997) assert.ok(Math.abs(probe[t * V + v] - bias[v]) < 1e-6, 'zero lm_head rows give just the bias');
    }
  });

  test('an lm_head.weight equal to the embeddings, untied, reproduces the tied model', () => {
    const dir = variant('untied-copy', (ts) => [...ts, f32spec('lm_head.weight', [V, D], embeddings)], { tie_word_embeddings: false });
    assert.equal(maxAbsDiff(logitsOf(dir), reference.logits), 0);
  });

  test('with tied embeddings (the default) a stored lm_head.weight is ignored, as transformers ties it', () => {
    const dir = variant('tied-junk-head', (ts) => [...ts, f32spec('lm_head.weight', [V, D], new Float32Array(V * D).fill(0.5))]);
    assert.equal(maxAbsDiff(logitsOf(dir), reference.logits), 0);
  });

  test('untied without lm_head.weight is an error naming the key', () => {
    const dir = variant('untied-missing', (ts) => ts, { tie_word_embeddings: false });
    expectFileError(() => loadMarianNetwork(dir), 'model.safetensors', /missing tensor "lm_head\.weight" \(config\.json sets "tie_word_embeddings": false\)/);
  });

  test('lm_head.weight of the wrong shape', () => {
    const dir = variant('untied-shape', (ts) => [...ts, f32spec('lm_head.weight', [D, V], new Float32Array(V * D))], { tie_word_embeddings: false });
    expectFileError(() => loadMarianNetwork(dir), 'model.safetensors', /"lm_head\.weight" has shape \[64, 7999\], expected \[7999, 64\]/);
  });

  test('final_logits_bias of the wrong shape', () => {
    const dir = variant('bias-shape', (ts) => ts.map((t) => (t.name === 'final_logits_bias' ? { ...t, shape: [V] } : t)));
    expectFileError(() => loadMarianNetwork(dir), 'model.safetensors', /"final_logits_bias" has shape \[7999\], expected \[1, 7999\]/);
  });
});

describe('config keys of published opus-mt folders', () => {
  const parse = (patch: object) => () => parseMarianConfig('config.json', JSON.stringify({ ...baseConfig, ...patch }));

  test('BART-era keys transformers ignores are accepted and change nothing', () => {
    const patch = { normalize_before: true, normalize_embedding: true, add_final_layer_norm: true, add_bias_logits: true, static_position_embeddings: false };
    assert.deepEqual(parse(patch)(), parse({})());
    assert.equal(maxAbsDiff(logitsOf(variant('bart-keys', (ts) => ts, patch)), reference.logits), 0);
  });
  test('activation defaults to gelu, transformers MarianConfig\'s default', () => assert.equal(parse({ activation_function: undefined })().activation, 'gelu'));
  test('relu, gelu, swish and silu are read', () => {
    assert.deepEqual(['relu', 'gelu', 'swish', 'silu'].map((a) => parse({ activation_function: a })().activation), ['relu', 'gelu', 'swish', 'swish']);
  });
  for (const act of ['gelu_new', 'gelu_fast', 'tanh', 'toString']) {
    test(`activation "${act}" is refused naming the key`, () => expectFileError(parse({ activation_function: act }), 'config.json', new RegExp(`"activation_function" is "${act}"; supported`)));
  }
  test('separate encoder/decoder embeddings are refused naming the key', () =>
    expectFileError(parse({ share_encoder_decoder_embeddings: false }), 'config.json', /"share_encoder_decoder_embeddings" is false/));
  test('tie_word_embeddings must be a boolean', () => expectFileError(parse({ tie_word_embeddings: 'yes' }), 'config.json', /"tie_word_embeddings" must be true or false/));
  test('max_position_embeddings defaults to 1024 like transformers', () => assert.equal(parse({ max_position_embeddings: undefined })().maxPositions, 1024));
});
