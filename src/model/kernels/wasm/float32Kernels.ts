/**
 * The float32 matrix-product kernels (precision `float32`): C = A·Bᵀ + bias summed in float32 lanes across k, as
 * PyTorch and onnxruntime sum. A's rows and B's rows are both contiguous along k in their [out, in] layout, so the
 * weights are read where they lie: no copy, no widening.
 *
 * The order of the sums: every output keeps 4 partial sums in one f32x4 vector — lane l collects A[i,k]·B[j,k] for
 * k ≡ l (mod 4), in increasing k from +0 — then (l0 + l2) + (l1 + l3), then + bias[j]. It depends only on K, never
 * on the block, the row group or the thread that computed the output, so results are the same on one thread or two
 * and with or without the key/value cache. They differ from the exact kernels (double sums, ./matmulModule.ts) in
 * the last bits of float32: `npm run conformance -- --precision float32` measures what that changes. K must be a
 * multiple of 4 (every Marian width is); other products run on the exact kernels.
 *
 * Products of several rows go in blocks of 2 rows × 4 columns (8 sums, 4 values of B and 2 of A in 16 vector
 * registers). A one-row product (a decoder step) is bound by how fast the weights stream from memory, and memory
 * streams best when read front to back: its 4 columns per call are j, j + Q, j + 2Q, j + 3Q (Q a quarter of the
 * columns), so the kernel walks four long runs of consecutive rows, each in address order (measured here on 64 MB
 * of weights: 37 GB/s, against 25 for the exact kernels' interleaved copy and 17 for 4 neighbouring rows a call).
 */
import { Code, I32, V128, type ModuleBuilder } from './assembler';
import { nextColumnBlock } from './columnBlocks';

/** Floats of k per loop turn: one vector. */
export const FLOAT32_K_STEP = 4;

/** Exported names: `f32_{rows}x{cols}` (cols 4 or 1) and `f32_quarters` (one row, columns a quarter apart). */
export const float32Name = (rows: number, cols: number): string => `f32_${rows}x${cols}`;
export const QUARTERS = 'f32_quarters';

/** f32 lane indices → the byte indices i8x16.shuffle takes. */
const lanes = (l: number[]): number[] => l.flatMap((x) => [4 * x, 4 * x + 1, 4 * x + 2, 4 * x + 3]);

/** One output's vector sum `s` → lane 0: (l0 + l2) + (l1 + l3) + bias (at `biasAt` + offset), stored as a float. */
function storeOne(f: Code, s: number, t: number, biasAt: number, biasOffset: number): void {
  f.get(s).get(s).get(s).shuffle(lanes([2, 3, 0, 1])).f32x4Add().set(t); // (l0 + l2, l1 + l3, …)
  f.get(t).get(t).get(t).shuffle(lanes([1, 0, 3, 2])).f32x4Add(); // lane 0: (l0 + l2) + (l1 + l3)
  f.get(biasAt).v128Load32Zero(biasOffset).f32x4Add(); // + bias
  f.v128Store32Lane(0);
}

/**
 * f32_{R}x{C}(a, b, bias, out, K, ldo, blocks, quarter): `blocks` blocks of R rows × C columns (C = 4 or 1), left to
 * right. a: A's first row (row stride K floats); b: B's row of the first column (row stride K); bias: bias of the
 * first column; out: output of row 0, first column; ldo: output row stride in bytes. All byte addresses. With
 * `quarters` (R = 1, C = 4): the block's columns are j + c·quarter (quarter in columns), and the next block is j + 1.
 */
