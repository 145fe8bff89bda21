/**
 * A small WebAssembly assembler: the kernels in this folder are written as TypeScript that emits WebAssembly
 * instructions one by one, and this file turns them into the bytes of a module (binary format of the WebAssembly
 * core specification, 2.0, with the fixed-width SIMD instructions). Nothing is read from disk or downloaded: the
 * module exists only as the Uint8Array built here at load time.
 *
 * A module is a magic number, a version and sections (id byte, byte length, contents). Numbers inside are LEB128:
 * 7 bits per byte, low bits first, the top bit set on every byte but the last.
 */

/** Value types (the byte that names them). */
export const I32 = 0x7f, I64 = 0x7e, F32 = 0x7d, F64 = 0x7c, V128 = 0x7b;
export type ValType = typeof I32 | typeof I64 | typeof F32 | typeof F64 | typeof V128;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`uleb: ${n} is not a non-negative integer`);
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

/** Signed LEB128 (two's complement), for i32.const. */
export function sleb(n: number): number[] {
  if (!Number.isSafeInteger(n)) throw new RangeError(`sleb: ${n} is not an integer`);
  const out: number[] = [];
  for (;;) {
    const byte = ((n % 128) + 128) % 128; // low 7 bits, also for negative n
    n = Math.floor(n / 128); // arithmetic shift right by 7
    const signBitClear = (byte & 0x40) === 0;
    if ((n === 0 && signBitClear) || (n === -1 && !signBitClear)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** A name: its UTF-8 byte length, then the bytes. */
function name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
}

/** A vector: element count, then the elements. */
function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** Opcodes used by the kernels. Instructions after the 0xfd prefix are the SIMD ones (their number is a LEB128). */
const OP = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, br_if: 0x0d, return: 0x0f, call: 0x10,
  drop: 0x1a, select: 0x1b,
  local_get: 0x20, local_set: 0x21, local_tee: 0x22,
  i32_load: 0x28, f32_load: 0x2a, f64_load: 0x2b, i32_store: 0x36, f32_store: 0x38, f64_store: 0x39,
  i32_const: 0x41, f32_const: 0x43, f64_const: 0x44,
  i32_eqz: 0x45, i32_eq: 0x46, i32_ne: 0x47, i32_lt_s: 0x48, i32_lt_u: 0x49, i32_gt_s: 0x4a, i32_gt_u: 0x4b,
  i32_le_s: 0x4c, i32_le_u: 0x4d, i32_ge_s: 0x4e, i32_ge_u: 0x4f,
  i32_add: 0x6a, i32_sub: 0x6b, i32_mul: 0x6c, i32_and: 0x71, i32_or: 0x72, i32_shl: 0x74, i32_shr_u: 0x76,
  f32_add: 0x92, f32_mul: 0x94, f64_add: 0xa0, f64_mul: 0xa2,
  f32_demote_f64: 0xb6, f64_promote_f32: 0xbb,
} as const;

/** SIMD opcodes (after the 0xfd prefix). */
const SIMD = {
  v128_load: 0x00, v128_load32_splat: 0x09, v128_load64_splat: 0x0a, v128_store: 0x0b, v128_const: 0x0c,
  i8x16_shuffle: 0x0d, f32x4_splat: 0x13, f64x2_splat: 0x14,
  f32x4_extract_lane: 0x1f, f64x2_extract_lane: 0x21, f64x2_replace_lane: 0x22,
  v128_load32_lane: 0x56, v128_load64_lane: 0x57, v128_store32_lane: 0x5a, v128_store64_lane: 0x5b,
  v128_load32_zero: 0x5c, v128_load64_zero: 0x5d,
  f32x4_demote_f64x2_zero: 0x5e, f64x2_promote_low_f32x4: 0x5f,
  f32x4_add: 0xe4, f32x4_sub: 0xe5, f32x4_mul: 0xe6, f32x4_max: 0xe9,
  f64x2_add: 0xf0, f64x2_sub: 0xf1, f64x2_mul: 0xf2,
} as const;

/** Block type "no result". */
const EMPTY = 0x40;

/**
 * One function's body, written instruction by instruction. Locals are numbered after the parameters; `local()`
 * declares one and returns its index. Memory operands take a natural alignment (log2 bytes) and a constant offset.
 */
export class Code {
  private readonly bytes: number[] = [];
  private readonly locals: ValType[] = [];

  constructor(readonly params: readonly ValType[], readonly results: readonly ValType[] = []) {}

  /** Declares a local of type `t`, returns its index. */
  local(t: ValType): number {
    this.locals.push(t);
    return this.params.length + this.locals.length - 1;
  }

  private op(...b: number[]): this {
    for (const x of b) this.bytes.push(x);
    return this;
  }
  private simd(code: number, ...immediates: number[]): this {
    return this.op(0xfd, ...uleb(code), ...immediates);
  }
  private mem(code: number, align: number, offset: number): this {
    return this.op(code, ...uleb(align), ...uleb(offset));
  }
  private simdMem(code: number, align: number, offset: number, ...lane: number[]): this {
    return this.simd(code, ...uleb(align), ...uleb(offset), ...lane);
  }

  // ---- control ----
  /** `block … end`: a `br` to it jumps past its end. */
  block(): this { return this.op(OP.block, EMPTY); }
  /** `loop … end`: a `br` to it jumps back to its start. */
  loop(): this { return this.op(OP.loop, EMPTY); }
  if(): this { return this.op(OP.if, EMPTY); }
  else(): this { return this.op(OP.else); }
  end(): this { return this.op(OP.end); }
  /** Branch to the enclosing block/loop `depth` levels out (0 = innermost). */
  br(depth: number): this { return this.op(OP.br, ...uleb(depth)); }
  brIf(depth: number): this { return this.op(OP.br_if, ...uleb(depth)); }
  return(): this { return this.op(OP.return); }
  call(fn: number): this { return this.op(OP.call, ...uleb(fn)); }
  drop(): this { return this.op(OP.drop); }

  // ---- locals ----
  get(i: number): this { return this.op(OP.local_get, ...uleb(i)); }
  set(i: number): this { return this.op(OP.local_set, ...uleb(i)); }
  tee(i: number): this { return this.op(OP.local_tee, ...uleb(i)); }

  // ---- scalar memory and constants ----
  i32Load(offset = 0): this { return this.mem(OP.i32_load, 2, offset); }
  f32Load(offset = 0): this { return this.mem(OP.f32_load, 2, offset); }
  f64Load(offset = 0): this { return this.mem(OP.f64_load, 3, offset); }
  f64Store(offset = 0): this { return this.mem(OP.f64_store, 3, offset); }
  i32Const(n: number): this { return this.op(OP.i32_const, ...sleb(n | 0)); }
  f64Const(x: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, true);
    return this.op(OP.f64_const, ...b);
  }

  // ---- i32 arithmetic and comparisons (the comparisons leave 0 or 1) ----
  i32Add(): this { return this.op(OP.i32_add); }
  i32Sub(): this { return this.op(OP.i32_sub); }
  i32Mul(): this { return this.op(OP.i32_mul); }
  i32And(): this { return this.op(OP.i32_and); }
  i32Shl(): this { return this.op(OP.i32_shl); }
  i32Eqz(): this { return this.op(OP.i32_eqz); }
  i32LtU(): this { return this.op(OP.i32_lt_u); }
  i32GtU(): this { return this.op(OP.i32_gt_u); }
  i32LeU(): this { return this.op(OP.i32_le_u); }
  i32GeU(): this { return this.op(OP.i32_ge_u); }
  i32LtS(): this { return this.op(OP.i32_lt_s); }
  i32GeS(): this { return this.op(OP.i32_ge_s); }

  // ---- scalar floats ----
  f64Add(): this { return this.op(OP.f64_add); }
  f64Mul(): this { return this.op(OP.f64_mul); }
  f64PromoteF32(): this { return this.op(OP.f64_promote_f32); }
  f32DemoteF64(): this { return this.op(OP.f32_demote_f64); }

  // ---- SIMD memory ----
  /** 16 bytes. */
  v128Load(offset = 0): this { return this.simdMem(SIMD.v128_load, 4, offset); }
  v128Store(offset = 0): this { return this.simdMem(SIMD.v128_store, 4, offset); }
  /** One float32 into every lane. */
  v128Load32Splat(offset = 0): this { return this.simdMem(SIMD.v128_load32_splat, 2, offset); }
  /** One float64 into both lanes. */
  v128Load64Splat(offset = 0): this { return this.simdMem(SIMD.v128_load64_splat, 3, offset); }
  /** 4 bytes into lane 0, zeros above. */
  v128Load32Zero(offset = 0): this { return this.simdMem(SIMD.v128_load32_zero, 2, offset); }
  /** 8 bytes into lanes 0–1 (as f32x4), zeros above. */
  v128Load64Zero(offset = 0): this { return this.simdMem(SIMD.v128_load64_zero, 3, offset); }
  /** Stack [address, vector]: replaces 32-bit lane `lane` of the vector with the 4 bytes at address. */
  v128Load32Lane(lane: number, offset = 0): this { return this.simdMem(SIMD.v128_load32_lane, 2, offset, lane); }
  /** Stack [address, vector]: stores 32-bit lane `lane`. */
  v128Store32Lane(lane: number, offset = 0): this { return this.simdMem(SIMD.v128_store32_lane, 2, offset, lane); }
  /** Stack [address, vector]: stores 64-bit lane `lane` (two float32 when the vector is f32x4). */
  v128Store64Lane(lane: number, offset = 0): this { return this.simdMem(SIMD.v128_store64_lane, 3, offset, lane); }
  v128Const(bytes: number[]): this {
    if (bytes.length !== 16) throw new RangeError('v128.const takes 16 bytes');
    return this.simd(SIMD.v128_const, ...bytes);
  }

  // ---- SIMD lanes ----
  /** Picks 16 bytes from the 32 of two vectors (0–15 the first, 16–31 the second). */
  shuffle(lanes: number[]): this {
    if (lanes.length !== 16 || lanes.some((l) => l < 0 || l > 31)) throw new RangeError('i8x16.shuffle takes 16 lane indices < 32');
    return this.simd(SIMD.i8x16_shuffle, ...lanes);
  }
  /** f64x2 (x, y) from lane 0 of two f64x2 vectors: (a₀, b₀). */
  f64x2LowLanes(): this { return this.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]); }
  /** f64x2 from lane 1 of two f64x2 vectors: (a₁, b₁). */
  f64x2HighLanes(): this { return this.shuffle([8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31]); }
  f32x4Splat(): this { return this.simd(SIMD.f32x4_splat); }
  f64x2Splat(): this { return this.simd(SIMD.f64x2_splat); }
  f64x2ExtractLane(lane: number): this { return this.simd(SIMD.f64x2_extract_lane, lane); }

  // ---- SIMD arithmetic ----
  /** Lanes 0–1 of an f32x4 widened to f64x2 (exact). */
  f64x2PromoteLow(): this { return this.simd(SIMD.f64x2_promote_low_f32x4); }
  /** f64x2 rounded to float32 (to nearest, ties to even) into lanes 0–1, zeros above. */
  f32x4DemoteZero(): this { return this.simd(SIMD.f32x4_demote_f64x2_zero); }
  f64x2Add(): this { return this.simd(SIMD.f64x2_add); }
  f64x2Mul(): this { return this.simd(SIMD.f64x2_mul); }
  f32x4Add(): this { return this.simd(SIMD.f32x4_add); }
  f32x4Mul(): this { return this.simd(SIMD.f32x4_mul); }

  /** The body as the code section wants it: byte size, locals (run-length by type), instructions, `end`. */
  encode(): number[] {
    const runs: number[][] = [];
    for (let i = 0; i < this.locals.length; ) {
      let j = i;
      while (j < this.locals.length && this.locals[j] === this.locals[i]) j++;
      runs.push([...uleb(j - i), this.locals[i]]);
      i = j;
    }
    const body = [...vec(runs), ...this.bytes, OP.end];
    return [...uleb(body.length), ...body];
  }
}

