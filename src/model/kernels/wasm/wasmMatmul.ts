/**
 * The SIMD matrix product at run time: compiles the module of ./matmulModule.ts over a WasmArena's memory and
 * offers matmulTransB's signature (../matmul.ts), bit-identical to it. Operands already in the memory (the weights,
 * the pool's scratch rows) are used where they lie; others (activations in ordinary Float32Arrays) are copied into
 * scratch rows and the result copied back — M·K + M·N floats next to M·N·K multiply-adds.
 * A product whose weights are not in the memory runs the JavaScript kernel (same results).
 */
import { matmulTransB, matmulTransBColumns } from '../matmul';
import type { MemoryType } from './assembler';
import { FLOAT32_K_STEP, QUARTERS, float32Name } from './float32Kernels';
import { EXACT_BLOCKS, INTERLEAVED, PANEL, exactName, interName, matmulModuleBytes, panelName, singleName } from './matmulModule';
import { MAX_PAGES, WasmArena, WasmMemoryTooSmall } from './memory';

type Block = (pack: number, b: number, bias: number, out: number, K: number, ldo: number, blocks: number) => void;
export interface MatmulExports {
  pack(a: number, K: number, rows: number, dst: number): void;
  widenPanel(b: number, K: number, blocks: number, dst: number): void;
  interleave(b: number, K: number, blocks: number, dst: number): void;
  [name: string]: Block | MatmulExports['pack'];
}

/**
 * Interleaved copies a kernel makes at most by default: every weight of the bundled model (30 MB) and of
 * opus-mt-sized models (~300 MB); a larger model's later products read their weights where they lie.
 */
export const DEFAULT_INTERLEAVED_BUDGET = 512 * 2 ** 20;

/** Products of up to this many rows (decoder steps, beams) make the interleaved copy of their weights. */
export const COPY_MAX_ROWS = 8;

/** The memory type every kernel module imports: the arena's (shared, growable to 4 GiB). */
export const MEMORY_TYPE: MemoryType = { initial: 1, maximum: MAX_PAGES, shared: true };

let simdAnswer: boolean | undefined;
/** Whether this runtime compiles WebAssembly SIMD with shared memory (validated on the real module, once). */
export function wasmSimdSupported(): boolean {
  if (simdAnswer === undefined) {
    try {
      simdAnswer = typeof WebAssembly === 'object' && WebAssembly.validate(matmulModuleBytes(MEMORY_TYPE));
    } catch {
      simdAnswer = false;
    }
  }
  return simdAnswer;
}

let compiled: WebAssembly.Module | undefined;
/** The compiled module (once per thread; helper threads are sent it, not the bytes). */
export function matmulModule(): WebAssembly.Module {
  return (compiled ??= new WebAssembly.Module(matmulModuleBytes(MEMORY_TYPE)));
}

/** The module instantiated over `memory`. */
export function instantiateMatmul(memory: WebAssembly.Memory): MatmulExports {
  return new WebAssembly.Instance(matmulModule(), { env: { memory } }).exports as unknown as MatmulExports;
}

/** The widest block of each row count (first in EXACT_BLOCKS), then one pair, then one column. */
const WIDEST = new Map<number, number>();
for (const { rows, pairs } of EXACT_BLOCKS) if (!WIDEST.has(rows)) WIDEST.set(rows, pairs);

/** Columns per panel: its widened copy (8 bytes per value) stays within about 128 KB, half a core's L2 cache. */
function panelColumns(K: number): number {
  const w = 2 * PANEL.pairs;
  return w * Math.max(1, Math.floor(16384 / (K * w)));
}

/** Rows packed at a time: their doubles stay within about 256 KB, so every panel finds them in L2 cache. */
function rowChunk(K: number): number {
  return PANEL.rows * Math.max(1, Math.floor(32768 / (K * PANEL.rows)));
}

/** Bytes of scratch (`pack`) productAt needs for M rows of inner dimension K. */
export function scratchBytes(M: number, K: number): number {
  return 8 * K * (Math.max(Math.min(M, rowChunk(K)), 3) + panelColumns(K));
}

