/** The training loop: batches, AdamW steps, held-out loss, token accuracy and probe translations. */
import { AdamW } from './adamw';
import { TrainableMarian, decoderInput } from './model';
import { MarianParams, Rng } from './params';
import type { Task, TaskPair } from './tasks';

/** A step whose loss or gradients are NaN or infinite: training stops and the weights stay those before it. */
export class TrainingDivergedError extends Error {
  constructor(readonly step: number, what: string) {
    super(`training stopped at step ${step}: the ${what} is not a finite number (kept the weights of step ${step - 1}; try a lower learning rate)`);
    this.name = 'TrainingDivergedError';
  }
}

export interface TrainerOptions {
  seed: number;
  /** Overrides the task's learning rate. */
  lr?: number;
}

export class Trainer {
  readonly params: MarianParams;
  readonly model: TrainableMarian;
  readonly optimizer: AdamW;
  private readonly rng: Rng;
  private order: number[] = [];
  step = 0;

  constructor(readonly task: Task, readonly opts: TrainerOptions) {
    this.params = MarianParams.init(task.config, opts.seed, task.hyper.initStd);
    this.model = new TrainableMarian(task.config, this.params);
    this.optimizer = new AdamW(this.params.list, {
      lr: opts.lr ?? task.hyper.lr, warmupSteps: task.hyper.warmupSteps, weightDecay: task.hyper.weightDecay, clipNorm: 1,
    });
    this.rng = new Rng(opts.seed ^ 0x5bd1e995);
  }

  /** The next batch: the training pairs in a seeded shuffled order, reshuffled each epoch. */
  nextBatch(): TaskPair[] {
    const { train } = this.task, size = Math.min(this.task.hyper.batchSize, train.length);
    const batch: TaskPair[] = [];
    while (batch.length < size) {
      if (this.order.length === 0) {
        this.order = train.map((_, i) => i);
        for (let i = this.order.length - 1; i > 0; i--) {
          const j = this.rng.int(i + 1);
          [this.order[i], this.order[j]] = [this.order[j], this.order[i]];
        }
      }
      batch.push(train[this.order.pop()!]);
    }
    return batch;
  }

  /** One optimizer step on one batch; returns its mean training loss. */
  trainStep(): number {
    const batch = this.nextBatch();
    this.params.zeroGrad();
    const { loss } = this.model.lossAndGradients(batch.map((p) => ({ sourceIds: p.sourceIds, labels: p.labels })), { labelSmoothing: this.task.hyper.labelSmoothing });
    return this.finishStep(loss);
  }

  /** Checks the batch's loss and the gradients now in the parameters, then updates the weights. */
  finishStep(loss: number): number {
    const step = this.step + 1;
    // check before updating, so a bad step leaves the last good weights untouched
    if (!Number.isFinite(loss)) throw new TrainingDivergedError(step, `loss (${loss})`);
    if (!Number.isFinite(this.optimizer.gradNorm())) throw new TrainingDivergedError(step, 'gradient');
    this.optimizer.update();
    this.step = step;
    return loss;
  }

  /** Mean cross-entropy (no smoothing) over pairs, without gradients. */
  loss(pairs: TaskPair[]): number {
    return this.model.lossAndGradients(pairs.map((p) => ({ sourceIds: p.sourceIds, labels: p.labels })), { gradients: false }).loss;
  }

  /** Share of label tokens the model ranks first when fed the right prefix (teacher forcing). */
  tokenAccuracy(pairs: TaskPair[]): number {
    const V = this.task.config.vocabSize;
    let right = 0, total = 0;
    for (const p of pairs) {
      const { logits } = this.model.forward(p.sourceIds, decoderInput(p.labels, this.task.config.decoderStartTokenId));
      p.labels.forEach((label, t) => {
        let best = 0;
        for (let v = 1; v < V; v++) if (logits[t * V + v] > logits[t * V + best]) best = v;
        if (best === label) right++;
        total++;
      });
    }
    return right / total;
  }

  translate(sourceIds: number[]): string {
    return this.task.decode(this.model.greedy(sourceIds, this.task.hyper.maxNewTokens));
  }

  probe(): Array<{ source: string; translation: string }> {
    return this.task.probes.map((p) => ({ source: p.source, translation: this.translate(p.sourceIds) }));
  }
}
