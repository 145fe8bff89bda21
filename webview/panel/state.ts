/**
 * The panel's view state: defaults, validation against an explanation, and the persisted shape.
 */
import type { Explanation } from '../../src/shared/explanation';
import { AGGREGATIONS, isAttentionKind, type Aggregation } from '../../src/shared/attention';
import { ATTENTION_KINDS as KINDS, type AttentionKindName } from '../../src/shared/explanation';
import { ZOOMS, type PanelViewState, type Zoom } from '../../src/shared/protocol';

export { AGGREGATIONS, KINDS };
export const MAX_PE_DIMS = 8;

/**
 * What the panel stores with setState so it can come back after a window reload: the view, not the data (the
 * host sends the explanation again; serialising megabytes of attention on every view change made clicks slow).
 */
export interface PersistedPanelState {
  view: PanelViewState;
  notice?: string;
  /** The requestId the explanation arrived with, to recognise the host re-sending it after a reload. */
  requestId?: number;
  /** Which explanation that was (`explanationIdentity`), for the same purpose. */
  shown?: string;
}

/** Dimensions 0, 1, d/4, d/2, d/2+1: two fast sines, a slow sine, and the cosines that pair with dims 0 and 1. */
export function defaultPeDimensions(dModel: number): number[] {
  if (dModel <= 0) return [];
  const half = Math.floor(dModel / 2);
  const dims = [0, 1, Math.floor(dModel / 4), half, half + 1].filter((d) => d < dModel);
  return [...new Set(dims)];
}

/** True when `dims` is the default set of some model width (so it should follow a model switch). */
export function isDefaultPeDimensions(dims: readonly number[]): boolean {
  if (dims.length < 3) return false;
  const candidate = defaultPeDimensions(2 * dims[3] || 2 * dims[dims.length - 1]);
  return candidate.length === dims.length && candidate.every((d, i) => d === dims[i]);
}

export function defaultViewState(explanation?: Explanation): PanelViewState {
  return {
    kind: 'encoder',
    layer: 0,
    head: 0,
    aggregation: 'head',
    colorScheme: 'theme',
    selectedStep: -1,
    peDimensions: defaultPeDimensions(explanation?.positional.dModel ?? 0),
    colorScale: 'absolute',
    zoom: 1,
  };
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const clampInt = (v: unknown, lo: number, hi: number, fallback: number): number =>
  isInt(v) ? Math.max(lo, Math.min(hi, v)) : fallback;

/**
 * Merges `patch` over `base` and makes the result valid for `explanation`: indices clamped into range,
 * rollout only for the encoder, PE dimensions inside d_model.
 */
export function sanitizeView(
  base: PanelViewState,
  patch: Partial<PanelViewState> | undefined,
  explanation: Explanation | undefined,
): PanelViewState {
  const merged: Record<string, unknown> = { ...base, ...(patch ?? {}) };
  const kind = KINDS.includes(merged.kind as AttentionKindName) ? (merged.kind as AttentionKindName) : base.kind;
  let aggregation = AGGREGATIONS.includes(merged.aggregation as Aggregation) ? (merged.aggregation as Aggregation) : base.aggregation;
  if (aggregation === 'rollout' && kind !== 'encoder') aggregation = 'mean';
  const colorScheme = merged.colorScheme === 'colorblind' ? 'colorblind' : merged.colorScheme === 'theme' ? 'theme' : base.colorScheme;

  const att = explanation?.attentions[kind];
  const layers = att ? Math.max(1, att.layers) : Number.MAX_SAFE_INTEGER;
  const heads = att ? Math.max(1, att.heads) : Number.MAX_SAFE_INTEGER;
  const steps = explanation ? explanation.steps.length : Number.MAX_SAFE_INTEGER;
  const dModel = explanation?.positional.dModel;

  let peDimensions = Array.isArray(merged.peDimensions) ? (merged.peDimensions as unknown[]).filter(isInt) : base.peDimensions;
  const wanted = peDimensions;
  peDimensions = [...new Set(peDimensions.filter((d) => d >= 0 && (dModel === undefined || d < dModel)))].slice(0, MAX_PE_DIMS);
  // The default set follows the model (another d_model has other d/4, d/2); a chosen set that no longer
  // fits this model falls back to its defaults rather than to the few dimensions that happen to survive.
  const carried = !Array.isArray(patch?.peDimensions); // the previous view's set, meeting a (maybe other) model
  const lost = peDimensions.length < new Set(wanted.filter((d) => d >= 0)).size;
  if (dModel !== undefined && (peDimensions.length === 0 || (carried && (lost || isDefaultPeDimensions(wanted))))) peDimensions = defaultPeDimensions(dModel);

  return {
    kind,
    layer: clampInt(merged.layer, 0, layers - 1, 0),
    head: clampInt(merged.head, 0, heads - 1, 0),
    aggregation,
    colorScheme,
    selectedStep: clampInt(merged.selectedStep, -1, steps - 1, -1),
    peDimensions,
    colorScale: merged.colorScale === 'matrix' ? 'matrix' : merged.colorScale === 'absolute' ? 'absolute' : base.colorScale,
    zoom: ZOOMS.includes(merged.zoom as Zoom) ? (merged.zoom as Zoom) : base.zoom,
  };
}

export function viewsEqual(a: PanelViewState, b: PanelViewState): boolean {
  return (
    a.kind === b.kind &&
    a.layer === b.layer &&
    a.head === b.head &&
    a.aggregation === b.aggregation &&
    a.colorScheme === b.colorScheme &&
    a.selectedStep === b.selectedStep &&
    a.colorScale === b.colorScale &&
    a.zoom === b.zoom &&
    a.peDimensions.length === b.peDimensions.length &&
    a.peDimensions.every((d, i) => d === b.peDimensions[i])
  );
}

/** Accepts only a structurally plausible persisted state (getState may return anything a previous version stored). */
export function readPersisted(raw: unknown): PersistedPanelState | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const r = raw as Record<string, unknown>;
  const view = sanitizeView(defaultViewState(), (r.view ?? {}) as Partial<PanelViewState>, undefined);
  return {
    view,
    notice: typeof r.notice === 'string' ? r.notice : undefined,
    requestId: typeof r.requestId === 'number' && Number.isFinite(r.requestId) ? r.requestId : undefined,
    shown: typeof r.shown === 'string' ? r.shown : undefined,
  };
}

/** Tells one explanation from another without its numbers: model, text and translation. */
export function explanationIdentity(e: Explanation): string {
  return JSON.stringify([e.model?.name, e.sourceText, e.translation]);
}

/** A shape check of an Explanation coming over postMessage: typed arrays of exactly the sizes the dimensions give. */
export function isExplanationLike(x: unknown): x is Explanation {
  if (!x || typeof x !== 'object') return false;
  const e = x as Record<string, unknown>;
  const att = e.attentions as Record<string, unknown> | undefined;
  const pos = e.positional as Record<string, unknown> | undefined;
  return (
    Array.isArray(e.sourcePieces) &&
    Array.isArray(e.targetPieces) &&
    typeof e.translation === 'string' &&
    Array.isArray(e.steps) &&
    !!att &&
    KINDS.every((k) => isAttentionKind(att[k])) &&
    !!pos &&
    isInt(pos.positions) &&
    isInt(pos.dModel) &&
    pos.values instanceof Float32Array &&
    pos.values.length === (pos.positions as number) * (pos.dModel as number) &&
    !!e.model &&
    typeof e.model === 'object'
  );
}
