/**
 * Reading attention weights, and the one place heads are aggregated (mean, max, rollout, one head): used by the
 * hover (src/host/hoverMarkdown.ts) and the webviews alike. Also the JSON edge of an Explanation.
 *
 * An AttentionKind holds one Float32Array laid out [layers, heads, queryLen, keyLen]: one head's matrix and one
 * query's row are contiguous, so the accessors return subarrays (views, no copies).
 */
import { ATTENTION_KINDS, type AttentionKind, type Explanation } from './explanation';

/** How the heads of a layer are combined into one matrix. */
export type Aggregation = 'mean' | 'max' | 'rollout' | 'head';
export const AGGREGATIONS: readonly Aggregation[] = ['head', 'mean', 'max', 'rollout'];

/** What to show of one kind: a layer and either one head or an aggregation over the heads. */
export interface HeadChoice {
  aggregation: Aggregation;
  /** 0-based; for rollout, the last layer of the product. */
  layer: number;
  /** 0-based; read by 'head' only. */
  head: number;
}

/** A dense row-major matrix. */
export interface Matrix {
  rows: number;
  cols: number;
  values: Float32Array | Float64Array;
}

function checkIndex(value: number, count: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value >= count) throw new RangeError(`${what} ${value} is outside 0…${count - 1}`);
}

/** One layer's [heads, queryLen, keyLen] weights (a view into `kind.weights`). */
export function layerWeights(kind: AttentionKind, layer: number): Float32Array {
  checkIndex(layer, kind.layers, 'layer');
  const size = kind.heads * kind.queryLen * kind.keyLen;
  return kind.weights.subarray(layer * size, (layer + 1) * size);
}

/** One head's [queryLen, keyLen] weights (a view into `kind.weights`). */
export function headMatrix(kind: AttentionKind, layer: number, head: number): Float32Array {
  checkIndex(layer, kind.layers, 'layer');
  checkIndex(head, kind.heads, 'head');
  const size = kind.queryLen * kind.keyLen;
  const start = (layer * kind.heads + head) * size;
  return kind.weights.subarray(start, start + size);
}

/** How one query of one head distributes its attention over the keys (a view into `kind.weights`). */
export function attentionRow(kind: AttentionKind, layer: number, head: number, query: number): Float32Array {
  checkIndex(query, kind.queryLen, 'query');
  return headMatrix(kind, layer, head).subarray(query * kind.keyLen, (query + 1) * kind.keyLen);
}

/** Element-wise mean over the heads of one layer. */
export function meanOverHeads(kind: AttentionKind, layer: number): Matrix {
  const out = new Float64Array(kind.queryLen * kind.keyLen);
  for (let h = 0; h < kind.heads; h++) {
    const m = headMatrix(kind, layer, h);
    for (let i = 0; i < out.length; i++) out[i] += m[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= kind.heads;
  return { rows: kind.queryLen, cols: kind.keyLen, values: out };
}

/** Element-wise maximum over the heads of one layer. */
export function maxOverHeads(kind: AttentionKind, layer: number): Matrix {
  const out = new Float64Array(headMatrix(kind, layer, 0));
  for (let h = 1; h < kind.heads; h++) {
    const m = headMatrix(kind, layer, h);
    for (let i = 0; i < out.length; i++) if (m[i] > out[i]) out[i] = m[i];
  }
  return { rows: kind.queryLen, cols: kind.keyLen, values: out };
}

/** Square matrix product a·b (both n × n, row-major). */
export function matMul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += aik * b[k * n + j];
    }
  }
  return out;
}

/** Divides every row by its sum (rows summing to 0 are left as they are). */
export function rowNormalise(m: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(m);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += out[r * cols + c];
    if (sum > 0) for (let c = 0; c < cols; c++) out[r * cols + c] /= sum;
  }
  return out;
}

/** 0.5·A + 0.5·I, row-normalised: the residual-aware attention of one layer (Abnar & Zuidema, 2020). */
export function residualAttention(a: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) out[i] = 0.5 * a[i];
  for (let i = 0; i < n; i++) out[i * n + i] += 0.5;
  return rowNormalise(out, n, n);
}

/**
 * Attention rollout through layers 0…`upToLayer` (inclusive): R = Ã_L · … · Ã_1 with Ã = norm(0.5·mean_heads(A) + 0.5·I).
 * Row i is how much input token j contributes to position i's representation after that layer.
 * Only defined for square (self-attention) kinds.
 */
export function rollout(kind: AttentionKind, upToLayer: number): Matrix {
  const n = kind.queryLen;
  if (kind.keyLen !== n) throw new Error('attention rollout needs square self-attention matrices');
  checkIndex(upToLayer, kind.layers, 'layer');
  let result: Float64Array = new Float64Array(n * n);
  for (let i = 0; i < n; i++) result[i * n + i] = 1;
  for (let l = 0; l <= upToLayer; l++) result = matMul(residualAttention(meanOverHeads(kind, l).values, n), result, n);
  return { rows: n, cols: n, values: result };
}

/** The matrix a choice shows: one head, or the heads combined (rollout needs a square kind; others fall back to mean). */
export function aggregateHeads(kind: AttentionKind, choice: HeadChoice): Matrix {
  switch (choice.aggregation) {
    case 'head':
      return { rows: kind.queryLen, cols: kind.keyLen, values: headMatrix(kind, choice.layer, choice.head) };
    case 'max':
      return maxOverHeads(kind, choice.layer);
    case 'rollout':
      if (kind.queryLen === kind.keyLen) return rollout(kind, choice.layer);
      return meanOverHeads(kind, choice.layer);
    case 'mean':
    default:
      return meanOverHeads(kind, choice.layer);
  }
}

