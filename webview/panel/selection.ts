/**
 * Which matrix the large view shows for a view state, with its labels and names.
 */
import type { AttentionKind, Explanation } from '../../src/shared/explanation';
import type { AttentionKindName, PanelViewState } from '../../src/shared/protocol';
import { aggregateHeads, aggregateRow, type Matrix } from '../../src/shared/attention';

export const KIND_TITLES: Record<AttentionKindName, string> = {
  encoder: 'Encoder self-attention',
  decoder: 'Decoder masked self-attention',
  cross: 'Cross-attention (decoder → source)',
};

export interface SelectedMatrix {
  matrix: Matrix;
  rowLabels: string[];
  colLabels: string[];
  /** Human-readable, 1-based. */
  title: string;
  /** File-name-safe stem for exports. */
  fileStem: string;
}

export function aggregationLabel(view: Pick<PanelViewState, 'aggregation' | 'head'>): string {
  switch (view.aggregation) {
    case 'head': return `head ${view.head + 1}`;
    case 'mean': return 'mean over heads';
    case 'max': return 'max over heads';
    case 'rollout': return 'attention rollout';
  }
}

/** The matrix of a view (rollout is offered for the encoder only; other kinds show the mean). */
export function matrixFor(att: AttentionKind, kind: AttentionKindName, view: Pick<PanelViewState, 'aggregation' | 'layer' | 'head'>): Matrix {
  const aggregation = view.aggregation === 'rollout' && kind !== 'encoder' ? 'mean' : view.aggregation;
  return aggregateHeads(att, { aggregation, layer: view.layer, head: view.head });
}

export function selectMatrix(explanation: Explanation, view: PanelViewState): SelectedMatrix {
  const att = explanation.attentions[view.kind];
  const matrix = matrixFor(att, view.kind, view);
  const aggPart = view.aggregation === 'head' ? `H${view.head + 1}` : view.aggregation;
  const layerText = view.aggregation === 'rollout' ? `layers 1–${view.layer + 1}` : `layer ${view.layer + 1}`;
  return {
    matrix,
    rowLabels: view.kind === 'encoder' ? labels(att.queryTokens, matrix.rows) : predictionLabels(explanation, att.queryTokens, matrix.rows),
    colLabels: labels(att.keyTokens, matrix.cols),
    title: `${KIND_TITLES[view.kind]} · ${layerText} · ${aggregationLabel(view)}`,
    fileStem: `attention-${view.kind}-L${view.layer + 1}-${aggPart}`,
  };
}

/**
 * Decoder rows are labelled by the token they predict, with the decoder input that predicted it in
 * brackets: row i reads the input at position i and produces output token i + 1.
 */
export function predictionLabels(explanation: Explanation, inputs: readonly string[] | undefined, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const input = typeof inputs?.[i] === 'string' ? inputs[i] : String(i);
    const predicted = explanation.targetPieces[i + 1];
    out.push(typeof predicted === 'string' ? `${predicted} (in: ${input})` : input);
  }
  return out;
}

/**
 * The view change for "show the cross-attention of step `step`": from another kind it opens on the last
 * layer, mean over heads (what the output token mostly reads; one head of layer 1 is often misleading).
 */
export function crossFocus(explanation: Explanation | undefined, view: PanelViewState, step: number): Partial<PanelViewState> {
  if (view.kind === 'cross') return { selectedStep: step };
  const layers = explanation?.attentions.cross.layers ?? 1;
  return { selectedStep: step, kind: 'cross', layer: Math.max(0, layers - 1), aggregation: 'mean' };
}

function labels(tokens: readonly string[] | undefined, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(typeof tokens?.[i] === 'string' ? tokens[i] : String(i));
  return out;
}

/**
 * Cross-attention weights over the source tokens for the output token produced at `step`
 * (query row `step`: the decoder input that predicted it), for the view's layer and aggregation.
 */
export function crossWeightsForStep(explanation: Explanation, view: PanelViewState, step: number): Float64Array | undefined {
  const att = explanation.attentions.cross;
  if (step < 0 || step >= att.queryLen || att.layers === 0) return undefined;
  // Outside the cross-attention view: the last layer's mean over heads (what crossFocus opens).
  const layer = view.kind === 'cross' ? Math.max(0, Math.min(att.layers - 1, view.layer)) : att.layers - 1;
  const aggregation = view.kind === 'cross' && view.aggregation !== 'rollout' ? view.aggregation : 'mean';
  const head = Math.max(0, Math.min(att.heads - 1, view.head));
  return aggregateRow(att, step, { aggregation, layer, head });
}
