/**
 * Data-parallel training over two threads: each step's batch is split in two, a helper thread (gradHelper.ts)
 * computes the gradients of one half while this thread computes the other, and the two are added before the
 * AdamW update. Same loss as one thread; the gradient sums differ only in rounding order.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { GradHelperData, GradJob } from './gradHelper';
import type { Trainer } from './trainer';

export class DataParallelTrainer {
  private readonly worker: Worker;
  private readonly helperGrads: Float64Array[];
  private pending: { resolve: (loss: number) => void; reject: (e: Error) => void } | undefined;

  constructor(readonly trainer: Trainer) {
    const list = trainer.params.list;
    this.helperGrads = list.map((p) => new Float64Array(new SharedArrayBuffer(p.grad.length * 8)));
    const data: GradHelperData = { config: trainer.task.config, values: list.map((p) => p.value), grads: this.helperGrads };
    this.worker = startGradHelper(data);
    this.worker.on('message', (m: { loss?: number; error?: string }) => {
      const p = this.pending;
      this.pending = undefined;
      if (m.error !== undefined) p?.reject(new Error(`training helper thread: ${m.error}`));
      else p?.resolve(m.loss!);
    });
    this.worker.on('error', (e) => this.pending?.reject(e));
  }

  /** One optimizer step: half the batch here, half in the helper, gradients added, then the checked update. */
  async trainStep(): Promise<number> {
    const t = this.trainer;
    const batch = t.nextBatch().map((p) => ({ sourceIds: p.sourceIds, labels: p.labels }));
    const totalTokens = batch.reduce((a, p) => a + p.labels.length, 0);
    const half = Math.ceil(batch.length / 2);
    const labelSmoothing = t.task.hyper.labelSmoothing;
    const theirs = new Promise<number>((resolve, reject) => (this.pending = { resolve, reject }));
    const job: GradJob = { batch: batch.slice(half), totalTokens, labelSmoothing };
    this.worker.postMessage(job);
    t.params.zeroGrad();
    const mine = t.model.lossAndGradients(batch.slice(0, half), { labelSmoothing, totalTokens }).loss;
    const loss = mine + (await theirs);
    t.params.list.forEach((p, k) => {
      const g = p.grad, h = this.helperGrads[k];
      for (let i = 0; i < g.length; i++) g[i] += h[i];
    });
    return t.finishStep(loss);
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}

/** dist/trainGradHelper.js beside the bundle that runs this code, or the TypeScript source through tsx. */
function startGradHelper(data: GradHelperData): Worker {
  const opts = { workerData: data, name: 'attention-lens-train-helper' };
  const bundled = path.join(__dirname, 'trainGradHelper.js');
  if (fs.existsSync(bundled)) return new Worker(bundled, opts);
  const source = path.join(__dirname, 'gradHelper.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { ...opts, eval: true });
}
