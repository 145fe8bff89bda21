/**
 * Bench rows for "Train a tiny transformer" (issue 17): time to converge on the notes' example, time to 95 % token
 * accuracy on the reverse task, and optimizer steps per second on the English–Spanish task (with `threads` 2, each
 * batch split between two threads as the CLI trains).
 */
import { DataParallelTrainer } from '../src/model/train/dataParallel';
import { decoderInput } from '../src/model/train/model';
import { makeTask } from '../src/model/train/tasks';
import { Trainer } from '../src/model/train/trainer';

export interface TrainingBench {
  letsGo: { seeds: number[]; seconds: number[]; steps: number[]; converged: boolean[] };
  /** antiDiagonal: mean cross-attention weight (best head, last layer) that output i puts on input n − 1 − i. */
  reverse: { seconds: number; steps: number; accuracy: number; antiDiagonal: number };
  tatoeba: { threads: number; stepsPerSecond: number; batch: number; vocab: number };
}

export async function measureTraining(threads: number): Promise<TrainingBench> {
  // (a) lets-go: loss < 0.05 and both probe sentences right, checked every 10 steps; five seeds
  const letsGo: TrainingBench['letsGo'] = { seeds: [1, 2, 3, 4, 5], seconds: [], steps: [], converged: [] };
  for (const seed of letsGo.seeds) {
    const t0 = performance.now();
    const t = new Trainer(makeTask('lets-go'), { seed });
    let done = false;
    while (!done && t.step < 1000) {
      const loss = t.trainStep();
      if (t.step % 10 === 0 && loss < 0.05) done = t.probe().every((p, i) => p.translation === t.task.probes[i].target);
    }
    letsGo.seconds.push((performance.now() - t0) / 1000);
    letsGo.steps.push(t.step);
    letsGo.converged.push(done);
  }
  // (b) reverse: held-out token accuracy (100 pairs, teacher forced) checked every 50 steps, until ≥ 95 %
  let reverse: TrainingBench['reverse'];
  {
    const t0 = performance.now();
    const task = makeTask('reverse', 1);
    const t = new Trainer(task, { seed: 1 });
    const parallel = threads > 1 ? new DataParallelTrainer(t) : undefined;
    let accuracy = 0;
    while (accuracy < 0.95 && (performance.now() - t0) < 300_000) {
      if (parallel) await parallel.trainStep();
      else t.trainStep();
      if (t.step % 50 === 0) accuracy = t.tokenAccuracy(task.heldOut.slice(0, 100));
    }
    const seconds = (performance.now() - t0) / 1000;
    // the attention the task calls for: output position i reads input position n − 1 − i
    let mass = 0, count = 0;
    for (const p of task.heldOut.slice(0, 50)) {
      const n = p.sourceIds.length - 1;
      const rec = t.model.forward(p.sourceIds, decoderInput(p.labels, task.config.decoderStartTokenId));
      const cross = rec.decoder.layers[rec.decoder.layers.length - 1].attention[1];
      const keys = p.sourceIds.length;
      for (let i = 0; i < n; i++) {
        mass += Math.max(...cross.heads.map((h) => h.weights[i * keys + (n - 1 - i)]));
        count++;
      }
    }
    reverse = { seconds, steps: t.step, accuracy, antiDiagonal: mass / count };
    await parallel?.close();
  }
  // (c) tatoeba-en-es: steps per second after two warm-up steps
  let tatoeba: TrainingBench['tatoeba'];
  {
    const task = makeTask('tatoeba-en-es');
    const t = new Trainer(task, { seed: 1 });
    const parallel = threads > 1 ? new DataParallelTrainer(t) : undefined;
    const step = async (): Promise<number> => (parallel ? parallel.trainStep() : t.trainStep());
    await step();
    await step();
    const n = 10, t0 = performance.now();
    for (let i = 0; i < n; i++) await step();
    tatoeba = { threads, stepsPerSecond: n / ((performance.now() - t0) / 1000), batch: task.hyper.batchSize, vocab: task.config.vocabSize };
    await parallel?.close();
  }
  return { letsGo, reverse, tatoeba };
}