/** One query's row of `aggregateHeads` (computed from that row alone, except for rollout). */
export function aggregateRow(kind: AttentionKind, query: number, choice: HeadChoice): Float64Array {
  checkIndex(query, kind.queryLen, 'query');
  const { layer } = choice;
  switch (choice.aggregation) {
    case 'head':
      return new Float64Array(attentionRow(kind, layer, choice.head, query));
    case 'max': {
      const out = new Float64Array(attentionRow(kind, layer, 0, query));
      for (let h = 1; h < kind.heads; h++) {
        const r = attentionRow(kind, layer, h, query);
        for (let k = 0; k < out.length; k++) if (r[k] > out[k]) out[k] = r[k];
      }
      return out;
    }
    case 'rollout':
      // defined for self-attention only; other kinds show the mean, as aggregateHeads does
      if (kind.queryLen === kind.keyLen) return matrixRow(rollout(kind, layer), query);
      return aggregateRow(kind, query, { ...choice, aggregation: 'mean' });
    case 'mean':
    default: {
      const out = new Float64Array(kind.keyLen);
      for (let h = 0; h < kind.heads; h++) {
        const r = attentionRow(kind, layer, h, query);
        for (let k = 0; k < out.length; k++) out[k] += r[k];
      }
      for (let k = 0; k < out.length; k++) out[k] /= kind.heads;
      return out;
    }
  }
}

/** One row of a matrix (a copy). */
export function matrixRow(m: Matrix, row: number): Float64Array {
  return Float64Array.from(m.values.subarray(row * m.cols, (row + 1) * m.cols));
}

// ---- building and checking ---------------------------------------------------------------------------

/** An AttentionKind from per-layer flat [heads, queryLen, keyLen] arrays (the JSON layout). */
export function attentionKindFromLayers(
  meta: Omit<AttentionKind, 'layers' | 'weights'>,
  layers: ReadonlyArray<ArrayLike<number>>,
): AttentionKind {
  const size = meta.heads * meta.queryLen * meta.keyLen;
  const weights = new Float32Array(layers.length * size);
  layers.forEach((values, l) => {
    if (values.length !== size) throw new Error(`attention layer ${l} has ${values.length} values, expected ${size}`);
    weights.set(values, l * size);
  });
  return { ...meta, layers: layers.length, weights };
}

/** True when the kind's dimensions are plausible and its weights are exactly [layers, heads, queryLen, keyLen]. */
export function isAttentionKind(x: unknown): x is AttentionKind {
  if (!x || typeof x !== 'object') return false;
  const a = x as Record<string, unknown>;
  const dims = [a.layers, a.heads, a.queryLen, a.keyLen];
  if (!dims.every((d) => Number.isInteger(d) && (d as number) >= 0)) return false;
  if (!Array.isArray(a.queryTokens) || !Array.isArray(a.keyTokens)) return false;
  const size = (dims as number[]).reduce((p, d) => p * d, 1);
  return a.weights instanceof Float32Array && a.weights.length === size;
}

// ---- the JSON edge -----------------------------------------------------------------------------------

/** An attention kind as plain JSON: `layers[l]` is the flat row-major [heads, queryLen, keyLen] of layer l. */
export interface AttentionKindJson extends Omit<AttentionKind, 'layers' | 'weights'> {
  layers: number[][];
}

/** An Explanation as plain JSON (the CLI's --json and the JSON export): typed arrays become number arrays. */
export interface ExplanationJson extends Omit<Explanation, 'attentions' | 'positional'> {
  attentions: Record<keyof Explanation['attentions'], AttentionKindJson>;
  positional: { positions: number; dModel: number; values: number[] };
}

/** Float32 values as plain numbers (a sized array and a loop: Array.from goes through the iterator, several times slower). */
function toNumbers(a: ArrayLike<number>): number[] {
  const out = new Array<number>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i];
  return out;
}

export function attentionKindToJson(kind: AttentionKind): AttentionKindJson {
  const { weights, layers, ...meta } = kind;
  const size = kind.heads * kind.queryLen * kind.keyLen;
  return { ...meta, layers: Array.from({ length: layers }, (_, l) => toNumbers(weights.subarray(l * size, (l + 1) * size))) };
}

export function explanationToJson(e: Explanation): ExplanationJson {
  const attentions = {} as ExplanationJson['attentions'];
  for (const k of ATTENTION_KINDS) attentions[k] = attentionKindToJson(e.attentions[k]);
  return { ...e, attentions, positional: { ...e.positional, values: toNumbers(e.positional.values) } };
}

/** The inverse of `explanationToJson` (sizes checked). */
export function explanationFromJson(j: ExplanationJson): Explanation {
  const attentions = {} as Explanation['attentions'];
  for (const k of ATTENTION_KINDS) {
    const { layers, ...meta } = j.attentions[k];
    attentions[k] = attentionKindFromLayers(meta, layers);
  }
  const { positions, dModel, values } = j.positional;
  if (values.length !== positions * dModel) throw new Error(`positional values: ${values.length}, expected ${positions * dModel}`);
  return { ...j, attentions, positional: { positions, dModel, values: Float32Array.from(values) } };
}