function float32Block(R: number, C: 4 | 1, quarters = false): Code {
  const [a, b, bias, out, K, ldo, blocks, quarter] = [0, 1, 2, 3, 4, 5, 6, 7];
  const f = new Code([I32, I32, I32, I32, I32, I32, I32, I32]);
  const acc = Array.from({ length: R }, () => Array.from({ length: C }, () => f.local(V128)));
  const w = Array.from({ length: C }, () => f.local(V128)), x = f.local(V128), t0 = f.local(V128), t1 = f.local(V128);
  const pb = Array.from({ length: C }, () => f.local(I32)), pa = Array.from({ length: R }, () => f.local(I32));
  const stride = f.local(I32), end = f.local(I32), gap = f.local(I32);
  f.get(K).i32Const(4).i32Mul().set(stride); // bytes per row of A and of B
  if (quarters) f.get(quarter).get(stride).i32Mul().set(gap); // bytes between the block's columns in B
  else f.get(stride).set(gap);
  f.block().loop(); // for each block of columns
  f.get(blocks).i32Eqz().brIf(1);
  for (const row of acc) for (const s of row) f.v128Const(new Array(16).fill(0)).set(s); // sums start at +0
  for (let c = 0; c < C; c++) {
    f.get(b);
    if (c > 0) f.get(gap).i32Const(c).i32Mul().i32Add();
    f.set(pb[c]);
  }
  for (let r = 0; r < R; r++) {
    f.get(a);
    if (r > 0) f.get(stride).i32Const(r).i32Mul().i32Add();
    f.set(pa[r]);
  }
  f.get(pb[0]).get(stride).i32Add().set(end); // end of the first column's row of B
  f.block().loop(); // 4 k per turn (unrolling more measured slower: the extra live vectors spill)
  f.get(pb[0]).get(end).i32GeU().brIf(1);
  for (let c = 0; c < C; c++) f.get(pb[c]).v128Load().set(w[c]); // B[j+c, k … k+3]
  for (let r = 0; r < R; r++) {
    f.get(pa[r]).v128Load().set(x); // A[i+r, k … k+3]
    for (let c = 0; c < C; c++) f.get(acc[r][c]).get(x).get(w[c]).f32x4Mul().f32x4Add().set(acc[r][c]); // lane l: k ≡ l
  }
  for (const p of [...pb, ...pa]) f.get(p).i32Const(16).i32Add().set(p);
  f.br(0);
  f.end().end();
  for (let r = 0; r < R; r++) {
    if (C === 4 && !quarters) {
      // four outputs at once: the same additions, lanes side by side, then + bias and one store
      const [s0, s1, s2, s3] = acc[r];
      f.get(out);
      if (r > 0) f.get(ldo).i32Const(r).i32Mul().i32Add();
      f.get(s0).get(s1).shuffle(lanes([0, 1, 4, 5])).get(s0).get(s1).shuffle(lanes([2, 3, 6, 7])).f32x4Add().set(t0);
      f.get(s2).get(s3).shuffle(lanes([0, 1, 4, 5])).get(s2).get(s3).shuffle(lanes([2, 3, 6, 7])).f32x4Add().set(t1);
      f.get(t0).get(t1).shuffle(lanes([0, 2, 4, 6])).get(t0).get(t1).shuffle(lanes([1, 3, 5, 7])).f32x4Add();
      f.get(bias).v128Load().f32x4Add().v128Store();
    } else {
      for (let c = 0; c < C; c++) {
        f.get(out); // store address: out + r·ldo (+ c·quarter floats)
        if (r > 0) f.get(ldo).i32Const(r).i32Mul().i32Add();
        if (c > 0) f.get(quarter).i32Const(4 * c).i32Mul().i32Add();
        if (c > 0) f.get(bias).get(quarter).i32Const(4 * c).i32Mul().i32Add().set(end); // reused: bias of column c
        storeOne(f, acc[r][c], t0, c > 0 ? end : bias, 0);
      }
    }
  }
  nextColumnBlock(f, { b, bias, out, blocks, stride }, quarters ? 1 : C); // quarters: the next block is one column on
  f.end().end();
  return f;
}

/** Adds the float32 kernels to a module. */
export function addFloat32Kernels(m: ModuleBuilder): void {
  for (const R of [2, 1]) for (const C of [4, 1] as const) m.add(float32Block(R, C), float32Name(R, C));
  m.add(float32Block(1, 4, true), QUARTERS);
}
