/**
 * The WebAssembly matrix-product kernels, written with the assembler (./assembler.ts). Same product as
 * ../matmul.ts: C[M,N] = A[M,K] · B[N,K]ᵀ + bias, B in PyTorch's [out, in] layout, read where it lies (no repacking).
 *
 * Exact kernels (`exact*`): SIMD lanes run across output columns, not across k. Each f64x2 register holds the sums
 * of two neighbouring outputs (j, j+1); step k adds A[i,k]·(B[j,k], B[j+1,k]) to it. So every output is still
 * Σₖ A[i,k]·B[j,k] in doubles, in increasing k from +0, then + bias[j], then rounded to float32 — the arithmetic of
 * the JavaScript kernels, giving bit-identical results, two outputs per instruction. (WebAssembly's f64x2.mul and
 * f64x2.add round each operation, as JavaScript does; there is no fused multiply-add outside relaxed SIMD.)
 *
 * How B's values reach the lanes: B[j, k..k+1] and B[j+1, k..k+1] are loaded as two float pairs and widened to
 * doubles (f64x2.promote_low_f32x4), then two shuffles pair them by k: (B[j,k], B[j+1,k]) and (B[j,k+1], B[j+1,k+1]).
 * Each such pair serves every row of the block. A's rows are first packed as doubles [k][rows], so an A value is
 * one load that fills both lanes (v128.load64_splat).
 *
 * The float32 kernels (./float32Kernels.ts: sums in float32, lanes across k) are in the same module.
 */
import { Code, I32, ModuleBuilder, V128, type MemoryType } from './assembler';
import { nextColumnBlock } from './columnBlocks';
import { addFloat32Kernels } from './float32Kernels';

/** Row and column-pair counts of the exact blocks, chosen by measurement (the sums stay in 16 vector registers). */
export const EXACT_BLOCKS: Array<{ rows: number; pairs: number }> = [
  { rows: 3, pairs: 2 }, { rows: 3, pairs: 1 },
  { rows: 2, pairs: 3 }, { rows: 2, pairs: 1 },
  { rows: 1, pairs: 4 }, { rows: 1, pairs: 1 },
];

/** Exported names: `exact{rows}x{pairs}`, `exact{rows}x1col` (one column), `pack` (and ./float32Kernels.ts's). */
export const exactName = (rows: number, pairs: number): string => `exact${rows}x${pairs}`;
export const singleName = (rows: number): string => `exact${rows}x1col`;

/**
 * pack(a, K, rows, dst): dst[k·rows + r] = double(A[r, k]) for r < rows, k < K (A row stride K floats). All
 * pointers are byte addresses in the memory.
 */
function packFunction(): Code {
  const [a, K, rows, dst] = [0, 1, 2, 3];
  const f = new Code([I32, I32, I32, I32]);
  const k = f.local(I32), r = f.local(I32), src = f.local(I32), out = f.local(I32);
  f.i32Const(0).set(k).get(dst).set(out);
  f.block().loop(); // for k
  f.get(k).get(K).i32GeU().brIf(1);
  f.i32Const(0).set(r).get(a).get(k).i32Const(4).i32Mul().i32Add().set(src);
  f.block().loop(); // for r
  f.get(r).get(rows).i32GeU().brIf(1);
  f.get(out).get(src).f32Load().f64PromoteF32().f64Store(); // widen: exact
  f.get(out).i32Const(8).i32Add().set(out);
  f.get(src).get(K).i32Const(4).i32Mul().i32Add().set(src); // next row, same k
  f.get(r).i32Const(1).i32Add().set(r).br(0);
  f.end().end();
  f.get(k).i32Const(1).i32Add().set(k).br(0);
  f.end().end();
  return f;
}

/**
 * exact{R}x{P}(pack, b, bias, out, K, ldo, blocks): `blocks` blocks of R rows × 2P columns, left to right. pack: A's R
 * rows packed by `pack`; b: B's row of the first column; bias: bias of the first column; out: output of row 0,
 * first column; ldo: output row stride in bytes. With `single`, one column per block (P = 1, lane 1 unused).
 */
