/**
 * trace(): every field against (1) a separate float64 forward pass written here as plain loops over the weights,
 * (2) Hugging Face's golden outputs where they have the value, (3) golden-trace.json (an independent numpy
 * implementation, five traces, every field), and (4) the relations the trace must satisfy on its own numbers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadModelFolder } from '../../../src/model/loading/loadModel';
import type { LoadedModel } from '../../../src/model/loading/loadModel';
import { TraceInputError, trace, traceIds } from '../../../src/model/explain/trace';
import type { Trace, TraceNorm } from '../../../src/shared/trace';
import { matmulNaive } from '../../../src/model/reference/matmul';
import { BUNDLED_MODEL, readJson } from '../../helpers/golden';

type Vec = number[];
type Mat = number[][];

/** A float64 Marian forward pass over whole sentences, independent of src/model/reference (nested arrays, no rounding). */
class IndependentMarian {
  constructor(private readonly lm: LoadedModel) {}

  private get w() {
    return this.lm.model.weights;
  }

  private get d() {
    return this.lm.config.dModel;
  }

  /** x·Wᵀ + b with W stored [out, in]. */
  affine(x: Vec, weight: Float32Array, bias: Float32Array | undefined, outDim: number): Vec {
    const inDim = x.length;
    const y: Vec = [];
    for (let o = 0; o < outDim; o++) {
      let s = bias ? bias[o] : 0;
      for (let i = 0; i < inDim; i++) s += x[i] * weight[o * inDim + i];
      y.push(s);
    }
    return y;
  }

  sinusoid(pos: number): Vec {
    const d = this.d;
    const v: Vec = new Array(d).fill(0);
    for (let i = 0; i < d / 2; i++) {
      const a = pos / 10000 ** ((2 * i) / d);
      v[i] = Math.sin(a);
      v[d / 2 + i] = Math.cos(a);
    }
    return v;
  }

  embedding(ids: number[]): { token: Mat; position: Mat; input: Mat } {
    const d = this.d, scale = Math.sqrt(d);
    const token = ids.map((id) => Array.from(this.w.embeddings.subarray(id * d, (id + 1) * d)));
    const position = ids.map((_, p) => this.sinusoid(p));
    return { token, position, input: token.map((t, p) => t.map((x, c) => x * scale + position[p][c])) };
  }

  norm(x: Vec, gamma: Float32Array, beta: Float32Array): { mean: number; variance: number; output: Vec } {
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length;
    const sd = Math.sqrt(variance + this.lm.config.layerNormEps);
    return { mean, variance, output: x.map((v, i) => ((v - mean) / sd) * gamma[i] + beta[i]) };
  }

