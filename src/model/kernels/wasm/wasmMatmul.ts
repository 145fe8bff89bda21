/**
 * The SIMD matrix product at run time: compiles the module of ./matmulModule.ts over a WasmArena's memory and
 * offers matmulTransB's signature (../matmul.ts), bit-identical to it. Operands already in the memory (the weights,
 * the pool's scratch rows) are used where they lie; others (activations in ordinary Float32Arrays) are copied into
 * scratch rows and the result copied back — M·K + M·N floats next to M·N·K multiply-adds.
 * A product whose weights are not in the memory runs the JavaScript kernel (same results).
 */
import { matmulTransB, matmulTransBColumns } from '../matmul';
import type { MemoryType } from './assembler';
import { EXACT_BLOCKS, INTERLEAVED, PANEL, exactName, fastName, interName, matmulModuleBytes, panelName, singleName } from './matmulModule';
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

/** Whether the runtime accepts relaxed SIMD (only the benchmark's fast variant uses it). */
export function relaxedSimdSupported(): boolean {
  try {
    return WebAssembly.validate(matmulModuleBytes(MEMORY_TYPE, { relaxed: true }));
  } catch {
    return false;
  }
}

const compiled = new Map<string, WebAssembly.Module>();
/** The compiled module (once per thread and variant; helper threads are sent it, not the bytes). */
export function matmulModule(variant: { fast?: boolean; relaxed?: boolean } = {}): WebAssembly.Module {
  const key = `${variant.fast ? 'f' : ''}${variant.relaxed ? 'r' : ''}`;
  let mod = compiled.get(key);
  if (!mod) compiled.set(key, (mod = new WebAssembly.Module(matmulModuleBytes(MEMORY_TYPE, variant))));
  return mod;
}

/** The module instantiated over `memory`. */
export function instantiateMatmul(memory: WebAssembly.Memory, variant: { fast?: boolean; relaxed?: boolean } = {}): MatmulExports {
  return new WebAssembly.Instance(matmulModule(variant), { env: { memory } }).exports as unknown as MatmulExports;
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
 * decoder's steps) read B where it lies, as do the columns left over by either.
 */
export function productAt(
  ex: MatmulExports, a: number, M: number, K: number, b: number, N: number, out: number, bias: number,
  j0: number, j1: number, pack: number, il = 0,
): void {
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

  constructor(readonly arena: WasmArena, opts: { interleavedBudget?: number } = {}) {
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
    const il = this.interleavedAt(bp, N, K, M); // first: it may grow the memory
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
    productAt(this.exports, ap, M, K, bp, N, op, biasP, j0, j1, this.pack.at(scratchBytes(M, K) / 4), il);
    if (!direct) {
      const res = new Float32Array(this.arena.buffer, op, M * N);
      if (j0 === 0 && j1 === N) out.set(res, outOffset);
      else for (let i = 0; i < M; i++) out.set(res.subarray(i * N + j0, i * N + j1), outOffset + i * N + j0);
    }
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

/**
 * The float32 variant (not bit-identical: float32 sums across k), for the benchmark's comparison only. K must be a
 * multiple of 4; all operands in the memory.
 */
export function fastProductAt(ex: MatmulExports, relaxed: boolean, a: number, M: number, K: number, b: number, N: number, out: number, bias: number): void {
  if (K % 4 !== 0) throw new RangeError('the float32 kernel needs K divisible by 4');
  let i = 0;
  for (; i < M; ) {
    const R = M - i >= 2 ? 2 : 1;
    const o = out + 4 * i * N, ar = a + 4 * i * K;
    const wide = Math.floor(N / 4);
    if (wide > 0) (ex[fastName(R, 4, relaxed)] as Block)(ar, b, bias, o, K, 4 * N, wide);
    for (let j = wide * 4; j < N; j++) {
      if (R === 2) {
        (ex[fastName(1, 1, relaxed)] as Block)(ar, b + 4 * K * j, bias + 4 * j, o + 4 * j, K, 4 * N, 1);
        (ex[fastName(1, 1, relaxed)] as Block)(ar + 4 * K, b + 4 * K * j, bias + 4 * j, o + 4 * N + 4 * j, K, 4 * N, 1);
      } else (ex[fastName(1, 1, relaxed)] as Block)(ar, b + 4 * K * j, bias + 4 * j, o + 4 * j, K, 4 * N, 1);
    }
    i += R;
  }
}
