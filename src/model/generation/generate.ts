/** Greedy and beam-search decoding with Hugging Face `generate` semantics, recording the top-k candidates of every step. */
import { throwIfStopped, type ShouldStop } from '../cancel';
import type { GenerationSettings } from '../loading/config';
import { applyLogitsProcessors } from './logitsProcessors';
import type { CrossMemory, DecoderState, MarianModel, StepAttention } from '../marian';
import { logSoftmax } from '../network/ops';
import { topK } from './topk';
import { checkStepFinite, noTokenAllowedError } from './finite';

export interface StepTopK {
  chosenId: number;
  chosenProb: number;
  /** 1 + the number of candidates ranked above the chosen one (1 = the model's own first choice). */
  chosenRank: number;
  topIds: number[];
  topProbs: number[];
}

export interface GenerationResult {
  /** Decoder start token followed by the generated tokens. */
  ids: number[];
  steps: StepTopK[];
  /** Greedy with `captureAttention`: the attention rows of every step (step t = query position t). */
  attention?: StepAttention[];
}

export interface GenerateOptions extends GenerationSettings {
  topK: number;
  captureAttention?: boolean;
  shouldStop?: ShouldStop;
  /**
   * Teacher forcing (greedy only): the tokens after the start token to take instead of the argmax, scored by the
   * same processed distribution; decoding goes on greedily after them unless they end with eos.
   */
  forcedIds?: readonly number[];
  /** The source ids: only read to locate a non-finite value if one appears (see finite.ts). */
  sourceIds?: readonly number[];
}

/**
 * The probability view of one processed score row: softmax normaliser and top-k, computed once per row, on first
 * use (beam search makes one per beam and step, and reads only those of the beams its candidates extend).
 */
export class StepDistribution {
  private ready = false;
  private max = 0;
  private sum = 0;
  private bestId = 0;
  private topIds: number[] = [];
  private topProbs: number[] = [];

  /** `scores` is read on first use: keep it unchanged until then (greedy and beam use it within the step). */
  constructor(private readonly scores: Float32Array | Float64Array, private readonly k: number) {}

  /** The highest-scoring id (lowest on ties): what topK(scores, 1) gives, so greedy's choice. */
  get best(): number {
    if (!this.ready) this.prepare();
    return this.bestId;
  }

  private prepare(): void {
    const scores = this.scores, k = this.k;
    // one pass for the top max(k, 1): its first entry is the argmax, and its score the max over all non-NaN
    // scores (−∞ when there are none), exactly what a separate max loop finds
    const top = topK(scores, k >= 1 ? k : 1);
    this.bestId = top[0];
    const max = top.length > 0 ? scores[top[0]] : -Infinity;
    let sum = 0;
    for (let i = 0; i < scores.length; i++) sum += Math.exp(scores[i] - max);
    this.max = max;
    this.sum = sum;
    this.ready = true;
    this.topIds = k >= 1 ? top : topK(scores, k);
    const probs: number[] = [];
    for (const id of this.topIds) probs.push(this.prob(id));
    this.topProbs = probs;
  }

  private prob(id: number): number {
    return Math.exp(this.scores[id] - this.max) / this.sum;
  }

  /** Rank of `id` in the order topK uses (higher score first, lower id first on ties); 1 for the argmax. */
  rank(id: number): number {
    if (!this.ready) this.prepare();
    if (id === this.bestId) return 1;
    const s = this.scores, v = s[id];
    let above = 0;
    for (let i = 0; i < s.length; i++) if (s[i] > v || (s[i] === v && i < id)) above++;
    return above + 1;
  }

  step(chosen: number): StepTopK {
    if (!this.ready) this.prepare();
    return { chosenId: chosen, chosenProb: this.prob(chosen), chosenRank: this.rank(chosen), topIds: this.topIds, topProbs: this.topProbs };
  }
}

export function generate(model: MarianModel, mem: CrossMemory, opts: GenerateOptions): GenerationResult {
  return opts.numBeams > 1 && !opts.forcedIds ? beamSearch(model, mem, opts) : greedy(model, mem, opts);
}

function greedy(model: MarianModel, mem: CrossMemory, opts: GenerateOptions): GenerationResult {
  const cfg = model.config;
  const V = cfg.vocabSize;
  const ids = [cfg.decoderStartTokenId];
  const steps: StepTopK[] = [];
  const attention: StepAttention[] | undefined = opts.captureAttention ? [] : undefined;
  const state = model.newDecoderState(opts.maxLength);
  // processed in place: float32 holds every value the processors write (−∞, 0), so the scores read as before
  const scores = new Float32Array(V);
  const forced = opts.forcedIds ?? [];
  while (ids.length < opts.maxLength) {
    throwIfStopped(opts.shouldStop);
    const capture: StepAttention | undefined = attention ? { self: [], cross: [], layerOutputs: [] } : undefined;
    model.decodeStep([ids[ids.length - 1]], [state], mem, scores, capture);
    // NaN or ∞ from the weights is an error naming the step and layer, never a result (finite.ts)
    checkStepFinite(model, opts.sourceIds, scores, 1, () => ids, capture);
    if (capture) attention!.push(capture);
    applyLogitsProcessors(scores, ids, opts, cfg.eosTokenId);
    const dist = new StepDistribution(scores, opts.topK);
    if (!(scores[dist.best] > -Infinity)) throw noTokenAllowedError(ids.length);
    // the forced token while there is one (teacher forcing), else the argmax
    const t = ids.length - 1;
    const next = t < forced.length ? forced[t] : dist.best;
    steps.push(dist.step(next));
    ids.push(next);
    if (next === cfg.eosTokenId && t >= forced.length - 1) break;
  }
  return { ids, steps, attention };
}