  attention(w: any, xs: Mat, mem: Mat, heads: number, causal: boolean, norm: any) {
    const d = this.d, dh = d / heads;
    const Q = xs.map((x) => this.affine(x, w.q.weight, w.q.bias, d));
    const K = mem.map((x) => this.affine(x, w.k.weight, w.k.bias, d));
    const V = mem.map((x) => this.affine(x, w.v.weight, w.v.bias, d));
    const perHead = [] as Array<{ q: Mat; k: Mat; v: Mat; scores: Mat; scaled: Mat; weights: Mat; context: Mat }>;
    const concat: Mat = xs.map(() => new Array(d).fill(0));
    for (let h = 0; h < heads; h++) {
      const cut = (r: Vec) => r.slice(h * dh, (h + 1) * dh);
      const q = Q.map(cut), k = K.map(cut), v = V.map(cut);
      const scores = q.map((qi, i) => k.filter((_, j) => !causal || j <= i).map((kj) => qi.reduce((s, x, t) => s + x * kj[t], 0)));
      const scaled = scores.map((r) => r.map((s) => s / Math.sqrt(dh)));
      const weights = scaled.map((r) => {
        const m = Math.max(...r);
        const e = r.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b) => a + b, 0);
        return e.map((x) => x / z);
      });
      const context = weights.map((p) => Array.from({ length: dh }, (_, t) => p.reduce((s, pj, j) => s + pj * v[j][t], 0)));
      context.forEach((c, i) => c.forEach((x, t) => (concat[i][h * dh + t] = x)));
      perHead.push({ q, k, v, scores, scaled, weights, context });
    }
    const output = concat.map((c) => this.affine(c, w.out.weight, w.out.bias, d));
    const residual = xs.map((x, i) => x.map((v, c) => v + output[i][c]));
    return { input: xs, heads: perHead, output, residual, norm: residual.map((r) => this.norm(r, norm.gamma, norm.beta)) };
  }

  feedForward(layer: any, xs: Mat) {
    const cfg = this.lm.config;
    const act = (x: number) => (cfg.activation === 'relu' ? Math.max(0, x) : cfg.activation === 'swish' ? x / (1 + Math.exp(-x)) : NaN);
    const hidden = xs.map((x) => this.affine(x, layer.fc1.weight, layer.fc1.bias, layer.fc1.outDim).map(act));
    const output = hidden.map((h) => this.affine(h, layer.fc2.weight, layer.fc2.bias, this.d));
    const residual = xs.map((x, i) => x.map((v, c) => v + output[i][c]));
    return { input: xs, hidden, output, residual, norm: residual.map((r) => this.norm(r, layer.finalNorm.gamma, layer.finalNorm.beta)) };
  }

  encoder(ids: number[]) {
    const embedding = this.embedding(ids);
    let x = embedding.input;
    const layers = this.w.encoder.map((layer) => {
      const self = this.attention(layer.selfAttn, x, x, this.lm.config.encoderHeads, false, layer.selfAttnNorm);
      const ffn = this.feedForward(layer, self.norm.map((n) => n.output));
      x = ffn.norm.map((n) => n.output);
      return { attention: [self], feedForward: ffn };
    });
    return { embedding, layers, output: x };
  }

  decoder(ids: number[], memory: Mat) {
    const embedding = this.embedding(ids);
    const H = this.lm.config.decoderHeads;
    let x = embedding.input;
    const layers = this.w.decoder.map((layer) => {
      const self = this.attention(layer.selfAttn, x, x, H, true, layer.selfAttnNorm);
      const cross = this.attention(layer.encoderAttn, self.norm.map((n) => n.output), memory, H, false, layer.encoderAttnNorm);
      const ffn = this.feedForward(layer, cross.norm.map((n) => n.output));
      x = ffn.norm.map((n) => n.output);
      return { attention: [self, cross], feedForward: ffn };
    });
    const V = this.lm.config.vocabSize;
    const logits = x.map((h) => this.affine(h, this.w.lmHead, this.w.finalLogitsBias, V));
    return { embedding, layers, output: x, logits };
  }
}

/** |a − b| ≤ tol·(1 + |b|) elementwise (float32 engine vs float64 here: relative error grows with the size). */
function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], b = expected[i];
    assert.ok(Math.abs(a - b) <= tol * (1 + Math.abs(b)), `${what}[${i}]: ${a} vs ${b}`);
  }
}

function closeNorm(n: TraceNorm, e: { mean: number; variance: number; output: Vec }, tol: number, what: string): void {
  close([n.mean, n.variance], [e.mean, e.variance], tol, `${what} mean/variance`);
  close(n.output, e.output, tol, `${what} output`);
}

