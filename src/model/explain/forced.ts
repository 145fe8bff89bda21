/**
 * Teacher forcing: a translation the user gives (or a branch that starts from another candidate) becomes the
 * decoder's input, and the model scores each given token with the same distribution generation draws from.
 */
import type { LoadedModel } from '../loading/loadModel';

export interface ForcedTarget {
  /** The target's tokens after the decoder start token, ending with `</s>`: what the decoder is made to produce. */
  ids: number[];
  pieces: string[];
  /** What the user should know about the target (characters the vocabulary lacks). */
  notes: string[];
}

/**
 * Tokenises a target translation with the target vocabulary (as Hugging Face tokenises labels). `maxTokens` is how
 * many tokens (`</s>` included) the decoder can be made to produce: one position per token fed to it.
 */
export function encodeForcedTarget(lm: LoadedModel, target: string, maxTokens: number): ForcedTarget {
  const text = target.trim();
  if (!text) throw new RangeError('the target translation is empty: type the translation the model should score');
  const tok = lm.tokenizer;
  const enc = tok.encodeTarget(text);
  const inner = enc.ids.slice(0, -1);
  // a literal </s> or <pad> inside the text would end the sentence or be a banned token: refuse it plainly
  const special = inner.findIndex((id) => id === tok.eosId || id === tok.padId);
  if (special !== -1) throw new RangeError(`the target contains the special token ${enc.pieces[special]}: remove it (</s> is added at the end)`);
  if (enc.ids.length > maxTokens) {
    throw new RangeError(`the target is ${enc.ids.length} tokens long with </s>; this model's decoder reads at most ${maxTokens} (shorten the target)`);
  }
  const notes: string[] = [];
  if (inner.includes(tok.unkId)) {
    const missing = unknownCharacters(lm, text);
    const shown = missing.length ? missing.map((c) => `"${c}"`).join(', ') : 'some characters';
    notes.push(`${shown} ${missing.length === 1 ? 'is' : 'are'} not in the target vocabulary: scored as <unk>`);
  }
  return { ids: enc.ids, pieces: enc.pieces, notes };
}

/** The characters of `text` that the target vocabulary can only write as `<unk>` (each once, in order). */
function unknownCharacters(lm: LoadedModel, text: string): string[] {
  const tok = lm.tokenizer;
  const out: string[] = [];
  for (const ch of new Set(Array.from(text))) {
    if (ch.trim() === '') continue;
    if (tok.encodeTarget(ch).ids.includes(tok.unkId)) out.push(ch);
  }
  return out;
}

/**
 * The forced prefix of a branch: the first `step` tokens of `targetIds` after its start token, then `alternative`
 * in place of the token steps[step] chose. Greedy decoding continues from there.
 */
export function branchPrefix(lm: LoadedModel, targetIds: readonly number[], step: number, alternative: number): number[] {
  if (!(Number.isInteger(step) && step >= 0 && step < targetIds.length - 1)) {
    throw new RangeError(`step ${step} is outside the translation's ${targetIds.length - 1} steps`);
  }
  if (!(Number.isInteger(alternative) && alternative >= 0 && alternative < lm.config.vocabSize)) {
    throw new RangeError(`token id ${alternative} is outside the vocabulary`);
  }
  return [...targetIds.slice(1, step + 1), alternative];
}