interface Hypothesis {
  ids: number[];
  steps: StepTopK[];
  score: number;
}

function beamSearch(model: MarianModel, mem: CrossMemory, opts: GenerateOptions): GenerationResult {
  const cfg = model.config;
  const V = cfg.vocabSize;
  const nb = opts.numBeams;
  const lp = opts.lengthPenalty;
  const keep = 2 * nb; // candidates per step: enough that nb of them can continue even if nb finish
  let states: DecoderState[] = Array.from({ length: nb }, () => model.newDecoderState(opts.maxLength));
  let spare: DecoderState[] = Array.from({ length: nb }, () => model.newDecoderState(opts.maxLength));
  let running: Hypothesis[] = Array.from({ length: nb }, (_, b) => ({ ids: [cfg.decoderStartTokenId], steps: [], score: b === 0 ? 0 : -1e9 }));
  const finished: Hypothesis[] = []; // best first, at most nb
  const logits = new Float32Array(nb * V);
  const rows = Array.from({ length: nb }, () => new Float64Array(V));
  const acc = new Float64Array(nb * V);
  let curLen = 1;
  let improvable = true;
  while (curLen < opts.maxLength) {
    throwIfStopped(opts.shouldStop);
    model.decodeStep(running.map((h) => h.ids[h.ids.length - 1]), states, mem, logits);
    checkStepFinite(model, opts.sourceIds, logits, nb, (b) => running[b].ids);
    const dists: StepDistribution[] = [];
    for (let b = 0; b < nb; b++) {
      const row = rows[b];
      logSoftmax(logits, b * V, V, row);
      applyLogitsProcessors(row, running[b].ids, opts, cfg.eosTokenId);
      const s = running[b].score;
      for (let i = 0; i < V; i++) acc[b * V + i] = row[i] + s;
      dists.push(new StepDistribution(row, opts.topK)); // read (if at all) within this step, while `row` holds it
    }
    const cand = topK(acc, keep);
    if (!(acc[cand[0]] > -Infinity)) throw noTokenAllowedError(curLen);
    const hitsStop = (c: number) => c % V === cfg.eosTokenId || curLen + 1 >= opts.maxLength;
    const extend = (c: number): Hypothesis => {
      const b = Math.floor(c / V), tok = c % V;
      const parent = running[b];
      return { ids: [...parent.ids, tok], steps: [...parent.steps, dists[b].step(tok)], score: acc[c] };
    };
    // finished hypotheses: only the top nb candidates may finish, scored by sum log-prob / generated_len^lp
    const finishBlocked = !improvable || (opts.earlyStopping === true && finished.length === nb);
    if (!finishBlocked) {
      for (let r = 0; r < nb; r++) {
        if (!hitsStop(cand[r])) continue;
        const score = acc[cand[r]] / Math.pow(curLen, lp);
        // Hugging Face seeds the finished list with -1e9 placeholders that such scores never beat
        if (!(score > -1e9)) continue;
        const h = extend(cand[r]);
        h.score = score;
        insertFinished(finished, h, nb);
      }
    }
    const allStop = cand.every(hitsStop);
    // running beams for the next step: the best nb candidates that did not stop
    const order = cand.map((c, r) => ({ c, r, s: acc[c] + (hitsStop(c) ? -1e9 : 0) }));
    order.sort((x, y) => y.s - x.s || x.r - y.r);
    const next = order.slice(0, nb);
    const nextRunning: Hypothesis[] = [];
    for (let i = 0; i < nb; i++) {
      const { c, s } = next[i];
      model.copyDecoderState(states[Math.floor(c / V)], spare[i]);
      const h = extend(c);
      h.score = s;
      nextRunning.push(h);
    }
    [states, spare] = [spare, states];
    running = nextRunning;
    curLen++;
    // Hugging Face's early-stop heuristic (early_stopping=False uses the current length)
    const bestLen = opts.earlyStopping === 'never' && lp > 0 ? opts.maxLength - 1 : curLen - 1;
    const bestPossible = running[0].score / Math.pow(bestLen, lp);
    const worstFinished = finished.length === nb ? finished[nb - 1].score : -1e9;
    improvable = improvable && bestPossible > worstFinished;
    if (!improvable || (finished.length === nb && opts.earlyStopping === true) || allStop) break;
  }
  const best = finished[0] ?? running[0];
  return { ids: best.ids, steps: best.steps };
}

function insertFinished(list: Hypothesis[], h: Hypothesis, cap: number): void {
  let p = list.length;
  while (p > 0 && h.score > list[p - 1].score) p--;
  if (p >= cap) return;
  list.splice(p, 0, h);
  if (list.length > cap) list.pop();
}