/**
 * The end of every kernel's column block: each row's double sums + the bias, rounded once to float32 and stored —
 * the JavaScript kernels' `out = Math.fround(sum + bias)`. `single`: one column (a lone last column), else 2 per pair.
 */
function storeWithBias(f: Code, acc: number[][], lo: number, bias: number, out: number, ldo: number, single = false): void {
  for (let p = 0; p < acc[0].length; p++) {
    if (single) f.get(bias).v128Load32Zero().f64x2PromoteLow().set(lo);
    else f.get(bias).v128Load64Zero(8 * p).f64x2PromoteLow().set(lo); // (bias[j], bias[j+1])
    for (let r = 0; r < acc.length; r++) {
      f.get(out);
      if (r > 0) f.get(ldo).i32Const(r).i32Mul().i32Add();
      f.get(acc[r][p]).get(lo).f64x2Add().f32x4DemoteZero();
      if (single) f.v128Store32Lane(0);
      else f.v128Store64Lane(0, 8 * p);
    }
  }
}

function exactBlock(R: number, P: number, single: boolean): Code {
  const [pack, b, bias, out, K, ldo, blocks] = [0, 1, 2, 3, 4, 5, 6];
  const f = new Code([I32, I32, I32, I32, I32, I32, I32]);
  const acc = Array.from({ length: R }, () => Array.from({ length: P }, () => f.local(V128)));
  const w0 = Array.from({ length: P }, () => f.local(V128)), w1 = Array.from({ length: P }, () => f.local(V128));
  const lo = f.local(V128), hi = f.local(V128), x = f.local(V128);
  // row pointers of B: column j + 2p (even) and j + 2p + 1 (odd), advanced along k
  const even = Array.from({ length: P }, () => f.local(I32)), odd = Array.from({ length: P }, () => f.local(I32));
  const stride = f.local(I32), k = f.local(I32), pa = f.local(I32), cols = single ? 1 : 2 * P;
  f.get(K).i32Const(4).i32Mul().set(stride); // bytes per B row
  f.block().loop(); // for each block of columns
  f.get(blocks).i32Eqz().brIf(1);
  for (const row of acc) for (const s of row) f.v128Const(new Array(16).fill(0)).set(s); // sums start at +0
  for (let p = 0; p < P; p++) {
    f.get(b).get(stride).i32Const(2 * p).i32Mul().i32Add().set(even[p]);
    if (single) f.get(even[p]).set(odd[p]); // the lone column twice: lane 1 is computed and dropped
    else f.get(even[p]).get(stride).i32Add().set(odd[p]);
  }
  f.get(pack).set(pa).i32Const(0).set(k);
  // two k at a time
  f.block().loop();
  f.get(k).i32Const(2).i32Add().get(K).i32GtU().brIf(1); // fewer than two left
  for (let p = 0; p < P; p++) {
    f.get(even[p]).v128Load64Zero().f64x2PromoteLow().set(lo); // (B[j,k], B[j,k+1])
    f.get(odd[p]).v128Load64Zero().f64x2PromoteLow().set(hi); // (B[j+1,k], B[j+1,k+1])
    f.get(lo).get(hi).f64x2LowLanes().set(w0[p]); // (B[j,k], B[j+1,k])
    f.get(lo).get(hi).f64x2HighLanes().set(w1[p]); // (B[j,k+1], B[j+1,k+1])
  }
  for (const [step, w] of [[0, w0], [1, w1]] as const) {
    for (let r = 0; r < R; r++) {
      f.get(pa).v128Load64Splat(8 * (step * R + r)).set(x); // (A[r,k+step], A[r,k+step])
      for (let p = 0; p < P; p++) f.get(acc[r][p]).get(x).get(w[p]).f64x2Mul().f64x2Add().set(acc[r][p]);
    }
  }
  for (let p = 0; p < P; p++) {
    f.get(even[p]).i32Const(8).i32Add().set(even[p]);
    f.get(odd[p]).i32Const(8).i32Add().set(odd[p]);
  }
  f.get(pa).i32Const(16 * R).i32Add().set(pa);
  f.get(k).i32Const(2).i32Add().set(k).br(0);
  f.end().end();
  // an odd K leaves one k
  f.get(k).get(K).i32LtU().if();
  for (let p = 0; p < P; p++) {
    f.get(odd[p]).get(even[p]).v128Load32Zero().v128Load32Lane(1).f64x2PromoteLow().set(w0[p]); // (B[j,k], B[j+1,k])
  }
  for (let r = 0; r < R; r++) {
    f.get(pa).v128Load64Splat(8 * r).set(x);
    for (let p = 0; p < P; p++) f.get(acc[r][p]).get(x).get(w0[p]).f64x2Mul().f64x2Add().set(acc[r][p]);
  }
  f.end();
  storeWithBias(f, acc, lo, bias, out, ldo, single); // + bias, rounded to float32, stored
  nextColumnBlock(f, { b, bias, out, blocks, stride }, cols);
  f.end().end();
  return f;
}