/**
 * Rows [0, M) × columns [j0, j1) of C = A·Bᵀ + bias with every operand in the memory (byte addresses): A row stride K,
 * B row stride K, C row stride N. `pack` is scratch of scratchBytes(M, K) bytes. Shared by the calling thread and
 * pool helpers. With `il`, the address of B's interleaved copy (see matmulModule.ts; 0 for none), the whole blocks
 * of columns read it; without, three rows or more go through widened panels of B, and one or two rows (the
 * decoder's steps) read B where it lies, as do the columns left over by either. With `float32` (WasmMatmul.usesFloat32
 * says when), the float32 kernels instead (float32Columns; `il` and `pack` unused).
 */
export function productAt(
  ex: MatmulExports, a: number, M: number, K: number, b: number, N: number, out: number, bias: number,
  j0: number, j1: number, pack: number, il = 0, float32 = false,
): void {
  if (float32) {
    float32Columns(ex, a, M, K, b, N, out, bias, j0, j1);
    return;
  }
  const blockWidth = 2 * INTERLEAVED.pairs;
  if (il !== 0 && j0 % blockWidth === 0) {
    const full = Math.floor((j1 - j0) / blockWidth) * blockWidth;
    if (full > 0) interleavedColumns(ex, a, M, K, il + 4 * K * j0, out + 4 * j0, bias + 4 * j0, N, full / blockWidth, pack);
    if (j0 + full < j1) directColumns(ex, a, M, K, b, N, out, bias, j0 + full, j1, pack);
    return;
  }
  const width = 2 * PANEL.pairs;
  const full = M >= 3 ? Math.floor((j1 - j0) / width) * width : 0;
  if (full > 0) {
    const chunk = rowChunk(K), NB = panelColumns(K), wide = pack + 8 * Math.min(M, chunk) * K;
    for (let i0 = 0; i0 < M; i0 += chunk) {
      const i1 = Math.min(M, i0 + chunk);
      for (let i = i0; i < i1; i += PANEL.rows) ex.pack(a + 4 * i * K, K, Math.min(PANEL.rows, i1 - i), pack + 8 * (i - i0) * K);
      for (let jp = j0; jp < j0 + full; jp += NB) {
        const blocks = Math.min(NB, j0 + full - jp) / width;
        ex.widenPanel(b + 4 * K * jp, K, blocks, wide);
        for (let i = i0; i < i1; i += PANEL.rows) {
          const R = Math.min(PANEL.rows, i1 - i);
          (ex[panelName(R)] as Block)(pack + 8 * (i - i0) * K, wide, bias + 4 * jp, out + 4 * (i * N + jp), K, 4 * N, blocks);
        }
      }
    }
  }
  if (j0 + full < j1) directColumns(ex, a, M, K, b, N, out, bias, j0 + full, j1, pack);
}

/** Columns per interleaved panel of a product of 3+ rows: about 128 KB of B, reread from L2 cache by every row group. */
function interPanelBlocks(K: number): number {
  return Math.max(1, Math.floor(32768 / (K * 2 * INTERLEAVED.pairs)));
}

/**
 * productAt's whole blocks from the interleaved copy: `blocks` blocks of 2·INTERLEAVED.pairs columns, `il`, `out`
 * and `bias` at the first one. One or two rows take every block in one call; more rows are packed in L2-sized
 * chunks and go 4 at a time (the last 1–3 as they come) over panels of blocks, half a block per call for 3 or 4.
 */
