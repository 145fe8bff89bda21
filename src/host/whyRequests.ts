/**
 * "Why this word?" requests from the panel: score a translation the user typed (teacher forcing), branch from
 * another candidate, compare two sentences. Each runs the model in the worker on the 'why' lane (a newer request
 * of the same kind replaces an older one) and answers the webview; failures come back as clear messages.
 */
import type { Explanation } from '../shared/explanation';
import { MAX_WHY_TEXT, type FromWebviewMessage, type ToWebviewMessage, type WhyFeature } from '../shared/protocol';
import type { PanelSource } from './attentionPanel';
import { describeModelError } from './modelClient';
import type { ModelService } from './modelService';
import { isCancelled } from '../worker/workerProtocol';

export type WhyMessage = Extract<FromWebviewMessage, { type: 'scoreTarget' | 'clearTarget' | 'branch' | 'compare' }>;

/** What the panel offers these requests. */
export interface WhyHost {
  shown: { explanation: Explanation; source: PanelSource } | undefined;
  models: Pick<ModelService, 'explain'> | undefined;
  newRequest(): number;
  send(msg: ToWebviewMessage): void;
  /** Shows an explanation of the shown sentence as the panel's main one (all views follow it). */
  showMain(requestId: number, explanation: Explanation, source: PanelSource, notice?: string): void;
  /** Shows the shown sentence's own (generated) explanation again; false when there is none. */
  showOriginal(requestId: number): boolean;
}

/** The two sentences of a comparison, or why they cannot be compared. */
export function comparePair(a: string, b: string): { a: string; b: string } | { error: string } {
  const x = a.trim(), y = b.trim();
  if (!x || !y) return { error: 'Give two sentences to compare: one of them is empty.' };
  if (x.length > MAX_WHY_TEXT || y.length > MAX_WHY_TEXT) return { error: `Each sentence to compare may have at most ${MAX_WHY_TEXT} characters.` };
  if (x === y) return { error: `Both sentences are the same (“${x.length > 60 ? `${x.slice(0, 60)}…` : x}”): change one of them to see what differs.` };
  return { a: x, b: y };
}

/** The forced prefix of a branch at `step` taking `tokenId`, or why there is none. */
export function branchRequest(base: Explanation, step: number, tokenId: number): number[] | string {
  if (step >= base.steps.length) return `Step ${step + 1} is not part of this translation (${base.steps.length} steps).`;
  if (tokenId >= base.model.vocabSize) return `Token ${tokenId} is outside the model's vocabulary.`;
  return [...base.targetIds.slice(1, step + 1), tokenId];
}

export async function handleWhy(host: WhyHost, msg: WhyMessage): Promise<void> {
  const feature: WhyFeature = msg.type === 'compare' ? 'compare' : msg.type === 'branch' ? 'branch' : 'target';
  const fail = (message: string) => host.send({ type: 'whyError', feature, message });
  if (msg.type === 'clearTarget') {
    if (!host.showOriginal(host.newRequest())) fail('There is no generated translation of this sentence to go back to: explain it again.');
    return;
  }
  const models = host.models;
  if (!models) return fail('The model is not available in this window.');
  try {
    if (msg.type === 'compare') {
      const pair = comparePair(msg.a, msg.b);
      if ('error' in pair) return fail(pair.error);
      await runComparison(host, models, pair.a, pair.b);
      return;
    }
    const shown = host.shown;
    if (!shown) return fail('Explain a sentence first: select text and run “Attention Lens: Explain attention for selection”.');
    const text = shown.explanation.sourceText;
    if (msg.type === 'scoreTarget') {
      if (!msg.target.trim()) return fail('The target translation is empty: type the translation the model should score.');
      host.send({ type: 'whyBusy', feature, message: 'Scoring the translation…' });
      const requestId = host.newRequest();
      const { explanation } = await models.explain(text, 'why', undefined, { target: msg.target });
      const notes = explanation.targetNotes?.length ? explanation.targetNotes.join(' ') : undefined;
      host.showMain(requestId, explanation, shown.source, notes);
      return;
    }
    const prefix = branchRequest(shown.explanation, msg.step, msg.tokenId);
    if (typeof prefix === 'string') return fail(prefix);
    host.send({ type: 'whyBusy', feature, message: 'Decoding the branch…' });
    const requestId = host.newRequest();
    const { explanation } = await models.explain(text, 'why', undefined, { forcedPrefix: prefix });
    host.send({ type: 'branch', requestId, step: msg.step, tokenId: msg.tokenId, explanation });
  } catch (err) {
    // replaced by a newer request on the lane: clear this tool's "working" line
    if (isCancelled(err)) return host.send({ type: 'whyBusy', feature, message: '' });
    fail(describeModelError(err));
  }
}

/** Explains both sentences (one after the other: one worker) and sends them to the panel side by side. */
export async function runComparison(host: WhyHost, models: Pick<ModelService, 'explain'>, a: string, b: string): Promise<void> {
  host.send({ type: 'whyBusy', feature: 'compare', message: 'Explaining both sentences…' });
  const requestId = host.newRequest();
  const first = await models.explain(a, 'why');
  const second = await models.explain(b, 'why');
  host.send({ type: 'comparison', requestId, a: first.explanation, b: second.explanation });
}