/**
 * Panel kernels (products of 3 rows or more, where every B value serves several row blocks): a panel of B's
 * columns is first widened once into doubles, pair-interleaved — for each block of P column pairs and each k, the
 * P vectors (B[j,k], B[j+1,k]), … side by side — so the inner loop loads each pair with one plain v128.load at a
 * constant offset, with no widening or shuffling left in it. Same sums in the same order as the other kernels.
 */
export const PANEL = { rows: 4, pairs: 2 };
export const panelName = (rows: number): string => `panel${rows}x${PANEL.pairs}`;

/**
 * Copies column pairs of B side by side per k: for each of `blocks` blocks of 2P columns starting at row `b` (row
 * stride K), dst[((blk·K + k)·P + p)·2 + l] = B[blk·2P + 2p + l, k] — widened to double (`widen`, the panels) or
 * kept as float32 (the interleaved copies). Exact either way: float32 → double loses nothing.
 */
function pairCopy(P: number, widen: boolean): Code {
  const [b, K, blocks, dst] = [0, 1, 2, 3];
  const f = new Code([I32, I32, I32, I32]);
  const stride = f.local(I32), k = f.local(I32), row = f.local(I32), out = f.local(I32);
  const pairBytes = widen ? 16 : 8;
  f.get(K).i32Const(4).i32Mul().set(stride);
  f.get(dst).set(out);
  f.block().loop(); // for each block
  f.get(blocks).i32Eqz().brIf(1);
  f.i32Const(0).set(k).get(b).set(row);
  f.block().loop(); // for each k
  f.get(k).get(K).i32GeU().brIf(1);
  for (let p = 0; p < P; p++) {
    f.get(out); // store address
    f.get(row);
    if (p > 0) f.get(stride).i32Const(2 * p).i32Mul().i32Add();
    f.get(stride).i32Add(); // address of B[2p+1, k], for the lane load below
    f.get(row);
    if (p > 0) f.get(stride).i32Const(2 * p).i32Mul().i32Add();
    f.v128Load32Zero(); // (B[2p, k], 0, 0, 0)
    f.v128Load32Lane(1); // (B[2p, k], B[2p+1, k], 0, 0)
    if (widen) f.f64x2PromoteLow().v128Store(pairBytes * p);
    else f.v128Store64Lane(0, pairBytes * p); // stored as two floats
  }
  f.get(out).i32Const(pairBytes * P).i32Add().set(out);
  f.get(row).i32Const(4).i32Add().set(row);
  f.get(k).i32Const(1).i32Add().set(k).br(0);
  f.end().end();
  f.get(b).get(stride).i32Const(2 * P).i32Mul().i32Add().set(b);
  f.get(blocks).i32Const(1).i32Sub().set(blocks).br(0);
  f.end().end();
  return f;
}

