/** What the kernels of this folder share: the end of a turn of their loop over blocks of output columns. */
import type { Code } from './assembler';

/**
 * Moves a kernel's pointers (locals `bias`, `out`, and `b` when given) past a block of `cols` columns — bias and out
 * by `cols` floats, B by `cols` rows of `stride` bytes — counts the block off `blocks` and branches back to the loop.
 * Kernels that walk B through a pointer of their own (a panel, an interleaved copy) leave `b` out.
 */
export function nextColumnBlock(f: Code, at: { bias: number; out: number; blocks: number; b?: number; stride?: number }, cols: number): void {
  if (at.b !== undefined && at.stride !== undefined) f.get(at.b).get(at.stride).i32Const(cols).i32Mul().i32Add().set(at.b);
  f.get(at.bias).i32Const(4 * cols).i32Add().set(at.bias);
  f.get(at.out).i32Const(4 * cols).i32Add().set(at.out);
  f.get(at.blocks).i32Const(1).i32Sub().set(at.blocks).br(0);
}
