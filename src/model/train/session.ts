/**
 * A training run as the "Train a tiny transformer" panel sees it: steps on demand, the loss curve (training and
 * held-out), the probe translations, every attention matrix of the first probe, and for the toy task the word
 * embeddings and embedding + position points in 2-D. Plain data, so the worker can post it as it is.
 */
import type { AttentionKind, AttentionKindName } from '../../shared/explanation';
import { decoderInput } from './model';
import { makeTask, type Task } from './tasks';
import { Trainer } from './trainer';

export interface LossPoint {
  step: number;
  train: number;
  /** Held-out loss, measured every few steps. */
  heldOut?: number;
}

export interface ScatterPoint {
  label: string;
  x: number;
  y: number;
}

export interface TrainSnapshot {
  task: string;
  title: string;
  seed: number;
  lr: number;
  step: number;
  lossCurve: LossPoint[];
  probes: Array<{ source: string; target: string; translation: string }>;
  /** The first probe pair, teacher forced: every kind, layer and head (shared/attention.ts accessors read it). */
  attention: { source: string; kinds: Record<AttentionKindName, AttentionKind> };
  /** Toy task only: word embeddings and embedding + position for the source words, in 2-D. */
  scatter?: { words: ScatterPoint[]; inputs: ScatterPoint[]; projection: string };
  /** What this architecture changes from the textbook example (shown in the view). */
  notes: string[];
}

export class TrainSession {
  readonly task: Task;
  readonly trainer: Trainer;
  private readonly curve: LossPoint[] = [];

  constructor(taskName: string, readonly seed: number, lr?: number) {
    this.task = makeTask(taskName, seed);
    this.trainer = new Trainer(this.task, { seed, lr });
  }

  get lr(): number {
    return this.trainer.optimizer.opts.lr;
  }

  /** Runs `n` steps (a TrainingDivergedError leaves the last good weights), recording the loss curve. */
  run(n: number): void {
    for (let i = 0; i < n; i++) {
      const train = this.trainer.trainStep();
      const point: LossPoint = { step: this.trainer.step, train };
      if (this.trainer.step % this.heldOutEvery() === 0 || this.trainer.step === 1) point.heldOut = this.trainer.loss(this.task.heldOut.slice(0, 50));
      this.curve.push(point);
    }
  }

  private heldOutEvery(): number {
    return this.task.name === 'lets-go' ? 5 : 25;
  }

  snapshot(): TrainSnapshot {
    const t = this.trainer, task = this.task, cfg = task.config;
    const probe = task.probes[0];
    const rec = t.model.forward(probe.sourceIds, decoderInput(probe.labels, cfg.decoderStartTokenId));
    const srcTokens = probe.sourceIds.map((id) => task.decode([id]) || (id === cfg.eosTokenId ? '</s>' : '?'));
    const tgtIds = decoderInput(probe.labels, cfg.decoderStartTokenId);
    const tgtTokens = tgtIds.map((id, i) => (i === 0 ? '<start>' : task.decode([id]) || '</s>'));
    const kind = (name: AttentionKindName, stack: typeof rec.encoder, index: number, q: string[], k: string[]): AttentionKind => {
      const layers = stack.layers.length, heads = stack.layers[0].attention[index].heads.length;
      const weights = new Float32Array(layers * heads * q.length * k.length);
      stack.layers.forEach((layer, l) => layer.attention[index].heads.forEach((h, hi) => weights.set(h.weights, (l * heads + hi) * q.length * k.length)));
      void name;
      return { layers, heads, queryLen: q.length, keyLen: k.length, queryTokens: q, keyTokens: k, weights };
    };
    const kinds = {
      encoder: kind('encoder', rec.encoder, 0, srcTokens, srcTokens),
      decoder: kind('decoder', rec.decoder, 0, tgtTokens, tgtTokens),
      cross: kind('cross', rec.decoder, 1, tgtTokens, srcTokens),
    };
    const snap: TrainSnapshot = {
      task: task.name, title: task.title, seed: this.seed, lr: this.lr, step: t.step, lossCurve: this.curve.slice(),
      probes: task.probes.map((p) => ({ source: p.source, target: p.target, translation: t.translate(p.sourceIds) })),
      attention: { source: probe.source, kinds }, notes: [],
    };
    if (task.name === 'lets-go') {
      snap.scatter = this.scatter();
      snap.notes = [
        'd_model is 4 (drawn in 2-D): with 2, a LayerNorm over two numbers keeps only which one is larger, too little to tell vamos, ir and </s> apart.',
        'Unlike the textbook version, every sub-layer is followed by a residual connection and a LayerNorm (post-LN, as Marian), and a feed-forward layer follows the attention.',
      ];
    }
    return snap;
  }

  /** The word embeddings and each probe's embedding + position rows, projected on their two principal axes. */
  private scatter(): TrainSnapshot['scatter'] {
    const task = this.task, d = task.config.dModel;
    const E = this.trainer.params.get('shared.weight').value;
    const words: Array<{ label: string; v: number[] }> = [];
    for (let id = 2; id < task.config.vocabSize - 1; id++) words.push({ label: task.decode([id]), v: Array.from(E.subarray(id * d, (id + 1) * d)) });
    const inputs: Array<{ label: string; v: number[] }> = [];
    for (const p of task.probes) {
      const rec = this.trainer.model.forward(p.sourceIds, [task.config.decoderStartTokenId]);
      p.sourceIds.slice(0, -1).forEach((id, i) => inputs.push({ label: `${task.decode([id])}@${i}`, v: Array.from(rec.encoder.embedding.input.subarray(i * d, (i + 1) * d)) }));
    }
    const axes = principalAxes([...words, ...inputs].map((w) => w.v), d);
    const project = (v: number[]): [number, number] => [dot(v, axes[0]), dot(v, axes[1])];
    const pt = (w: { label: string; v: number[] }): ScatterPoint => {
      const [x, y] = project(w.v);
      return { label: w.label, x, y };
    };
    return { words: words.map(pt), inputs: inputs.map(pt), projection: `the two principal axes of these ${d}-dimensional points` };
  }
}

const dot = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i], 0);

/** The two leading eigenvectors of the points' covariance (power iteration with deflation), signs fixed. */
function principalAxes(points: number[][], d: number): [number[], number[]] {
  const mean = Array.from({ length: d }, (_, c) => points.reduce((s, p) => s + p[c], 0) / points.length);
  const cov = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (const p of points) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i][j] += (p[i] - mean[i]) * (p[j] - mean[j]);
  const axes: number[][] = [];
  for (let k = 0; k < 2; k++) {
    let v: number[] = Array.from({ length: d }, (_, i) => (i === k ? 1 : 0.5));
    for (let it = 0; it < 100; it++) {
      let w = cov.map((row) => dot(row, v));
      for (const a of axes) {
        const c = dot(w, a);
        w = w.map((x, i) => x - c * a[i]);
      }
      const n = Math.hypot(...w) || 1;
      v = w.map((x) => x / n);
    }
    // the sign of an eigenvector is arbitrary: make its largest entry positive so frames do not flip
    const big = v.reduce((b, x, i) => (Math.abs(x) > Math.abs(v[b]) ? i : b), 0);
    axes.push(v[big] < 0 ? v.map((x) => -x) : v);
  }
  return [axes[0], axes[1]];
}
