/**
 * A helper thread for data-parallel training (dataParallel.ts): it sees the trainer's weights in shared memory and
 * computes the gradients of its share of each batch into shared gradient buffers the trainer adds up.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { MarianConfig } from '../loading/config';
import { TrainableMarian } from './model';
import { MarianParams } from './params';

export interface GradHelperData {
  config: MarianConfig;
  values: Float32Array[];
  grads: Float64Array[];
}

export interface GradJob {
  batch: Array<{ sourceIds: number[]; labels: number[] }>;
  totalTokens: number;
  labelSmoothing: number;
}

if (parentPort && workerData) {
  const port = parentPort;
  const data = workerData as GradHelperData;
  const params = MarianParams.sharedView(data.config, data.values, data.grads);
  const model = new TrainableMarian(data.config, params);
  port.on('message', (job: GradJob) => {
    try {
      params.zeroGrad();
      const { loss } = model.lossAndGradients(job.batch, { labelSmoothing: job.labelSmoothing, totalTokens: job.totalTokens });
      port.postMessage({ loss });
    } catch (e) {
      port.postMessage({ error: e instanceof Error ? e.message : String(e) });
    }
  });
}
