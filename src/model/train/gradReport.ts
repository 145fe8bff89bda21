/** The `grad` report: Hugging Face's training loss for one sentence pair and every trainable tensor's gradient. */
import type { LoadedModel } from '../loading/loadModel';
import { readWeights } from '../loading/loadNetwork';
import { TrainableMarian } from './model';
import { MarianParams } from './params';

export interface GradReport {
  sourceIds: number[];
  /** The labels: target tokens + </s>. */
  targetIds: number[];
  loss: number;
  /** Per tensor as named in the weight file (tied tensors once, final_logits_bias excluded): ‖g‖₂ and its first 16 values. */
  grads: Record<string, { norm: number; head: number[] }>;
}

export function gradReport(lm: LoadedModel, source: string, target: string): GradReport {
  const sourceIds = lm.tokenizer.encode(source).ids;
  const targetIds = lm.tokenizer.encodeTarget(target).ids;
  const params = MarianParams.fromTensors(lm.config, readWeights(lm.folder).tensors);
  const model = new TrainableMarian(lm.config, params);
  params.zeroGrad();
  const { loss } = model.lossAndGradients([{ sourceIds, labels: targetIds }]);
  const grads: GradReport['grads'] = {};
  for (const p of params.list) {
    let sq = 0;
    for (const g of p.grad) sq += g * g;
    grads[p.name] = { norm: Math.sqrt(sq), head: Array.from(p.grad.subarray(0, 16)) };
  }
  return { sourceIds, targetIds, loss, grads };
}