/** widenPanel(b, K, blocks, dst): the panels the 3+-row exact kernels read, pairs widened to double. */
const widenPanel = (P: number): Code => pairCopy(P, true);

/**
 * panel{R}x{P}(pack, wide, bias, out, K, ldo, blocks): R rows (packed by `pack`) × `blocks` blocks of 2P columns of
 * a panel widened by widenPanel; bias and out as in the exact blocks.
 */
function panelBlock(R: number, P: number): Code {
  const [pack, wide, bias, out, K, ldo, blocks] = [0, 1, 2, 3, 4, 5, 6];
  const f = new Code([I32, I32, I32, I32, I32, I32, I32]);
  const acc = Array.from({ length: R }, () => Array.from({ length: P }, () => f.local(V128)));
  const w = Array.from({ length: P }, () => f.local(V128)), x = f.local(V128), lo = f.local(V128);
  const k = f.local(I32), pa = f.local(I32), pw = f.local(I32);
  f.get(wide).set(pw);
  f.block().loop(); // for each block
  f.get(blocks).i32Eqz().brIf(1);
  for (const row of acc) for (const v of row) f.v128Const(new Array(16).fill(0)).set(v);
  f.get(pack).set(pa).i32Const(0).set(k);
  f.block().loop(); // for each k
  f.get(k).get(K).i32GeU().brIf(1);
  for (let p = 0; p < P; p++) f.get(pw).v128Load(16 * p).set(w[p]); // (B[j+2p,k], B[j+2p+1,k])
  for (let r = 0; r < R; r++) {
    f.get(pa).v128Load64Splat(8 * r).set(x);
    for (let p = 0; p < P; p++) f.get(acc[r][p]).get(x).get(w[p]).f64x2Mul().f64x2Add().set(acc[r][p]);
  }
  f.get(pa).i32Const(8 * R).i32Add().set(pa);
  f.get(pw).i32Const(16 * P).i32Add().set(pw);
  f.get(k).i32Const(1).i32Add().set(k).br(0);
  f.end().end();
  storeWithBias(f, acc, lo, bias, out, ldo); // + bias, rounded to float32, stored
  nextColumnBlock(f, { bias, out, blocks }, 2 * P);
  f.end().end();
  return f;
}

/**
 * Interleaved weights (the decoder's one-row steps, and every product of a weight matrix once it has a copy): a
 * float32 copy of B laid out so a kernel reads it front to back — for each block of 2·pairs columns and each k, the
 * pairs (B[j,k], B[j+1,k]), … side by side. A column pair is then one 8-byte load widened in place
 * (f64x2.promote_low_f32x4, exact), and the whole matrix one sequential stream. Reading B where it lies instead walks
 * 8 rows at once and shuffles every pair: measured on a decoder step of the bundled model (25 products, 18 MB of
 * weights), 2.3–2.8× slower. Same sums in the same order as every other exact kernel.
 */
export const INTERLEAVED = { pairs: 4 };
/** Exported names: `interleave`, `inter{rows}x{pairs}` (all 4 pairs of a block, or 2 = one half-block per call). */
export const interName = (rows: number, pairs: number): string => `inter${rows}x${pairs}`;
/** The interleaved kernels: one and two rows take whole blocks; 3 and 4 rows half a block per call (registers). */
export const INTER_BLOCKS: Array<{ rows: number; pairs: number; unroll: number }> = [
  { rows: 1, pairs: 4, unroll: 2 }, { rows: 2, pairs: 4, unroll: 1 }, { rows: 3, pairs: 2, unroll: 1 }, { rows: 4, pairs: 2, unroll: 1 },
];

/** interleave(b, K, blocks, dst): the interleaved float32 copies of the weights (a copy, no rounding). */
const interleaveFunction = (P: number): Code => pairCopy(P, false);