/** Every field of `t` against the independent pass. */
function checkAgainstIndependent(lm: LoadedModel, t: Trace, tol: number): void {
  const ind = new IndependentMarian(lm);
  const enc = ind.encoder(t.source.ids);
  const i = t.token;
  const stack = t.side === 'source' ? enc : ind.decoder(t.target.ids.slice(0, i + 1), enc.output);
  close(t.embedding.token, stack.embedding.token[i], tol, 'embedding token');
  close(t.embedding.position, stack.embedding.position[i], tol, 'embedding position');
  close(t.embedding.input, stack.embedding.input[i], tol, 'embedding input');
  assert.equal(t.embedding.scale, Math.sqrt(lm.config.dModel));
  assert.equal(t.layers.length, stack.layers.length);
  t.layers.forEach((layer, l) => {
    const e = stack.layers[l];
    assert.deepEqual(layer.attention.map((a) => a.kind), t.side === 'source' ? ['encoder'] : ['decoder', 'cross']);
    layer.attention.forEach((a, s) => {
      const ea = e.attention[s], at = `layer ${l} ${a.kind}`;
      close(a.input, ea.input[i], tol, `${at} input`);
      a.heads.forEach((h, hi) => {
        const eh = ea.heads[hi];
        close(h.q, eh.q[i], tol, `${at} head ${hi} q`);
        assert.equal(h.keys.length, eh.scores[i].length, `${at} head ${hi}: visible keys`);
        h.keys.forEach((k, j) => close(k, eh.k[j], tol, `${at} head ${hi} key ${j}`));
        h.values.forEach((v, j) => close(v, eh.v[j], tol, `${at} head ${hi} value ${j}`));
        close(h.scores, eh.scores[i], tol, `${at} head ${hi} scores`);
        close(h.scaled, eh.scaled[i], tol, `${at} head ${hi} scaled`);
        close(h.weights, eh.weights[i], tol, `${at} head ${hi} weights`);
        close(h.context, eh.context[i], tol, `${at} head ${hi} context`);
      });
      close(a.output, ea.output[i], tol, `${at} output`);
      close(a.residual, ea.residual[i], tol, `${at} residual`);
      closeNorm(a.norm, ea.norm[i], tol, `${at} norm`);
    });
    const f = layer.feedForward, ef = e.feedForward;
    close(f.input, ef.input[i], tol, `layer ${l} ffn input`);
    close(f.hidden, ef.hidden[i], tol, `layer ${l} ffn hidden`);
    close(f.output, ef.output[i], tol, `layer ${l} ffn output`);
    close(f.residual, ef.residual[i], tol, `layer ${l} ffn residual`);
    closeNorm(f.norm, ef.norm[i], tol, `layer ${l} ffn norm`);
  });
  if (t.side === 'target') {
    const row = (stack as ReturnType<IndependentMarian['decoder']>).logits[i];
    row[lm.config.padTokenId] = -Infinity; // generation bans the pad token
    const order = row.map((v, id) => [v, id]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, t.logits!.topIds.length);
    assert.deepEqual(t.logits!.topIds, order.map((o) => o[1]), 'top ids');
    close(t.logits!.topLogits, order.map((o) => o[0]), tol, 'top logits');
    const m = order[0][0];
    const z = row.reduce((s, v) => s + Math.exp(v - m), 0);
    close(t.logits!.topProbs, order.map((o) => Math.exp(o[0] - m) / z), tol, 'top probabilities');
    assert.deepEqual(t.logits!.topPieces, t.logits!.topIds.map((id) => lm.tokenizer.idToPiece(id)));
  } else {
    assert.equal(t.logits, undefined, 'no logits on the source side');
  }
}

/** softmax(scaled) = weights, Σ weights·values = context, input + output = residual, LayerNorm of the residual, on the trace alone. */
function checkSelfConsistent(lm: LoadedModel, t: Trace): void {
  const eps = lm.config.layerNormEps;
  const checkNorm = (residual: Vec, n: TraceNorm, gamma: Float32Array, beta: Float32Array, what: string) => {
    const mean = residual.reduce((a, b) => a + b, 0) / residual.length;
    const variance = residual.reduce((a, b) => a + (b - mean) ** 2, 0) / residual.length;
    close([n.mean, n.variance], [mean, variance], 1e-9, `${what} mean/variance`);
    close(n.output, residual.map((x, c) => ((x - mean) / Math.sqrt(variance + eps)) * gamma[c] + beta[c]), 1e-6, `${what} output`);
  };
  close(t.embedding.input, t.embedding.token.map((x, c) => x * t.embedding.scale + t.embedding.position[c]), 1e-6, 'token·scale + position');
  const weights = t.side === 'source' ? lm.model.weights.encoder : lm.model.weights.decoder;
  let x = t.embedding.input;
  t.layers.forEach((layer, l) => {
    layer.attention.forEach((a, s) => {
      const what = `layer ${l} ${a.kind}`;
      assert.deepEqual(a.input, x, `${what}: input is the previous output`);
      for (const h of a.heads) {
        close(h.scaled, h.scores.map((v) => v / Math.sqrt(h.q.length)), 1e-6, `${what} scaled = scores/√dₕ`);
        const m = Math.max(...h.scaled);
        const e = h.scaled.map((v) => Math.exp(v - m));
        const z = e.reduce((p, q) => p + q, 0);
        close(h.weights, e.map((v) => v / z), 1e-6, `${what} softmax(scaled) = weights`);
        close(h.scores, h.keys.map((k) => k.reduce((p, kv, c) => p + kv * h.q[c], 0)), 1e-5, `${what} scores = q·k`);
        close(h.context, h.q.map((_, c) => h.weights.reduce((p, w, j) => p + w * h.values[j][c], 0)), 1e-6, `${what} Σ weights·values = context`);
      }
      close(a.residual, a.input.map((v, c) => v + a.output[c]), 1e-6, `${what} input + output = residual`);
      const norm = s === 0 ? weights[l].selfAttnNorm : (weights[l] as any).encoderAttnNorm;
      checkNorm(a.residual, a.norm, norm.gamma, norm.beta, what);
      x = a.norm.output;
    });
    const f = layer.feedForward;
    assert.deepEqual(f.input, x, `layer ${l}: the feed-forward reads the attention's output`);
    close(f.residual, f.input.map((v, c) => v + f.output[c]), 1e-6, `layer ${l} ffn input + output = residual`);
    checkNorm(f.residual, f.norm, weights[l].finalNorm.gamma, weights[l].finalNorm.beta, `layer ${l} ffn`);
    x = f.norm.output;
  });
}

