/** Runs the model on one sentence and packages what the views show: tokens, attentions, positions, step probabilities. */
import { throwIfStopped, type ShouldStop } from '../cancel';
import type { AttentionKind, DecodingStep, Explanation } from '../../shared/explanation';
import { generate, type GenerationResult } from '../generation/generate';
import type { LoadedModel } from '../loading/loadModel';
import type { StepAttention } from '../marian';
import { encodeForcedTarget } from './forced';
import { logitLens } from './logitLens';

export interface TranslateOptions {
  /** Beams (1 = greedy); defaults to 1. */
  numBeams?: number;
  /** Generated-token limit; like Hugging Face's max_new_tokens it replaces the model's max_length (start token + this). */
  maxNewTokens?: number;
  /** Source token budget (eos included); longer input is truncated. Defaults to the model's position limit. */
  maxSourceTokens?: number;
  shouldStop?: ShouldStop;
  /**
   * Target language of a multilingual model (`spa` or `>>spa<<`): its `>>xx<<` token is put first in the source,
   * as these models were trained. Models without such tokens refuse it.
   */
  targetLanguage?: string;
}

export interface ExplainOptions extends TranslateOptions {
  /** Candidates recorded per decoding step (and per logit-lens row); defaults to 5. */
  topK?: number;
  /** Teacher forcing: score this translation instead of generating one (greedy; numBeams is ignored). */
  target?: string;
  /** A branch: these tokens (after the start token) are taken as given, then greedy decoding continues. */
  forcedPrefix?: number[];
  /**
   * Compute the decoder's logit lens (default true). It projects every decoder layer's output onto the whole
   * vocabulary at every step, as much work again as the output layer per decoder layer, so views that don't show
   * it (hover, side view) turn it off.
   */
  logitLens?: boolean;
}

interface Encoded {
  ids: number[];
  pieces: string[];
  text: string;
  truncated: boolean;
}

/**
 * Tokenises and cuts to the budget: the first budget−1 pieces and eos, with the text cut where the last kept
 * piece ends, so text, pieces and offsets agree. The cut text is tokenised again and its own pieces are used:
 * normally they are exactly the kept ones (unigram segmentation of a prefix ending at a piece boundary), but a
 * cut through one normalised character (`ﬁ` → `f` `i`) or after a lone `▁` (trimmed as trailing whitespace)
 * can change them; if that ever needs more tokens than the budget, the cut steps back a piece.
 */
function encodeWithBudget(lm: LoadedModel, text: string, budget: number, targetLanguage?: string): Encoded & { offsets: Array<[number, number]> } {
  const code = languageToken(lm, targetLanguage);
  if (code === undefined) return encodeTextWithBudget(lm, text, budget);
  // encode "code text" and report offsets relative to the user's text (the code token gets an empty span at 0)
  const shift = code.length + 1;
  const r = encodeTextWithBudget(lm, `${code} ${text}`, budget);
  return {
    ...r,
    text: r.text.slice(shift),
    offsets: r.offsets.map(([a, b]) => [Math.max(0, a - shift), Math.max(0, b - shift)]),
  };
}

/** The `>>xx<<` token for a requested target language, or undefined when none was asked for. */
function languageToken(lm: LoadedModel, targetLanguage: string | undefined): string | undefined {
  const wanted = targetLanguage?.trim();
  if (!wanted) return undefined;
  const codes = lm.tokenizer.languageCodes;
  const code = /^>>.+<<$/.test(wanted) ? wanted : `>>${wanted}<<`;
  if (codes.includes(code)) return code;
  if (codes.length === 0) throw new Error(`target language "${wanted}" was requested, but this model has no >>xx<< language tokens (it translates into one language)`);
  const shown = codes.length > 12 ? `${codes.slice(0, 12).join(', ')} … (${codes.length} in all)` : codes.join(', ');
  throw new Error(`this model has no target language "${wanted}"; it offers ${shown}`);
}