function interleavedColumns(
  ex: MatmulExports, a: number, M: number, K: number, il: number, out: number, bias: number, N: number, blocks: number,
  pack: number,
): void {
  const LP = INTERLEAVED.pairs, half = LP / 2, blockBytes = 4 * K * 2 * LP;
  if (M <= 2) {
    ex.pack(a, K, M, pack);
    (ex[interName(M, LP)] as Block)(pack, il, bias, out, K, 4 * N, blocks);
    return;
  }
  const chunk = rowChunk(K), NB = interPanelBlocks(K);
  for (let i0 = 0; i0 < M; i0 += chunk) {
    const i1 = Math.min(M, i0 + chunk);
    for (let i = i0; i < i1; i += 4) ex.pack(a + 4 * i * K, K, Math.min(4, i1 - i), pack + 8 * (i - i0) * K);
    for (let bp = 0; bp < blocks; bp += NB) {
      const nb = Math.min(NB, blocks - bp), ilp = il + blockBytes * bp, col = 2 * LP * bp;
      for (let i = i0; i < i1; i += 4) {
        const R = Math.min(4, i1 - i), pk = pack + 8 * (i - i0) * K, o = out + 4 * (i * N + col);
        if (R <= 2) (ex[interName(R, LP)] as Block)(pk, ilp, bias + 4 * col, o, K, 4 * N, nb);
        else for (let h = 0; h < LP; h += half) (ex[interName(R, half)] as Block)(pk, ilp + 8 * h, bias + 4 * (col + 2 * h), o + 8 * h, K, 4 * N, nb);
      }
    }
  }
}

/** productAt's columns read from B where it lies: blocks of 3, 2 or 1 rows, column pairs, then one column. */
function directColumns(
  ex: MatmulExports, a: number, M: number, K: number, b: number, N: number, out: number, bias: number,
  j0: number, j1: number, pack: number,
): void {
  let i = 0;
  while (i < M) {
    const R = M - i >= 3 ? 3 : M - i; // 3-row blocks, then the 2 or 1 left
    ex.pack(a + 4 * i * K, K, R, pack);
    const o = out + 4 * i * N;
    let j = j0;
    const P = WIDEST.get(R)!;
    const wide = Math.floor((j1 - j) / (2 * P));
    if (wide > 0) (ex[exactName(R, P)] as Block)(pack, b + 4 * K * j, bias + 4 * j, o + 4 * j, K, 4 * N, wide);
    j += wide * 2 * P;
    const pairs = Math.floor((j1 - j) / 2);
    if (pairs > 0) (ex[exactName(R, 1)] as Block)(pack, b + 4 * K * j, bias + 4 * j, o + 4 * j, K, 4 * N, pairs);
    j += 2 * pairs;
    if (j < j1) (ex[singleName(R)] as Block)(pack, b + 4 * K * j, bias + 4 * j, o + 4 * j, K, 4 * N, 1);
    i += R;
  }
}

/** A growable scratch region of float32 in the arena. */
class Scratch {
  ptr = 0;
  floats = 0;
  constructor(private readonly arena: WasmArena) {}
  /** Address of at least n floats (contents kept only until the next call). */
  at(n: number): number {
    if (n > this.floats) {
      this.floats = Math.max(n, 2 * this.floats, 256);
      this.ptr = this.arena.alloc(4 * this.floats);
    }
    return this.ptr;
  }
  view(n: number): Float32Array {
    const p = this.at(n); // before reading `buffer`: the allocation may grow the memory
    return new Float32Array(this.arena.buffer, p, n);
  }
}

/** The SIMD product of one thread (the calling one), over an arena's memory. */
export class WasmMatmul {
  readonly module = matmulModule();
  readonly exports: MatmulExports;
  private readonly a: Scratch;
  private readonly out: Scratch;
  private readonly bias: Scratch;
  private readonly pack: Scratch;
  private zeros = 0;
  /** Products that ran here, and those that went to the JavaScript kernel (weights outside the memory). */
  wasmCalls = 0;
  jsCalls = 0;
  /** Floats of activations copied into the memory because they lay outside it (the model's scratch rows lie inside). */
  copiedIn = 0;
  /**
   * Arrays wholly below this address are weights, never written again: only they get an interleaved copy. The
   * arena's top when this kernel is made (the loader makes it after reading the weights).
   */
  weightsEnd: number;
  /** Bytes of interleaved copies still allowed (each is as large as its weight matrix); 0 stops making them. */
  interleavedBudget: number;
  /** Interleaved copies made so far, by the weight's address (at 0: none, refused). */
  private readonly copies = new Map<number, { N: number; K: number; at: number }>();

