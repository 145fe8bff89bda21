/**
 * The reference forward pass against the fast path: bit-identical on the golden sentences — with its plain-loop
 * products against exact precision, and with the model's own products (as the walk-through runs it) on float32.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generate } from '../../../src/model/generation/generate';
import { loadMarianNetwork } from '../../../src/model/loading/loadNetwork';
import { wasmSimdSupported } from '../../../src/model/kernels/wasm/wasmMatmul';
import { decoderStack, encoderStack, logits } from '../../../src/model/reference';
import { BUNDLED_MODEL, TINY_MODEL, maxAbsDiff, readJson, teacherForced } from '../../helpers/golden';

/** Index of the first element whose bits differ (−1 when none): a plain equality would let −0 = +0 and NaN ≠ NaN. */
function firstBitDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, 'lengths');
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}
const identical = (a: Float32Array, b: Float32Array, what: string) => {
  const i = firstBitDifference(a, b);
  assert.equal(i, -1, `${what}: element ${i} differs (${a[i]} vs ${b[i]})`);
};

/** Per-layer [heads, queries, keys] weights of a reference stack's attention `which` (0 self, 1 cross). */
function stackedWeights(layers: ReturnType<typeof encoderStack>['layers'], which: number): Float32Array[] {
  return layers.map((layer) => {
    const heads = layer.attention[which].heads;
    const out = new Float32Array(heads.reduce((n, h) => n + h.weights.length, 0));
    let o = 0;
    for (const h of heads) {
      out.set(h.weights, o);
      o += h.weights.length;
    }
    return out;
  });
}

const precisions = wasmSimdSupported() ? (['exact', 'float32'] as const) : (['exact'] as const);
for (const precision of precisions) for (const [name, folder, goldenPath] of [
  ['bundled checkpoint', BUNDLED_MODEL, ['test', 'fixtures', 'checkpoint', 'golden.json']],
  ['tiny random swish model', TINY_MODEL, ['test', 'fixtures', 'tiny-random-swish', 'golden.json']],
] as const) {
  describe(`reference == fast path: ${name}, precision ${precision}`, () => {
    const net = loadMarianNetwork(folder, { precision });
    // exact: the reference's own plain loops; float32: the model's products (the plain loops sum in doubles)
    const product = precision === 'exact' ? undefined : net.model.matmul;
    const cfg = net.config;
    const sentences: any[] = readJson(...goldenPath).sentences;
    for (const s of sentences.slice(0, name === 'bundled checkpoint' ? sentences.length : 3)) {
      test(s.text ?? String(s.input_ids), () => {
        // the greedy translation from the fast path, then the same prefix through both
        const mem = net.model.crossMemory(net.model.encode(s.input_ids));
        const greedy = generate(net.model, mem, { ...net.generation, maxLength: 65, numBeams: 1, topK: 1 });
        const decoderIds = greedy.ids.slice(0, -1);
        const fast = teacherForced(net.model, s.input_ids, decoderIds);

        const enc = encoderStack(cfg, net.model.weights, s.input_ids, { product });
        identical(enc.embedding.input, fast.enc.embeddingOutput!, 'embedding output');
        identical(enc.output, fast.enc.hidden, 'encoder output');
        stackedWeights(enc.layers, 0).forEach((w, l) => identical(w, fast.enc.attentions![l], `encoder attention layer ${l}`));

        const dec = decoderStack(cfg, net.model.weights, decoderIds, enc.output, { product });
        stackedWeights(dec.layers, 0).forEach((w, l) => identical(w, fast.self[l], `decoder self-attention layer ${l}`));
        stackedWeights(dec.layers, 1).forEach((w, l) => identical(w, fast.cross[l], `cross attention layer ${l}`));
        // the logits of every greedy step
        identical(logits(net.model.weights, cfg.vocabSize, dec.output, decoderIds.length, product), fast.logits, 'logits');

        // and the golden where it has the value (Hugging Face, CPU float32)
        if (s.encoder_last_hidden_state) assert.ok(maxAbsDiff(enc.output, s.encoder_last_hidden_state) < 1e-4, 'HF encoder output');
      });
    }
  });
}
