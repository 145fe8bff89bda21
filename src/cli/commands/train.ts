/** `attention-lens train`: train a tiny Marian model on one of the shipped tasks, printing JSON progress lines. */
import { InvalidArgumentError, type Command } from 'commander';
import { saveMarianFolder } from '../../model/train/save';
import { TASK_NAMES, makeTask } from '../../model/train/tasks';
import { Trainer, TrainingDivergedError } from '../../model/train/trainer';
import { resolveThreads } from '../../model/kernels/parallel/matmulPool';
import { DataParallelTrainer } from '../../model/train/dataParallel';
import { positiveInt } from '../common';

const nonNegativeInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected an integer ≥ 0');
  return n;
};
const positiveNumber = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
};

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a tiny transformer from random weights; one JSON progress line every few steps, the summary last')
    .requiredOption('--task <name>', `task: ${TASK_NAMES.join(', ')}`)
    .option('--steps <n>', 'optimizer steps', positiveInt(10_000_000), 200)
    .option('--seed <n>', 'seed of the initial weights and the batch order', nonNegativeInt, 1)
    .option('--lr <x>', "learning rate (default: the task's)", positiveNumber)
    .option('--out <dir>', 'save the trained model there as a Hugging Face Marian folder')
    .option('--threads <n>', 'threads (default: every core, at most 4): 2 or more split each batch between this thread and a helper', positiveInt(16))
    .option('--json', 'print JSON lines (the only output format)', true)
    .action(async (o: { task: string; steps: number; seed: number; lr?: number; out?: string; threads?: number }) => {
      if (!(TASK_NAMES as readonly string[]).includes(o.task)) throw new Error(`unknown task "${o.task}"; tasks: ${TASK_NAMES.join(', ')}`);
      const task = makeTask(o.task, o.seed);
      const trainer = new Trainer(task, { seed: o.seed, lr: o.lr });
      // two threads: each step's batch is split between this thread and a helper (gradients added)
      const parallel = resolveThreads(o.threads) > 1 && task.hyper.batchSize > 1 ? new DataParallelTrainer(trainer) : undefined;
      const every = Math.max(1, Math.round(o.steps / 20));
      const t0 = performance.now();
      const seconds = (): number => Math.round((performance.now() - t0)) / 1000;
      let loss = NaN;
      let failure: Error | undefined;
      try {
        for (let s = 1; s <= o.steps; s++) {
          loss = parallel ? await parallel.trainStep() : trainer.trainStep();
          if (s % every === 0 || s === o.steps) process.stdout.write(JSON.stringify({ step: s, loss, seconds: seconds() }) + '\n');
        }
      } catch (e) {
        if (!(e instanceof TrainingDivergedError)) throw e;
        failure = e;
      } finally {
        await parallel?.close();
      }
      // a diverged run still saves its last good weights
      if (o.out) saveMarianFolder(o.out, task, trainer.params);
      if (failure) throw failure;
      const summary = { task: task.name, steps: trainer.step, seconds: seconds(), loss, probe: trainer.probe() };
      process.stdout.write(JSON.stringify(summary) + '\n');
    });
}