  /** Sums in float32 lanes (./float32Kernels.ts) where K allows, instead of the exact double sums. */
  readonly float32: boolean;

  constructor(readonly arena: WasmArena, opts: { interleavedBudget?: number; precision?: 'exact' | 'float32' } = {}) {
    this.float32 = opts.precision === 'float32';
    this.weightsEnd = arena.used;
    this.interleavedBudget = opts.interleavedBudget ?? DEFAULT_INTERLEAVED_BUDGET;
    this.exports = new WebAssembly.Instance(this.module, { env: { memory: arena.memory } }).exports as unknown as MatmulExports;
    this.a = new Scratch(arena);
    this.out = new Scratch(arena);
    this.bias = new Scratch(arena);
    this.pack = new Scratch(arena);
  }

  /** matmulTransB, bit-identical. Bound, so it can be passed around. */
  readonly matmul = (
    a: Float32Array, M: number, K: number, b: Float32Array, N: number, out: Float32Array,
    bias?: Float32Array, aOffset = 0, outOffset = 0,
  ): void => {
    this.columns(a, M, K, b, N, out, bias, aOffset, outOffset, 0, N);
  };

  /** matmulTransBColumns: only output columns [j0, j1). */
  columns(
    a: Float32Array, M: number, K: number, b: Float32Array, N: number, out: Float32Array,
    bias: Float32Array | undefined, aOffset: number, outOffset: number, j0: number, j1: number,
  ): void {
    const bp = this.arena.addressOf(b);
    if (bp < 0 || M <= 0 || K <= 0 || j1 <= j0) {
      this.jsCalls++;
      if (j0 === 0 && j1 === N) matmulTransB(a, M, K, b, N, out, bias, aOffset, outOffset);
      else matmulTransBColumns(a, M, K, b, N, out, bias, aOffset, outOffset, j0, j1);
      return;
    }
    if (!(j0 >= 0 && j1 <= N)) throw new RangeError('matmulTransBColumns: column range outside the product');
    if (aOffset + M * K > a.length || N * K > b.length || outOffset + M * N > out.length || (bias && bias.length < N)) {
      throw new RangeError('matmulTransB: operand too short for its shape');
    }
    this.wasmCalls++;
    const float32 = this.usesFloat32(K), il = float32 ? 0 : this.interleavedAt(bp, N, K, M); // first: it may grow the memory
    let ap = this.arena.addressOf(a);
    if (ap >= 0) ap += 4 * aOffset;
    else {
      ap = this.a.at(M * K);
      this.a.view(M * K).set(a.subarray(aOffset, aOffset + M * K));
      this.copiedIn += M * K;
    }
    let biasP = bias ? this.arena.addressOf(bias) : this.zeroBias(N);
    if (biasP < 0) {
      biasP = this.bias.at(N);
      this.bias.view(N).set(bias!.subarray(0, N));
    }
    let op = this.arena.addressOf(out);
    const direct = op >= 0;
    if (direct) op += 4 * outOffset;
    else op = this.out.at(M * N);
    productAt(this.exports, ap, M, K, bp, N, op, biasP, j0, j1, this.pack.at(scratchBytes(M, K) / 4), il, float32);
    if (!direct) {
      const res = new Float32Array(this.arena.buffer, op, M * N);
      if (j0 === 0 && j1 === N) out.set(res, outOffset);
      else for (let i = 0; i < M; i++) out.set(res.subarray(i * N + j0, i * N + j1), outOffset + i * N + j0);
    }
  }

  /** Whether a product of inner dimension K runs on the float32 kernels (which need no interleaved copy). */
  usesFloat32(K: number): boolean {
    return this.float32 && K % FLOAT32_K_STEP === 0;
  }