/** Memory limits in 64 KiB pages; `shared` needs a maximum. */
export interface MemoryType {
  initial: number;
  maximum?: number;
  shared?: boolean;
}

/**
 * A module that imports one memory (`env.memory`) and defines functions, some exported by name. Function indices
 * are the order of `add` (there are no imported functions).
 */
export class ModuleBuilder {
  private readonly types: number[][] = [];
  private readonly funcs: Array<{ type: number; code: Code; exportAs?: string }> = [];

  constructor(private readonly memory: MemoryType) {}

  /** Adds a function; returns its index (for `call`). */
  add(code: Code, exportAs?: string): number {
    const sig = [0x60, ...vec(code.params.map((t) => [t])), ...vec(code.results.map((t) => [t]))];
    let type = this.types.findIndex((t) => t.length === sig.length && t.every((b, i) => b === sig[i]));
    if (type < 0) type = this.types.push(sig) - 1;
    this.funcs.push({ type, code, exportAs });
    return this.funcs.length - 1;
  }

  /** Index the next `add` will get (for functions that call one defined later). */
  get nextIndex(): number {
    return this.funcs.length;
  }

  encode(): Uint8Array<ArrayBuffer> {
    const section = (id: number, contents: number[]) => [id, ...uleb(contents.length), ...contents];
    const m = this.memory;
    const limits = m.maximum === undefined ? [0x00, ...uleb(m.initial)] : [m.shared ? 0x03 : 0x01, ...uleb(m.initial), ...uleb(m.maximum)];
    const exported = this.funcs.map((f, i) => ({ f, i })).filter(({ f }) => f.exportAs !== undefined);
    return new Uint8Array([
      0x00, 0x61, 0x73, 0x6d, // "\0asm"
      0x01, 0x00, 0x00, 0x00, // version 1
      ...section(1, vec(this.types)), // type section: function signatures
      ...section(2, vec([[...name('env'), ...name('memory'), 0x02, ...limits]])), // import section: the memory
      ...section(3, vec(this.funcs.map((f) => uleb(f.type)))), // function section: each function's signature
      ...section(7, vec(exported.map(({ f, i }) => [...name(f.exportAs!), 0x00, ...uleb(i)]))), // export section
      ...section(10, vec(this.funcs.map((f) => f.code.encode()))), // code section: the bodies
    ]);
  }
}
