/**
 * An independent Marian forward pass for tests: plain loops over the loaded weights, doubles throughout, the whole
 * decoder prefix at once (causal mask) instead of the engine's cached steps. It shares no code with the engine.
 */
import type { MarianConfig } from '../../src/model/loading/config';
import type { AttentionWeights, LayerNormWeights, Linear, MarianWeights } from '../../src/model/loading/weights';

type Rows = number[][];

const lin = (x: Rows, w: Linear): Rows => x.map((row) => {
  const out: number[] = [];
  for (let o = 0; o < w.outDim; o++) {
    let s = w.bias[o];
    for (let i = 0; i < w.inDim; i++) s += row[i] * w.weight[o * w.inDim + i];
    out.push(s);
  }
  return out;
});

const norm = (x: Rows, n: LayerNormWeights, eps: number): Rows => x.map((row) => {
  const mean = row.reduce((a, b) => a + b, 0) / row.length;
  const v = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
  return row.map((b, i) => ((b - mean) / Math.sqrt(v + eps)) * n.gamma[i] + n.beta[i]);
});

const add = (a: Rows, b: Rows): Rows => a.map((row, i) => row.map((v, j) => v + b[i][j]));

function attend(cfg: MarianConfig, w: AttentionWeights, x: Rows, mem: Rows, heads: number, causal: boolean): Rows {
  const q = lin(x, w.q), k = lin(mem, w.k), v = lin(mem, w.v);
  const hd = cfg.dModel / heads;
  const ctx = x.map(() => new Array<number>(cfg.dModel).fill(0));
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < x.length; i++) {
      const keys = causal ? i + 1 : mem.length;
      const s: number[] = [];
      for (let j = 0; j < keys; j++) {
        let dot = 0;
        for (let c = 0; c < hd; c++) dot += q[i][h * hd + c] * k[j][h * hd + c];
        s.push(dot / Math.sqrt(hd));
      }
      const m = Math.max(...s);
      const e = s.map((z) => Math.exp(z - m));
      const z = e.reduce((a, b) => a + b, 0);
      for (let j = 0; j < keys; j++) for (let c = 0; c < hd; c++) ctx[i][h * hd + c] += (e[j] / z) * v[j][h * hd + c];
    }
  }
  return lin(ctx, w.out);
}

function act(cfg: MarianConfig, v: number): number {
  if (cfg.activation === 'relu') return Math.max(0, v);
  if (cfg.activation === 'swish') return v / (1 + Math.exp(-v));
  throw new Error(`plain Marian: activation ${cfg.activation} not written here`);
}

function embed(cfg: MarianConfig, w: MarianWeights, ids: number[]): Rows {
  const d = cfg.dModel, scale = cfg.scaleEmbedding ? Math.sqrt(d) : 1;
  return ids.map((id, p) => Array.from({ length: d }, (_, c) => {
    // sin in the first half, cos in the second, frequency 1/10000^(2j/d)
    const j = c < d / 2 ? c : c - d / 2;
    const angle = p / Math.pow(10000, (2 * j) / d);
    return w.embeddings[id * d + c] * scale + (c < d / 2 ? Math.sin(angle) : Math.cos(angle));
  }));
}

/** Each decoder layer's output rows [T][dModel] for decoder input `decoderIds` after encoding `sourceIds`. */
export function plainDecoderLayers(cfg: MarianConfig, w: MarianWeights, sourceIds: number[], decoderIds: number[]): Rows[] {
  const eps = cfg.layerNormEps;
  let x = embed(cfg, w, sourceIds);
  for (const l of w.encoder) {
    x = norm(add(x, attend(cfg, l.selfAttn, x, x, cfg.encoderHeads, false)), l.selfAttnNorm, eps);
    const hidden = lin(x, l.fc1).map((r) => r.map((v) => act(cfg, v)));
    x = norm(add(x, lin(hidden, l.fc2)), l.finalNorm, eps);
  }
  const enc = x;
  let y = embed(cfg, w, decoderIds);
  const outputs: Rows[] = [];
  for (const l of w.decoder) {
    y = norm(add(y, attend(cfg, l.selfAttn, y, y, cfg.decoderHeads, true)), l.selfAttnNorm, eps);
    y = norm(add(y, attend(cfg, l.encoderAttn, y, enc, cfg.decoderHeads, false)), l.encoderAttnNorm, eps);
    const hidden = lin(y, l.fc1).map((r) => r.map((v) => act(cfg, v)));
    y = norm(add(y, lin(hidden, l.fc2)), l.finalNorm, eps);
    outputs.push(y);
  }
  return outputs;
}

/**
 * softmax(row · lm_headᵀ + final_logits_bias) with `banned` ids at probability 0 (the pad token, as generation
 * bans it), as a full probability vector.
 */
export function plainProbabilities(cfg: MarianConfig, w: MarianWeights, row: number[], banned: number[]): number[] {
  const d = cfg.dModel;
  const logits: number[] = [];
  for (let v = 0; v < cfg.vocabSize; v++) {
    let s = w.finalLogitsBias[v];
    for (let c = 0; c < d; c++) s += row[c] * w.lmHead[v * d + c];
    logits.push(banned.includes(v) ? -Infinity : s);
  }
  const m = Math.max(...logits);
  const e = logits.map((z) => Math.exp(z - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

/** Ids by falling probability (lower id first on ties). */
export function ranked(probs: number[]): number[] {
  return probs.map((_, i) => i).sort((a, b) => probs[b] - probs[a] || a - b);
}
