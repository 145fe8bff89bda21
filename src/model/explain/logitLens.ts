/**
 * The decoder's logit lens: what the model would predict if the decoder stopped after each layer. Each layer's
 * output goes through the tied output projection and final_logits_bias, then the same logits processors and
 * softmax as generation. Marian is post-LayerNorm (every sub-layer ends in a LayerNorm), so a layer's output is
 * already normalised: no extra norm is applied, unlike the logit lens of pre-LN models such as GPT-2.
 */
import type { GenerationSettings } from '../loading/config';
import { applyLogitsProcessors } from '../generation/logitsProcessors';
import { StepDistribution } from '../generation/generate';
import type { MarianModel, StepAttention } from '../marian';
import { logits as outputLogits } from '../network/layers';
import type { LogitLens } from '../../shared/explanation';

/**
 * `rows[t].layerOutputs[l]` is decoder layer l's output at the step that predicted ids[t + 1] (captured by
 * decodeStep); `ids` is the decoder's token sequence (start token first), which the processors read as the prefix.
 */
export function logitLens(
  model: MarianModel, rows: readonly StepAttention[], ids: readonly number[], gen: GenerationSettings, k: number,
  idToPiece: (id: number) => string,
): LogitLens {
  const cfg = model.config;
  const d = cfg.dModel, V = cfg.vocabSize, T = rows.length;
  const x = new Float32Array(T * d);
  const logits = new Float32Array(T * V);
  const layers: LogitLens['layers'] = [];
  for (let l = 0; l < cfg.decoderLayers; l++) {
    for (let t = 0; t < T; t++) {
      const out = rows[t].layerOutputs?.[l];
      if (!out) throw new Error(`decoder layer ${l} output was not captured at step ${t}`);
      x.set(out, t * d);
    }
    // all positions at once, through the model's own output layer: x · lm_headᵀ + final_logits_bias (tied embedding)
    outputLogits(model, x, T, 1, logits);
    const topIds: number[][] = [], topProbs: number[][] = [], topPieces: string[][] = [];
    for (let t = 0; t < T; t++) {
      const scores = logits.subarray(t * V, (t + 1) * V);
      // the processors generation applied at this step (prefix = the tokens fed so far)
      applyLogitsProcessors(scores, ids.slice(0, t + 1) as number[], gen, cfg.eosTokenId);
      const dist = new StepDistribution(scores, k);
      const step = dist.step(dist.best);
      topIds.push(step.topIds);
      topProbs.push(step.topProbs);
      topPieces.push(step.topIds.map(idToPiece));
    }
    layers.push({ topIds, topProbs, topPieces });
  }
  return { layers };
}