/** Every field of `actual` within `tol` of `expected` (numbers), strings and integers exact, the same keys. */
function deepClose(actual: unknown, expected: unknown, tol: number, path: string): void {
  if (typeof expected === 'number') {
    assert.equal(typeof actual, 'number', `${path}: not a number`);
    if (Number.isInteger(expected) && /ids|Ids|token$/.test(path)) assert.equal(actual, expected, path);
    else assert.ok(Math.abs((actual as number) - expected) <= tol, `${path}: ${actual} vs ${expected}`);
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: not an array`);
    assert.equal((actual as unknown[]).length, expected.length, `${path}: length`);
    expected.forEach((e, i) => deepClose((actual as unknown[])[i], e, tol, `${path}[${i}]`));
  } else if (expected && typeof expected === 'object') {
    assert.ok(actual && typeof actual === 'object', `${path}: not an object`);
    assert.deepEqual(Object.keys(actual as object).sort(), Object.keys(expected).sort(), `${path}: keys`);
    for (const [k, v] of Object.entries(expected)) deepClose((actual as any)[k], v, tol, `${path}.${k}`);
  } else {
    assert.equal(actual, expected, path);
  }
}

describe('trace', () => {
  const lm = loadModelFolder(BUNDLED_MODEL);
  const goldenTraces: any[] = readJson('test', 'fixtures', 'checkpoint', 'golden-trace.json').traces;
  const hf: any[] = readJson('test', 'fixtures', 'checkpoint', 'golden.json').sentences;

  test('golden-trace.json has five traces', () => assert.equal(goldenTraces.length, 5));

  for (const g of goldenTraces) {
    test(`golden-trace: "${g.text}" ${g.side} token ${g.token}, every field within 1e-5`, () => {
      const t = trace(lm, g.text, { side: g.side, token: g.token });
      const { text: _text, ...expected } = g;
      deepClose(t, expected, 1e-5, 'trace');
    });
  }

  for (const [text, side, token] of [
    ["Let's go.", 'source', 0], ["Let's go.", 'target', 2], ['The cat sat on the mat.', 'target', 4], ['The cat sat on the mat.', 'source', 7],
  ] as const) {
    test(`independent float64 pass and self-consistency: "${text}" ${side} token ${token}`, () => {
      const t = trace(lm, text, { side, token });
      checkAgainstIndependent(lm, t, 2e-5);
      checkSelfConsistent(lm, t);
    });
  }

  test('Hugging Face golden: embedding output, every attention row, encoder output, first-step logits', () => {
    for (const s of hf.slice(0, 4)) {
      const S = s.input_ids.length, T = s.decoder_input_ids.length, d = lm.config.dModel;
      for (let i = 0; i < S; i++) {
        const t = trace(lm, s.text, { side: 'source', token: i });
        assert.deepEqual(t.source.ids, s.input_ids);
        assert.deepEqual(t.target.ids, s.decoder_input_ids, 'target = the greedy translation without </s>');
        close(t.embedding.input, s.encoder_embedding_output.slice(i * d, (i + 1) * d), 1e-4, 'embedding output');
        t.layers.forEach((layer, l) => layer.attention[0].heads.forEach((h, hi) =>
          close(h.weights, s.encoder_attentions[l].slice((hi * S + i) * S, (hi * S + i + 1) * S), 1e-4, `encoder attention ${l}/${hi}`)));
        close(t.layers[t.layers.length - 1].feedForward.norm.output, s.encoder_last_hidden_state.slice(i * d, (i + 1) * d), 1e-4, 'encoder output');
      }
      for (let i = 0; i < T; i++) {
        const t = trace(lm, s.text, { side: 'target', token: i });
        t.layers.forEach((layer, l) => {
          const [self, cross] = layer.attention;
          self.heads.forEach((h, hi) => close(h.weights, s.decoder_attentions[l].slice((hi * T + i) * T, (hi * T + i) * T + i + 1), 1e-4, `decoder attention ${l}/${hi}`));
          cross.heads.forEach((h, hi) => close(h.weights, s.cross_attentions[l].slice((hi * T + i) * S, (hi * T + i + 1) * S), 1e-4, `cross attention ${l}/${hi}`));
        });
        if (i === 0) {
          // HF's top-20 raw logits of the first step (the pad token is not among them)
          const top = s.logits_first_row_top20;
          close(t.logits!.topLogits, top.values.slice(0, t.logits!.topLogits.length), 1e-4, 'first-step logits');
          assert.deepEqual(t.logits!.topIds, top.ids.slice(0, t.logits!.topIds.length));
        }
      }
    }
  });

  test('target token i predicts target token i + 1, and a forced target is fed as given', () => {
    const t = trace(lm, "Let's go.", { side: 'target', token: 1, target: 'Vámonos.' });
    const ids = lm.tokenizer.encodeTarget('Vámonos.').ids;
    assert.deepEqual(t.target.ids, [lm.config.decoderStartTokenId, ...ids.slice(0, -1)]);
    checkAgainstIndependent(lm, t, 2e-5);
    const withDetails = trace(lm, "Let's go.", { side: 'target', token: 1, target: 'Vámonos.', details: true });
    assert.equal(withDetails.logits!.nextId, ids[1]);
    assert.equal(withDetails.logits!.nextPiece, lm.tokenizer.idToPiece(ids[1]));
    // the details are extra fields only: the contract's fields are the same numbers
    const { logits: _a, layers: la, ...restA } = withDetails;
    const { logits: _b, layers: lb, ...restB } = t;
    assert.deepEqual(restA, restB);
    assert.deepEqual(la[0].attention[0].heads, lb[0].attention[0].heads);
    const n = withDetails.layers[0].attention[0].norm;
    close(n.output, n.normalized!.map((v, c) => v * n.gamma![c] + n.beta![c]), 1e-6, 'normalized·γ + β');
  });

  test('the model\'s kernels at exact precision (as trace uses them) give exactly the plain loops\' numbers', () => {
    const exact = loadModelFolder(BUNDLED_MODEL, { precision: 'exact' });
    for (const [side, token] of [['source', 2], ['target', 3]] as const) {
      const fast = trace(exact, 'The lion kills the tiger.', { side, token, details: true });
      assert.deepEqual(trace(exact, 'The lion kills the tiger.', { side, token, details: true, product: matmulNaive }), fast);
    }
  });

  test('the same trace from ids (as the walk-through asks) as from text', () => {
    const a = trace(lm, 'The lion kills the tiger.', { side: 'target', token: 3 });
    const full = [...a.target.ids, lm.config.eosTokenId];
    assert.deepEqual(traceIds(lm, a.source.ids, full, { side: 'target', token: 3 }), a);
  });

  test('bad input: a clear message naming what to change', () => {
    const bad = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, (e: unknown) => e instanceof TraceInputError && pattern.test((e as Error).message));
    bad(() => trace(lm, "Let's go.", { side: 'source', token: 6 }), /token 6 is outside the source side, which has 6 tokens \(0–5: ▁Let ' s ▁go \. <\/s>\)/);
    bad(() => trace(lm, "Let's go.", { side: 'target', token: 3 }), /token 3 is outside the target side, which has 3 tokens/);
    bad(() => trace(lm, "Let's go.", { token: -1 }), /token -1 is outside/);
    bad(() => trace(lm, "Let's go.", { token: 1.5 }), /token 1.5 is outside/);
    bad(() => trace(lm, '   ', {}), /the sentence is empty/);
    bad(() => trace(lm, "Let's go.", { side: 'target', target: '  ' }), /the target translation is empty/);
    bad(() => trace(lm, "Let's go.", { side: 'target', target: '\u200b' }), /the target translation "\u200b" tokenizes to nothing/);
    bad(() => trace(lm, "Let's go.", { side: 'middle' as any }), /side must be "source" or "target"/);
    bad(() => traceIds(lm, [], undefined, {}), /source side has no tokens/);
    // nothing else lost: the model still traces afterwards
    assert.equal(trace(lm, "Let's go.", { side: 'source', token: 5 }).source.pieces[5], '</s>');
  });
});
