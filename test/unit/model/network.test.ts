/**
 * The layer units of src/model/network/ on the tiny random checkpoint and the bundled one: embed against its
 * definition, one decoderLayer serving a whole block of new positions for several hypotheses exactly as it serves
 * one token at a time, logits reading each sequence's last row, and the encoder's padding mask.
 */
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { loadMarianNetwork } from '../../../src/model/loading/loadNetwork';
import type { KeyValues } from '../../../src/model/network/attention';
import { embed, PositionTable } from '../../../src/model/network/embed';
import { decoderLayer, logits, type LayerScratch } from '../../../src/model/network/layers';
import { matmulNaive } from '../../../src/model/reference/matmul';
import type { StepAttention } from '../../../src/model/marian';
import { BUNDLED_MODEL, TINY_MODEL } from '../../helpers/golden';

function scratch(rows: number, keys: number, d: number, ffn: number): LayerScratch {
  const m = () => new Float32Array(rows * d);
  return { q: m(), kv: m(), ctx: m(), sublayer: m(), hidden: new Float32Array(rows * ffn), scores: new Float32Array(keys) };
}

function sameBits(x: ArrayLike<number>, y: ArrayLike<number>): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
  return true;
}

describe('embed', () => {
  test('row r = E[token]·√dModel + the sinusoid of its position; positions continue after `past`', () => {
    const { model } = loadMarianNetwork(TINY_MODEL);
    const d = model.config.dModel, E = model.weights.embeddings;
    const scale = model.config.scaleEmbedding ? Math.sqrt(d) : 1;
    const positions = new PositionTable(d, 2); // grows on demand
    // two hypotheses, one new token each, after 3 cached positions: both rows get position 3
    const out = new Float32Array(2 * d);
    embed(model, positions, scale, [5, 9], 1, 3, out);
    for (const [r, token] of [[0, 5], [1, 9]]) {
      for (const c of [0, 1, d / 2, d - 1]) {
        // Marian's sinusoid: sin(pos / 10000^(2j/d)) in the first half, cos(…) of the same angle in the second
        const j = c < d / 2 ? c : c - d / 2, angle = 3 / Math.pow(10000, (2 * j) / d);
        const P = Math.fround(c < d / 2 ? Math.sin(angle) : Math.cos(angle));
        assert.equal(out[r * d + c], Math.fround(E[token * d + c] * scale + P), `row ${r} column ${c}`);
      }
    }
    // position 0's sinusoid is sin 0 = 0 in the first half and cos 0 = 1 in the second
    const first = positions.rows(1);
    assert.ok(first.subarray(0, d / 2).every((v) => v === 0) && first.subarray(d / 2).every((v) => v === 1));
  });
});

describe('decoderLayer', () => {
  for (const folder of [TINY_MODEL, BUNDLED_MODEL]) {
    test(`two hypotheses × three new positions at once equal the same tokens one step at a time (${folder.split('/').pop()})`, () => {
      const { model } = loadMarianNetwork(folder);
      const cfg = model.config, d = cfg.dModel, L = cfg.decoderLayers;
      const mem = model.crossMemory(model.encode([12, 40, 7, 99, cfg.eosTokenId]));
      const hyps = [[cfg.decoderStartTokenId, 31, 8], [cfg.decoderStartTokenId, 4, 77]];
      const T = 3, B = hyps.length;
      // the units: both hypotheses' three tokens as one block of rows [B·T, dModel]
      const x = new Float32Array(B * T * d);
      embed(model, new PositionTable(d, 4), cfg.scaleEmbedding ? Math.sqrt(d) : 1, hyps.flat(), T, 0, x);
      const caches: KeyValues[][] = hyps.map(() => Array.from({ length: L }, () => ({ keys: new Float32Array(T * d), values: new Float32Array(T * d) })));
      const s = scratch(B * T, Math.max(T, mem.length), d, cfg.decoderFfn);
      const attn = { self: [] as Float32Array[], cross: [] as Float32Array[] };
      for (let l = 0; l < L; l++) decoderLayer(model, model.weights.decoder[l], x, T, 0, caches.map((c) => c[l]), mem.layers[l], s, attn);
      // the model's decoder steps: one token at a time, each hypothesis alone
      hyps.forEach((ids, b) => {
        const state = model.newDecoderState(T);
        ids.forEach((id, t) => {
          const capture: StepAttention = { self: [], cross: [], layerOutputs: [] };
          model.decodeStep([id], [state], mem, undefined, capture);
          const row = (b * T + t) * d;
          assert.ok(sameBits(x.subarray(row, row + d), capture.layerOutputs![L - 1]), `hypothesis ${b}, position ${t}: last layer's row`);
          // the step's attention row is row t of the block's [heads, T, keys] weights (zeros past position t)
          const H = cfg.decoderHeads;
          for (let h = 0; h < H; h++) {
            const block = attn.self[(L - 1) * B + b].subarray((h * T + t) * T, (h * T + t + 1) * T);
            const step = capture.self[L - 1].subarray(h * (t + 1), (h + 1) * (t + 1));
            assert.ok(sameBits(block.subarray(0, t + 1), step) && block.subarray(t + 1).every((v) => v === 0), `self-attention head ${h}, b ${b}, t ${t}`);
          }
        });
        for (let l = 0; l < L; l++) {
          assert.ok(sameBits(caches[b][l].keys, state.layers[l].keys), `keys cached by layer ${l}`);
          assert.ok(sameBits(caches[b][l].values, state.layers[l].values), `values cached by layer ${l}`);
        }
      });
    });
  }
});

test('logits read the last row of each sequence: x·Eᵀ + final_logits_bias', () => {
  const { model } = loadMarianNetwork(TINY_MODEL, { precision: 'exact' }); // bit for bit against double sums
  const { dModel: d, vocabSize: V } = model.config, w = model.weights;
  const x = Float32Array.from({ length: 2 * 3 * d }, (_, i) => Math.sin(i));
  const out = new Float32Array(2 * V), ref = new Float32Array(V);
  logits(model, x, 2, 3, out);
  for (const b of [0, 1]) {
    matmulNaive(x, 1, d, w.lmHead, V, ref, w.finalLogitsBias, (b * 3 + 2) * d);
    assert.ok(sameBits(out.subarray(b * V, (b + 1) * V), ref), `sequence ${b}`);
  }
});

test('encoder padding mask: the real tokens\' rows do not depend on the padded tokens', () => {
  const { model } = loadMarianNetwork(TINY_MODEL);
  const eos = model.config.eosTokenId, mask = [1, 1, 1, 0, 0];
  const a = model.encode([20, 31, eos, 5, 6], { attentionMask: mask });
  const b = model.encode([20, 31, eos, 60, 70], { attentionMask: mask });
  const real = 3 * model.config.dModel;
  assert.ok(sameBits(a.hidden.subarray(0, real), b.hidden.subarray(0, real)));
  assert.ok(!sameBits(a.hidden.subarray(real), b.hidden.subarray(real)), 'the padded rows themselves differ');
});
