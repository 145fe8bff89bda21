/** Hugging Face's logits processors that Marian generation configs switch on: bad words and forced eos. */
import type { GenerationSettings } from '../loading/config';

/** Rewrites scores[0, vocab) in place for a hypothesis whose tokens (start token included) are `prefix`. */
export function applyLogitsProcessors(scores: Float64Array | Float32Array, prefix: number[], gen: GenerationSettings, eosId: number): void {
  for (const seq of gen.badWordsIds) {
    if (seq.length === 0) continue;
    const head = seq.length - 1;
    let match = prefix.length >= head;
    for (let i = 0; match && i < head; i++) match = prefix[prefix.length - head + i] === seq[i];
    if (match && seq[head] < scores.length) scores[seq[head]] = -Infinity;
  }
  if (gen.forcedEosTokenId !== undefined && prefix.length === gen.maxLength - 1) {
    scores.fill(-Infinity);
    scores[gen.forcedEosTokenId ?? eosId] = 0;
  }
}