function encodeTextWithBudget(lm: LoadedModel, text: string, budget: number): Encoded & { offsets: Array<[number, number]> } {
  const tok = lm.tokenizer;
  const enc = tok.encodeWithOffsets(text);
  const max = Math.max(2, Math.min(budget, lm.maxSourceTokens));
  if (enc.ids.length <= max) return { ...enc, text, truncated: false };
  for (let keep = max - 1; keep > 0; keep--) {
    const cut = text.slice(0, enc.offsets[keep - 1][1]);
    const again = tok.encodeWithOffsets(cut);
    if (again.ids.length <= max) return { ...again, text: cut, truncated: true };
  }
  return { ...tok.encodeWithOffsets(''), text: '', truncated: true };
}

function generationOptions(lm: LoadedModel, opts: TranslateOptions, topK: number, capture: boolean) {
  const gen = lm.generation;
  // The decoder has max_position_embeddings positions, so at most that many tokens are fed to it (Hugging Face
  // fails beyond them): a max_length (or max_new_tokens) above that is cut there instead of allocating for it.
  const maxLength = Math.min(opts.maxNewTokens ? opts.maxNewTokens + 1 : gen.maxLength, lm.config.maxPositions + 1);
  return { ...gen, maxLength, numBeams: opts.numBeams ?? 1, topK, captureAttention: capture, shouldStop: opts.shouldStop };
}

export function translate(lm: LoadedModel, text: string, opts: TranslateOptions = {}): { text: string; ids: number[]; truncated: boolean } {
  const src = encodeWithBudget(lm, text, opts.maxSourceTokens ?? lm.maxSourceTokens, opts.targetLanguage);
  const enc = lm.model.encode(src.ids, { shouldStop: opts.shouldStop });
  const result = generate(lm.model, lm.model.crossMemory(enc), { ...generationOptions(lm, opts, 1, false), sourceIds: src.ids });
  return { text: lm.tokenizer.decode(result.ids, { skipSpecialTokens: true }), ids: result.ids, truncated: src.truncated };
}

