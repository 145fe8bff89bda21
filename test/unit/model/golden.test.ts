/**
 * The forward pass and generation against Hugging Face transformers' golden outputs (CPU float32), on the default
 * kernels (SIMD with float32 sums where the runtime has SIMD) and on the exact ones (double sums).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generate } from '../../../src/model/generation/generate';
import { loadMarianNetwork } from '../../../src/model/loading/loadNetwork';
import { wasmSimdSupported } from '../../../src/model/kernels/wasm/wasmMatmul';
import { BUNDLED_MODEL, TINY_MODEL, maxAbsDiff, readJson, teacherForced } from '../../helpers/golden';

const TOL = 1e-4;

const PATHS = [
  { name: 'default kernels', opts: {} },
  ...(wasmSimdSupported() ? [{ name: 'simd, precision exact', opts: { kernel: 'simd', precision: 'exact' } as const }] : []),
];

for (const path of PATHS) describe(`bundled checkpoint vs Hugging Face golden (${path.name})`, () => {
  const net = loadMarianNetwork(BUNDLED_MODEL, path.opts);
  test('runs on the kernels asked for', () => assert.equal(net.model.simdKernel?.float32 ?? false, wasmSimdSupported() && !path.opts.precision));
  const golden = readJson('test', 'fixtures', 'checkpoint', 'golden.json');
  const sentences: any[] = golden.sentences;

  test('golden has the 12 sentences', () => assert.equal(sentences.length, 12));

  for (const s of sentences) {
    test(`numbers: ${s.text}`, () => {
      const r = teacherForced(net.model, s.input_ids, s.decoder_input_ids);
      assert.ok(maxAbsDiff(r.enc.embeddingOutput!, s.encoder_embedding_output) < TOL, 'embedding output');
      assert.ok(maxAbsDiff(r.enc.hidden, s.encoder_last_hidden_state) < TOL, 'encoder last hidden state');
      for (let l = 0; l < net.config.encoderLayers; l++) {
        assert.ok(maxAbsDiff(r.enc.attentions![l], s.encoder_attentions[l]) < TOL, `encoder attention layer ${l}`);
      }
      for (let l = 0; l < net.config.decoderLayers; l++) {
        assert.ok(maxAbsDiff(r.self[l], s.decoder_attentions[l]) < TOL, `decoder self-attention layer ${l}`);
        assert.ok(maxAbsDiff(r.cross[l], s.cross_attentions[l]) < TOL, `cross attention layer ${l}`);
      }
      // first logits row: Hugging Face's top-20 ids and values
      const V = net.config.vocabSize;
      const top = s.logits_first_row_top20;
      top.ids.forEach((id: number, i: number) => assert.ok(Math.abs(r.logits[id] - top.values[i]) < TOL, `logit ${id}`));
      const argmax = Array.from({ length: s.decoder_input_ids.length }, (_, t) => {
        let best = 0;
        for (let v = 1; v < V; v++) if (r.logits[t * V + v] > r.logits[t * V + best]) best = v;
        return best;
      });
      assert.deepEqual(argmax, s.teacher_forced_argmax);
    });

    test(`generation: ${s.text}`, () => {
      const mem = net.model.crossMemory(net.model.encode(s.input_ids));
      // the golden run used max_new_tokens=64 (max_length 65)
      const greedy = generate(net.model, mem, { ...net.generation, maxLength: 65, numBeams: 1, topK: 5 });
      assert.deepEqual(greedy.ids, s.greedy_ids);
      assert.equal(greedy.steps.length, s.greedy_steps.length);
      greedy.steps.forEach((st, i) => {
        assert.deepEqual(st.topIds, s.greedy_steps[i].top_ids, `step ${i} top ids`);
        assert.ok(maxAbsDiff(st.topProbs, s.greedy_steps[i].top_probs) < TOL, `step ${i} probabilities`);
        assert.equal(st.chosenId, s.greedy_ids[i + 1]);
      });
      const beam = generate(net.model, mem, { ...net.generation, maxLength: 65, numBeams: 4, topK: 5 });
      assert.deepEqual(beam.ids, s.beam4_ids);
    });
  }
});

describe('tiny random swish model (old-style config) vs golden', () => {
  const net = loadMarianNetwork(TINY_MODEL);
  const golden = readJson('test', 'fixtures', 'tiny-random-swish', 'golden.json');

  test('generation settings come from config.json when generation_config.json is absent', () => {
    assert.equal(net.config.activation, 'swish');
    assert.equal(net.config.scaleEmbedding, false);
    assert.deepEqual(
      { beams: net.generation.numBeams, max: net.generation.maxLength, bad: net.generation.badWordsIds, eos: net.generation.forcedEosTokenId },
      { beams: 3, max: 24, bad: [[7998]], eos: 0 },
    );
  });

  for (const s of golden.sentences as any[]) {
    test(`full logits, attentions and generation: ${s.text}`, () => {
      const r = teacherForced(net.model, s.input_ids, s.decoder_input_ids);
      assert.ok(maxAbsDiff(r.logits, s.logits) < TOL, 'logits');
      assert.ok(maxAbsDiff(r.enc.embeddingOutput!, s.encoder_embedding_output) < TOL, 'embedding output');
      assert.ok(maxAbsDiff(r.enc.hidden, s.encoder_last_hidden_state) < TOL, 'encoder output');
      r.enc.attentions!.forEach((a, l) => assert.ok(maxAbsDiff(a, s.encoder_attentions[l]) < TOL, `encoder attention ${l}`));
      r.self.forEach((a, l) => assert.ok(maxAbsDiff(a, s.decoder_attentions[l]) < TOL, `decoder attention ${l}`));
      r.cross.forEach((a, l) => assert.ok(maxAbsDiff(a, s.cross_attentions[l]) < TOL, `cross attention ${l}`));
      const mem = net.model.crossMemory(r.enc);
      // the golden run used max_new_tokens=12: its last step is a forced eos
      const greedy = generate(net.model, mem, { ...net.generation, maxLength: 13, numBeams: 1, topK: 5 });
      assert.deepEqual(greedy.ids, s.greedy_ids);
      greedy.steps.forEach((st, i) => {
        // torch orders zero-probability ties (a forced eos step) arbitrarily: rank only the live candidates
        const live = (s.greedy_steps[i].top_probs as number[]).filter((p) => p > 0).length;
        assert.deepEqual(st.topIds.slice(0, live), s.greedy_steps[i].top_ids.slice(0, live), `step ${i}`);
        assert.ok(maxAbsDiff(st.topProbs, s.greedy_steps[i].top_probs) < TOL, `step ${i} probabilities`);
      });
      const beam = generate(net.model, mem, { ...net.generation, maxLength: 13, numBeams: 3, topK: 5 });
      assert.deepEqual(beam.ids, s.beam3_ids);
    });
  }
});

describe('padding mask', () => {
  const net = loadMarianNetwork(BUNDLED_MODEL);
  const golden = readJson('test', 'fixtures', 'checkpoint', 'golden.json');
  const s = golden.sentences[5];
  const PAD = net.config.padTokenId;

  test('a right-padded sequence with its attention mask encodes and translates like the unpadded one', () => {
    const padded = [...s.input_ids, PAD, PAD, PAD];
    const mask = padded.map((_: number, i: number) => (i < s.input_ids.length ? 1 : 0));
    const enc = net.model.encode(padded, { capture: true, attentionMask: mask });
    const n = s.input_ids.length, d = net.config.dModel;
    assert.ok(maxAbsDiff(enc.hidden.subarray(0, n * d), s.encoder_last_hidden_state) < TOL);
    // padding keys get exactly zero weight
    const a = enc.attentions![0];
    for (let j = n; j < padded.length; j++) assert.equal(a[j], 0);
    const g = generate(net.model, net.model.crossMemory(enc), { ...net.generation, maxLength: 65, numBeams: 1, topK: 1 });
    assert.deepEqual(g.ids, s.greedy_ids);
  });

  test('without the mask the padding changes the result (the mask is doing the work)', () => {
    const enc = net.model.encode([...s.input_ids, PAD, PAD, PAD]);
    const n = s.input_ids.length, d = net.config.dModel;
    assert.ok(maxAbsDiff(enc.hidden.subarray(0, n * d), s.encoder_last_hidden_state) > 1e-3);
  });
});
