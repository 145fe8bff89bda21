/**
 * The model's scratch rows live in the SIMD kernels' WebAssembly memory: a decoder step's products read their
 * activations where they lie (nothing copied in) and every logit stays bit-identical to the JavaScript kernels,
 * also when the kernel path changes between steps (the scratch rows move with it).
 */
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { loadModelFolder } from '../../../../src/model';
import { wasmSimdSupported } from '../../../../src/model/kernels/wasm/wasmMatmul';
import { BUNDLED_MODEL, readJson } from '../../../helpers/golden';

const simd = wasmSimdSupported();

describe('scratch rows in the WebAssembly memory', () => {
  test('greedy steps with the cache: no activation copied in, logits equal the js kernels bit for bit', { skip: !simd && 'no WebAssembly SIMD here' }, () => {
    const a = loadModelFolder(BUNDLED_MODEL, { kernel: 'simd', precision: 'exact' }), b = loadModelFolder(BUNDLED_MODEL, { kernel: 'js' });
    const kernel = a.model.simdKernel!;
    const golden = readJson<{ sentences: Array<{ input_ids: number[]; greedy_ids: number[] }> }>('test', 'fixtures', 'checkpoint', 'golden.json');
    const V = a.model.config.vocabSize;
    for (const s of golden.sentences.slice(0, 3)) {
      const memA = a.model.crossMemory(a.model.encode(s.input_ids)), memB = b.model.crossMemory(b.model.encode(s.input_ids));
      const stA = a.model.newDecoderState(s.greedy_ids.length), stB = b.model.newDecoderState(s.greedy_ids.length);
      const la = new Float32Array(V), lb = new Float32Array(V);
      const before = kernel.copiedIn;
      for (let t = 0; t + 1 < s.greedy_ids.length; t++) {
        a.model.decodeStep([s.greedy_ids[t]], [stA], memA, la);
        b.model.decodeStep([s.greedy_ids[t]], [stB], memB, lb);
        assert.deepEqual(new Uint32Array(la.buffer.slice(la.byteOffset, la.byteOffset + 4 * V)), new Uint32Array(lb.buffer), `step ${t}: logits bit for bit`);
        let best = 0;
        for (let i = 1; i < V; i++) if (la[i] > la[best]) best = i;
        assert.ok(best === s.greedy_ids[t + 1] || t + 2 === s.greedy_ids.length, `step ${t}: argmax is the golden next token`);
      }
      assert.equal(kernel.copiedIn, before, 'decoder steps copied no activation into the memory');
      assert.ok(kernel.copiedIn > 0, 'the encoder output, outside the memory, was copied in');
    }
  });

  test('switching the kernel path between steps keeps every logit', { skip: !simd && 'no WebAssembly SIMD here' }, () => {
    const a = loadModelFolder(BUNDLED_MODEL, { kernel: 'simd', precision: 'exact' }), b = loadModelFolder(BUNDLED_MODEL, { kernel: 'js' });
    const kernel = a.model.simdKernel!;
    const s = readJson<{ sentences: Array<{ input_ids: number[]; greedy_ids: number[] }> }>('test', 'fixtures', 'checkpoint', 'golden.json').sentences[1];
    const V = a.model.config.vocabSize;
    const memA = a.model.crossMemory(a.model.encode(s.input_ids)), memB = b.model.crossMemory(b.model.encode(s.input_ids));
    const stA = a.model.newDecoderState(s.greedy_ids.length), stB = b.model.newDecoderState(s.greedy_ids.length);
    const la = new Float32Array(V), lb = new Float32Array(V);
    for (let t = 0; t + 1 < s.greedy_ids.length; t++) {
      a.model.useKernel(t % 2 === 0 ? kernel : undefined); // js on odd steps: the scratch rows leave the memory and come back
      a.model.decodeStep([s.greedy_ids[t]], [stA], memA, la);
      b.model.decodeStep([s.greedy_ids[t]], [stB], memB, lb);
      assert.deepEqual(Array.from(new Uint32Array(la.buffer)), Array.from(new Uint32Array(lb.buffer)), `step ${t}`);
    }
  });
});