/**
 * inter{R}x{P}(pack, il, bias, out, K, ldo, blocks): R rows (packed by `pack`) × `blocks` blocks of interleaved B
 * (INTERLEAVED.pairs pairs each), using P of each block's pairs from `il` on (P < INTERLEAVED.pairs: the caller
 * runs each part of a block, `il`, bias and out moved to it). bias and out as in the exact blocks. `unroll` k per
 * loop turn.
 */
function interBlock(R: number, P: number, unroll: number): Code {
  const LP = INTERLEAVED.pairs;
  const [pack, il, bias, out, K, ldo, blocks] = [0, 1, 2, 3, 4, 5, 6];
  const f = new Code([I32, I32, I32, I32, I32, I32, I32]);
  const acc = Array.from({ length: R }, () => Array.from({ length: P }, () => f.local(V128)));
  const w = Array.from({ length: P }, () => f.local(V128)), x = f.local(V128), lo = f.local(V128);
  const k = f.local(I32), pa = f.local(I32), pw = f.local(I32);
  const step = (u: number) => {
    // (B[j+2p,k], B[j+2p+1,k]) widened: exact
    for (let p = 0; p < P; p++) f.get(pw).v128Load64Zero(8 * (u * LP + p)).f64x2PromoteLow().set(w[p]);
    for (let r = 0; r < R; r++) {
      f.get(pa).v128Load64Splat(8 * (u * R + r)).set(x); // (A[r,k], A[r,k])
      for (let p = 0; p < P; p++) f.get(acc[r][p]).get(x).get(w[p]).f64x2Mul().f64x2Add().set(acc[r][p]);
    }
  };
  f.get(il).set(pw);
  f.block().loop(); // for each block
  f.get(blocks).i32Eqz().brIf(1);
  for (const row of acc) for (const v of row) f.v128Const(new Array(16).fill(0)).set(v); // sums start at +0
  f.get(pack).set(pa).i32Const(0).set(k);
  if (unroll > 1) {
    f.block().loop(); // `unroll` k at a time
    f.get(k).i32Const(unroll).i32Add().get(K).i32GtU().brIf(1);
    for (let u = 0; u < unroll; u++) step(u);
    f.get(pa).i32Const(8 * R * unroll).i32Add().set(pa);
    f.get(pw).i32Const(8 * LP * unroll).i32Add().set(pw);
    f.get(k).i32Const(unroll).i32Add().set(k).br(0);
    f.end().end();
  }
  f.block().loop(); // the k left, one at a time
  f.get(k).get(K).i32GeU().brIf(1);
  step(0);
  f.get(pa).i32Const(8 * R).i32Add().set(pa);
  f.get(pw).i32Const(8 * LP).i32Add().set(pw);
  f.get(k).i32Const(1).i32Add().set(k).br(0);
  f.end().end();
  storeWithBias(f, acc, lo, bias, out, ldo); // + bias, rounded to float32, stored
  nextColumnBlock(f, { bias, out, blocks }, 2 * LP);
  f.end().end();
  return f;
}

/** The matmul module's bytes, importing `env.memory` of type `memory`. */
export function matmulModuleBytes(memory: MemoryType): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder(memory);
  m.add(packFunction(), 'pack');
  for (const { rows, pairs } of EXACT_BLOCKS) m.add(exactBlock(rows, pairs, false), exactName(rows, pairs));
  for (const rows of [3, 2, 1]) m.add(exactBlock(rows, 1, true), singleName(rows));
  m.add(widenPanel(PANEL.pairs), 'widenPanel');
  for (let rows = PANEL.rows; rows >= 1; rows--) m.add(panelBlock(rows, PANEL.pairs), panelName(rows));
  m.add(interleaveFunction(INTERLEAVED.pairs), 'interleave');
  for (const { rows, pairs, unroll } of INTER_BLOCKS) m.add(interBlock(rows, pairs, unroll), interName(rows, pairs));
  addFloat32Kernels(m);
  return m.encode();
}