export function explain(lm: LoadedModel, text: string, opts: ExplainOptions = {}): Explanation {
  const t0 = performance.now();
  const cfg = lm.config;
  const src = encodeWithBudget(lm, text, opts.maxSourceTokens ?? lm.maxSourceTokens, opts.targetLanguage);
  const t1 = performance.now();
  const enc = lm.model.encode(src.ids, { capture: true, shouldStop: opts.shouldStop });
  const mem = lm.model.crossMemory(enc);
  const t2 = performance.now();
  const topK = opts.topK ?? 5;
  const forcing = opts.target !== undefined || opts.forcedPrefix !== undefined;
  const numBeams = forcing ? 1 : opts.numBeams ?? 1;
  // a given target may fill every decoder position (one per token fed: the start token and all but </s>)
  const lengthLimit = opts.target !== undefined ? { maxNewTokens: cfg.maxPositions } : {};
  const genOpts = generationOptions(lm, { ...opts, ...lengthLimit, numBeams }, topK, numBeams === 1);
  const forced = opts.target !== undefined ? encodeForcedTarget(lm, opts.target, genOpts.maxLength - 1) : undefined;
  const result = generate(lm.model, mem, { ...genOpts, forcedIds: forced?.ids ?? opts.forcedPrefix, sourceIds: src.ids });
  const rows = result.attention ?? teacherForcedAttention(lm, result, mem, opts.shouldStop);
  const lens = opts.logitLens === false ? undefined : logitLens(lm.model, rows, result.ids, genOpts, topK, (id) => lm.tokenizer.idToPiece(id));
  const t3 = performance.now();

  const tok = lm.tokenizer;
  const targetPieces = result.ids.map((id) => tok.idToPiece(id));
  const decoderInputs = targetPieces.slice(0, -1);
  const S = src.ids.length, T = decoderInputs.length;
  const Hd = cfg.decoderHeads;
  const steps: DecodingStep[] = result.steps.map((s, i) => ({
    position: i + 1,
    chosenId: s.chosenId,
    chosenPiece: tok.idToPiece(s.chosenId),
    chosenProb: s.chosenProb,
    chosenRank: s.chosenRank,
    topIds: s.topIds,
    topPieces: s.topIds.map((id) => tok.idToPiece(id)),
    topProbs: s.topProbs,
  }));
  const encoder: AttentionKind = {
    heads: cfg.encoderHeads, queryLen: S, keyLen: S, queryTokens: src.pieces, keyTokens: src.pieces,
    layers: cfg.encoderLayers, weights: concatLayers(enc.attentions!),
  };
  const decoder: AttentionKind = {
    heads: Hd, queryLen: T, keyLen: T, queryTokens: decoderInputs, keyTokens: decoderInputs,
    layers: cfg.decoderLayers, weights: stackRows(rows, 'self', cfg.decoderLayers, Hd, T, T),
  };
  const cross: AttentionKind = {
    heads: Hd, queryLen: T, keyLen: S, queryTokens: decoderInputs, keyTokens: src.pieces,
    layers: cfg.decoderLayers, weights: stackRows(rows, 'cross', cfg.decoderLayers, Hd, T, S),
  };
  const positions = Math.max(S, T);
  return {
    model: lm.summary,
    sourceText: src.text,
    truncated: src.truncated,
    sourcePieces: src.pieces,
    sourceIds: src.ids,
    sourceOffsets: src.offsets,
    targetPieces,
    targetIds: result.ids,
    translation: tok.decode(result.ids, { skipSpecialTokens: true }),
    attentions: { encoder, decoder, cross },
    positional: { positions, dModel: cfg.dModel, values: lm.model.positions(positions).slice() },
    steps,
    ...(forced ? { forced: true, targetNotes: forced.notes } : {}),
    logProb: steps.reduce((sum, s) => sum + Math.log(s.chosenProb), 0),
    ...(lens ? { logitLens: lens } : {}),
    numBeams,
    timingsMs: { tokenize: t1 - t0, encode: t2 - t1, decode: t3 - t2, total: performance.now() - t0 },
  };
}

/** Beam search keeps no attention; replaying the chosen tokens through the decoder gives the same rows. */
function teacherForcedAttention(lm: LoadedModel, result: GenerationResult, mem: ReturnType<LoadedModel['model']['crossMemory']>, shouldStop?: ShouldStop): StepAttention[] {
  const state = lm.model.newDecoderState(result.ids.length);
  const rows: StepAttention[] = [];
  for (let t = 0; t < result.ids.length - 1; t++) {
    throwIfStopped(shouldStop);
    const capture: StepAttention = { self: [], cross: [], layerOutputs: [] };
    lm.model.decodeStep([result.ids[t]], [state], mem, undefined, capture);
    rows.push(capture);
  }
  return rows;
}

/** Lays per-step rows ([heads, keysSoFar]) into one [layers, heads, T, K] array (future keys stay 0). */
function stackRows(rows: StepAttention[], kind: 'self' | 'cross', layers: number, heads: number, T: number, K: number): Float32Array {
  const out = new Float32Array(layers * heads * T * K);
  for (let l = 0; l < layers; l++) {
    for (let t = 0; t < T; t++) {
      const row = rows[t][kind][l]; // [heads, keysSoFar]
      const width = row.length / heads;
      for (let h = 0; h < heads; h++) out.set(row.subarray(h * width, (h + 1) * width), ((l * heads + h) * T + t) * K);
    }
  }
  return out;
}

/** Per-layer [heads, S, S] arrays as one [layers, heads, S, S] array. */
function concatLayers(layers: Float32Array[]): Float32Array {
  const out = new Float32Array(layers.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of layers) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}