  /**
   * Address of the interleaved copy of weight B [N, K] at byte address `b` (see matmulModule.ts); 0 when there is
   * none (B is then read where it lies). A product of `rows` ≤ COPY_MAX_ROWS rows makes it on first use, while the
   * budget and the memory allow: those gain 1.5–2.8× from it, while longer products (the encoder's) gain ~10 % and
   * the copy's fresh memory costs about 5 ms per MB on first touch here.
   */
  interleavedAt(b: number, N: number, K: number, rows: number): number {
    const known = this.copies.get(b);
    if (known) return known.N === N && known.K === K ? known.at : 0;
    if (rows > COPY_MAX_ROWS) return 0;
    const blocks = Math.floor(N / (2 * INTERLEAVED.pairs)), bytes = 4 * K * 2 * INTERLEAVED.pairs * blocks;
    let at = 0;
    if (blocks > 0 && b + 4 * N * K <= this.weightsEnd && bytes <= this.interleavedBudget) {
      try {
        at = this.arena.alloc(bytes);
        this.exports.interleave(b, K, blocks, at);
        this.interleavedBudget -= bytes;
      } catch (e) {
        if (!(e instanceof WasmMemoryTooSmall)) throw e;
        this.interleavedBudget = 0; // the memory cannot grow: the products read B where it lies from now on
      }
    }
    this.copies.set(b, { N, K, at });
    return at;
  }

  /** Address of N zeros (the bias of a product without one: + 0 still turns a −0 sum into +0, as in JavaScript). */
  zeroBias(N: number): number {
    if (N > this.zeros) {
      this.zeros = Math.max(N, 2 * this.zeros, 1024);
      this.zerosPtr = this.arena.alloc(4 * this.zeros); // fresh memory is zeroed
    }
    return this.zerosPtr;
  }
  private zerosPtr = 0;
}

type Block8 = (a: number, b: number, bias: number, out: number, K: number, ldo: number, blocks: number, quarter: number) => void;
const F32_2x4 = float32Name(2, 4), F32_2x1 = float32Name(2, 1), F32_1x4 = float32Name(1, 4), F32_1x1 = float32Name(1, 1);

/** Columns per panel when several row pairs reread it: about 64 KB of B, which stays in L2 cache between them. */
function float32PanelColumns(K: number): number {
  return 4 * Math.max(1, Math.floor(4096 / K));
}

/**
 * Rows [0, M) × columns [j0, j1) of C = A·Bᵀ + bias on the float32 kernels (./float32Kernels.ts); every operand in the
 * memory (byte addresses, row strides K, K and N floats). K must be a multiple of 4. One row: columns a quarter
 * apart, 4 per call (the last 0–3 one by one). More rows: pairs of rows (then the last one) × 4 columns, over
 * L2-sized panels of B.
 */
export function float32Columns(
  ex: MatmulExports, a: number, M: number, K: number, b: number, N: number, out: number, bias: number, j0: number, j1: number,
): void {
  if (K % FLOAT32_K_STEP !== 0) throw new RangeError(`the float32 kernels need K divisible by ${FLOAT32_K_STEP}`);
  const call = (name: string, ar: number, j: number, o: number, blocks: number, quarter = 0) =>
    (ex[name] as unknown as Block8)(ar, b + 4 * K * j, bias + 4 * j, o + 4 * j, K, 4 * N, blocks, quarter);
  if (M === 1) {
    const q = (j1 - j0) >> 2;
    if (q > 0) call(QUARTERS, a, j0, out, q, q);
    if (j0 + 4 * q < j1) call(F32_1x1, a, j0 + 4 * q, out, j1 - j0 - 4 * q);
    return;
  }
  const panel = float32PanelColumns(K);
  for (let jp = j0; jp < j1; jp += panel) {
    const je = Math.min(j1, jp + panel), wide = (je - jp) >> 2, jr = jp + 4 * wide;
    for (let i = 0; i < M; i += 2) {
      const two = i + 1 < M, ar = a + 4 * i * K, o = out + 4 * i * N;
      if (wide > 0) call(two ? F32_2x4 : F32_1x4, ar, jp, o, wide);
      if (jr < je) call(two ? F32_2x1 : F32_1x1, ar, jr, o, je - jr);
    }
  }
}
