/**
 * Pure attention-matrix maths on the flattened layout of `AttentionKind.layers[l]`
 * (row-major [heads, queryLen, keyLen]). Matrices are returned as row-major Float64Arrays.
 */
import type { AttentionKind } from '../../src/shared/explanation';

/** A dense row-major matrix. */
export interface Matrix {
  rows: number;
  cols: number;
  values: Float64Array;
}

function layerData(kind: AttentionKind, layer: number): ArrayLike<number> {
  return kind.layers[layer] ?? [];
}

/** One head's [queryLen, keyLen] matrix. Missing values (short or absent layers) read as 0. */
export function headMatrix(kind: AttentionKind, layer: number, head: number): Matrix {
  const { queryLen: rows, keyLen: cols } = kind;
  const data = layerData(kind, layer);
  const out = new Float64Array(rows * cols);
  const base = head * rows * cols;
  for (let i = 0; i < out.length; i++) {
    const v = data[base + i];
    out[i] = typeof v === 'number' && Number.isFinite(v) ? v : 0;
  }
  return { rows, cols, values: out };
}

/** Element-wise mean over all heads of one layer. */
export function meanOverHeads(kind: AttentionKind, layer: number): Matrix {
  const { rows, cols, heads } = { rows: kind.queryLen, cols: kind.keyLen, heads: kind.heads };
  const out = new Float64Array(rows * cols);
  if (heads <= 0) return { rows, cols, values: out };
  for (let h = 0; h < heads; h++) {
    const m = headMatrix(kind, layer, h).values;
    for (let i = 0; i < out.length; i++) out[i] += m[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= heads;
  return { rows, cols, values: out };
}

/** Element-wise maximum over all heads of one layer. */
export function maxOverHeads(kind: AttentionKind, layer: number): Matrix {
  const rows = kind.queryLen;
  const cols = kind.keyLen;
  const out = new Float64Array(rows * cols);
  if (kind.heads <= 0) return { rows, cols, values: out };
  out.set(headMatrix(kind, layer, 0).values);
  for (let h = 1; h < kind.heads; h++) {
    const m = headMatrix(kind, layer, h).values;
    for (let i = 0; i < out.length; i++) if (m[i] > out[i]) out[i] = m[i];
  }
  return { rows, cols, values: out };
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
export function residualAttention(a: Float64Array, n: number): Float64Array {
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
  const last = Math.min(upToLayer, kind.layers.length - 1);
  let result: Float64Array = new Float64Array(n * n);
  for (let i = 0; i < n; i++) result[i * n + i] = 1;
  for (let l = 0; l <= last; l++) {
    const layerRes = residualAttention(meanOverHeads(kind, l).values, n);
    result = matMul(layerRes, result, n);
  }
  return { rows: n, cols: n, values: result };
}

/** Smallest and largest finite values (0…1 when there are none, and a non-empty span always). */
export function valueRange(values: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === Infinity) return { min: 0, max: 1 };
  if (max === min) return min === 0 ? { min: 0, max: 1 } : { min: Math.min(0, min), max: Math.max(0, max) };
  return { min, max };
}

/** Colour range for attention weights: from 0 to the largest weight shown. */
export function attentionRange(values: ArrayLike<number>): { min: number; max: number } {
  const r = valueRange(values);
  return { min: 0, max: r.max > 0 ? r.max : 1 };
}

/** One row of a matrix. */
export function matrixRow(m: Matrix, row: number): Float64Array {
  return m.values.slice(row * m.cols, (row + 1) * m.cols);
}
