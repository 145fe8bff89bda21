/**
 * C[M,N] = A[M,K] · B[N,K]ᵀ (+ bias[N]): the one product the transformer needs, because PyTorch stores
 * Linear weights as [out, in] rows, so both operands are read along contiguous rows.
 *
 * Every output is Σₖ A[i,k]·B[j,k] summed in doubles in increasing k from +0, then + bias[j], then rounded to
 * float32 on store — the same arithmetic, in the same order, as the textbook loop, so every kernel here gives
 * bit-identical results (float32 × float32 products are exact in a double; only the order of the sums could
 * change them, and it never does).
 *
 * V8 runs this as scalar double arithmetic with a bounds check on every load, so the kernels are limited by how
 * many instructions they issue (about five a cycle), not by the arithmetic. What removes instructions, measured on
 * the benchmark machine (Zen 3):
 *  - kernels specialised per K: the weight rows j, j+1, … are read at byte offsets o, o + 4K, o + 8K … with K a
 *    literal in the generated source, so one induction variable and constant displacements serve every row (no
 *    weight repacking: the weights stay zero-copy views into the checkpoint file);
 *  - every operand read through a DataView (one per array, cached): TurboFan recomputes a Float32Array's data
 *    pointer at each load, not a DataView's, so a load is offset + check + move. A's rows (for M ≥ 2) are first
 *    packed [k][rows] as doubles, so those reads convert nothing;
 *  - offsets masked to 30 bits, which lets TurboFan drop overflow checks and sign extensions (valid while every
 *    array has ≤ 2²⁶ elements, 2²⁸ bytes; larger ones take one plain dot product per output);
 *  - the k loop unrolled 8 times with an exit after every k, and inside one k an exit after every column group
 *    that is never taken (an offset above 2²⁸) but that TurboFan cannot prove dead. Each exit ends a basic block
 *    with the sums live out of it, which makes TurboFan's scheduler finish a group's multiply-adds before the next
 *    group's loads; without them it issues all loads and products of an iteration before the first add and runs
 *    out of registers (16 XMM, one of them its scratch) — that was what limited the block sizes before. Unrolling
 *    16 times is another 3–6 % but makes a process's first explain ~70 ms slower (longer to compile and warm up);
 *  - blocks sized so the sums stay in registers: 3 rows × 3 columns for M ≥ 3 (9 sums + 3 A values + a weight +
 *    2 products), 2 × 4 for two rows left over, and 1 row × 8 columns for the decoder's one-token steps.
 */

/** Arrays up to this many elements (2²⁶) take the specialised kernels; their byte offsets fit the mask below. */
const MAX_ELEMENTS = 1 << 26;
/** Byte offsets inside the kernels are masked to 2³⁰ − 1: non-negative, and still below 2³¹ with a constant added. */
const BYTE_MASK = 0x3fffffff;
/** No byte offset reaches 2²⁸ (arrays here have ≤ 2²⁶ elements), so `offset > NEVER + n` never holds. */
const NEVER = 0x10000000;
/** k values per loop iteration, each followed by its own exit. */
const UNROLL = 8;
/** DataView reads name a byte order; the Float32Arrays use the host's. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface Kernels {
  /**
   * Three rows of A (row stride K, from aOff) against columns [j0, j1), (j1 − j0) a multiple of 3: writes
   * out[oOff + r·ldo + j]; `ap` (≥ 3·K doubles) is scratch for the rows packed as [K][3].
   */
  rows3(a: Float32Array, aOff: number, b: Float32Array, out: Float32Array, oOff: number, ldo: number, bias: Float32Array, ap: Float64Array, j0: number, j1: number): void;
  /** Two rows, as rows3, with (j1 − j0) a multiple of 4. */
  rows2(a: Float32Array, aOff: number, b: Float32Array, out: Float32Array, oOff: number, ldo: number, bias: Float32Array, ap: Float64Array, j0: number, j1: number): void;
  /** One row of A against columns [j0, j1), (j1 − j0) a multiple of 8. */
  row1(a: Float32Array, aOff: number, b: Float32Array, out: Float32Array, oOff: number, bias: Float32Array, j0: number, j1: number): void;
}

/**
 * Source of the K-specialised kernels. Self-contained: it names nothing from outside (the byte mask, the
 * never-reached offset and the byte order are literals in it), so the same text can be compiled in a worker thread. Only whole blocks: remainder columns go to
 * `tailColumns`, because a rarely taken path inside these loops (no type feedback yet when TurboFan compiles them)
 * deoptimises them.
 */
export function kernelSource(K: number): string {
  if (!Number.isSafeInteger(K) || K < 1) throw new RangeError(`bad inner dimension ${K}`);
  return [
    // One DataView per array, made once (making one costs ~0.1 µs, a pool chunk's product can be ~2 µs). The
    // lookup sits in small wrappers: a first-seen array takes a path TurboFan may have no feedback for, and the
    // deoptimisation that causes should cost a wrapper, not a kernel.
    `const views = new WeakMap();`,
    `function view(x) {`,
    `  let v = views.get(x);`,
    `  if (v === undefined) { v = new DataView(x.buffer, x.byteOffset, x.byteLength); views.set(x, v); }`,
    `  return v;`,
    `}`,
    `function rows3(a, aOff, b, out, oOff, ldo, bias, ap, j0, j1) { block3x3(a, aOff, view(b), out, oOff, ldo, bias, ap, view(ap), j0, j1); }`,
    `function rows2(a, aOff, b, out, oOff, ldo, bias, ap, j0, j1) { block2x4(a, aOff, view(b), out, oOff, ldo, bias, ap, view(ap), j0, j1); }`,
    `function row1(a, aOff, b, out, oOff, bias, j0, j1) { block1x8(view(a), aOff, view(b), out, oOff, bias, j0, j1); }`,
    ...blockKernel('block3x3', 3, 3, 1, K),
    ...blockKernel('block2x4', 2, 4, 2, K),
    ...blockKernel('block1x8', 1, 8, 4, K),
    `return { rows3, rows2, row1 };`,
  ].join('\n');
}

/**
 * MR rows × NR columns, `group` columns between never-taken exits (see the top of the file), operands read through
 * DataViews (`av`, `bv`). With MR ≥ 2, A's rows are packed [k][MR] as doubles into `ap` (viewed by `av`) first; one
 * row is read straight from A's view.
 */
function blockKernel(name: string, MR: number, NR: number, group: number, K: number): string[] {
  const L: string[] = [];
  const rs = Array.from({ length: MR }, (_, r) => r), cs = Array.from({ length: NR }, (_, c) => c);
  const plus = (base: string, n: number) => (n === 0 ? base : `(${base} + ${n}) | 0`);
  const le = String(LITTLE_ENDIAN), parts = Math.min(UNROLL, K);
  if (MR === 1) {
    L.push(`function ${name}(av, aOff, bv, out, oOff, bias, j0, j1) {`);
    L.push(`  const a0 = (aOff * 4) & ${BYTE_MASK}, o0 = oOff | 0;`);
  } else {
    L.push(`function ${name}(a, aOff, bv, out, oOff, ldo, bias, ap, av, j0, j1) {`);
    L.push(`  for (let k = 0, q = 0; k < ${K}; k = (k + 1) | 0, q = (q + ${MR}) | 0) {`);
    L.push(`    const ak = (aOff + k) | 0;`);
    L.push('    ' + rs.map((r) => `ap[${plus('q', r)}] = a[${plus('ak', r * K)}];`).join(' '));
    L.push(`  }`);
    L.push(`  const a0 = 0, ${rs.map((r) => `o${r} = (oOff + ${r} * ldo) | 0`).join(', ')};`);
  }
  // A[r, k0 + u], where ao is the byte offset in `av` of step k0
  const xAt = (u: number, r: number) => (MR === 1 ? `av.getFloat32(${plus('ao', 4 * u)}, ${le})` : `av.getFloat64(${plus('ao', 8 * (u * MR + r))}, ${le})`);
  L.push(`  for (let j = j0 | 0; (j + ${NR}) <= j1; j = (j + ${NR}) | 0) {`);
  L.push(`    let ${rs.flatMap((r) => cs.map((c) => `s${r}${c} = 0`)).join(', ')};`);
  L.push(`    let k = 0, ao = a0, bo = (j * ${4 * K}) & ${BYTE_MASK};`);
  L.push(`    for (;;) {`);
  let never = NEVER;
  for (let u = 0; u < parts; u++) {
    L.push(`      { const ${rs.map((r) => `x${r} = ${xAt(u, r)}`).join(', ')};`);
    for (const c of cs) {
      L.push(`        const w${c} = bv.getFloat32(${plus('bo', 4 * (c * K + u))}, ${le}); ${rs.map((r) => `s${r}${c} += x${r} * w${c};`).join(' ')}`);
      // never taken (bo < 2²⁸); only splits the block, see the top of the file
      if ((c + 1) % group === 0 && c < NR - 1) L.push(`        if (bo > ${never++}) break;`);
    }
    L.push(`      }`);
    if (u < parts - 1) L.push(`      if (k >= ${K - 1 - u}) break;`); // step k + u was the last one
  }
  L.push(`      k = (k + ${parts}) | 0; ao = (ao + ${parts * (MR === 1 ? 4 : 8 * MR)}) & ${BYTE_MASK}; bo = (bo + ${4 * parts}) & ${BYTE_MASK};`);
  L.push(`      if (k >= ${K}) break;`);
  L.push(`    }`);
  L.push(`    const ${cs.map((c) => `c${c} = bias[${plus('j', c)}]`).join(', ')};`);
  for (const r of rs) L.push(`    ${cs.map((c) => `out[(o${r} + j + ${c}) | 0] = s${r}${c} + c${c};`).join(' ')}`);
  L.push(`  }`);
  L.push(`}`);
  return L;
}

const kernelCache = new Map<number, Kernels>();

/**
 * Runs each new kernel a few times on one block of zeros, start to end. Otherwise the first real call, long enough
 * to be optimised in the middle of its loop, gets code compiled before the lines after the loop ever ran; measured
 * on 256×256×1024, that left about one process in four at half speed (3.3–3.7 instead of 6.5 GFLOP/s).
 */
function warmUp(k: Kernels, K: number): void {
  const a = new Float32Array(3 * K), b = new Float32Array(8 * K), out = new Float32Array(3 * 8), bias = new Float32Array(8), ap = new Float64Array(3 * K);
  for (let r = 0; r < 3; r++) {
    k.rows3(a, 0, b, out, 0, 8, bias, ap, 0, 3);
    k.rows2(a, 0, b, out, 0, 8, bias, ap, 0, 4);
    k.row1(a, 0, b, out, 0, bias, 0, 8);
  }
}

/** The kernels for inner dimension K, compiled on first use. */
export function kernelsFor(K: number): Kernels {
  let k = kernelCache.get(K);
  if (!k) {
    k = new Function(kernelSource(K))() as Kernels;
    warmUp(k, K);
    kernelCache.set(K, k);
  }
  return k;
}

let zeros = new Float32Array(1024);
let packScratch = new Float64Array(3 * 1024);

/**
 * out[outOffset + i·N + j] = Σₖ a[aOffset + i·K + k]·b[j·K + k] + bias[j] for i < M, j < N (see the top of the
 * file for the arithmetic). Throws a RangeError when an operand is too short for the shape.
 */
export function matmulTransB(
  a: Float32Array, M: number, K: number,
  b: Float32Array, N: number,
  out: Float32Array,
  bias?: Float32Array,
  aOffset = 0, outOffset = 0,
): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) out[outOffset + i * N + j] = 0 + (bias ? bias[j] : 0);
    return;
  }
  if (aOffset + M * K > a.length || N * K > b.length || outOffset + M * N > out.length || (bias && bias.length < N)) {
    throw new RangeError('matmulTransB: operand too short for its shape');
  }
  bias ??= zerosFor(N);
  if (a.length > MAX_ELEMENTS || b.length > MAX_ELEMENTS || out.length > MAX_ELEMENTS) {
    // too large for the masked byte offsets (no published Marian checkpoint is): one dot product per output
    for (let i = 0; i < M; i++) tailColumns(a, aOffset + i * K, K, b, out, outOffset + i * N, bias, 0, N);
    return;
  }
  if (M >= 2 && packScratch.length < 3 * K) packScratch = new Float64Array(Math.max(3 * K, 2 * packScratch.length));
  matmulRows(kernelsFor(K), a, M, K, b, N, out, bias, aOffset, outOffset, 0, N, packScratch);
}

/** Rows [0, M) × columns [j0, j1) with the specialised kernels (operands already checked). */
function matmulRows(
  kern: Kernels, a: Float32Array, M: number, K: number, b: Float32Array, N: number, out: Float32Array, bias: Float32Array,
  aOffset: number, outOffset: number, j0: number, j1: number, ap: Float64Array,
): void {
  let i = 0;
  const e3 = j0 + Math.floor((j1 - j0) / 3) * 3, e4 = j0 + Math.floor((j1 - j0) / 4) * 4, e8 = j0 + Math.floor((j1 - j0) / 8) * 8;
  for (; i + 3 <= M; i += 3) {
    if (e3 > j0) kern.rows3(a, aOffset + i * K, b, out, outOffset + i * N, N, bias, ap, j0, e3);
    for (let r = 0; r < 3; r++) tailColumns(a, aOffset + (i + r) * K, K, b, out, outOffset + (i + r) * N, bias, e3, j1);
  }
  if (M - i === 2) {
    if (e4 > j0) kern.rows2(a, aOffset + i * K, b, out, outOffset + i * N, N, bias, ap, j0, e4);
    for (let r = 0; r < 2; r++) tailColumns(a, aOffset + (i + r) * K, K, b, out, outOffset + (i + r) * N, bias, e4, j1);
    i += 2;
  }
  for (; i < M; i++) {
    if (e8 > j0) kern.row1(a, aOffset + i * K, b, out, outOffset + i * N, bias, j0, e8);
    tailColumns(a, aOffset + i * K, K, b, out, outOffset + i * N, bias, e8, j1);
  }
}

/** Columns [j0, j1) of one row, one dot product each (the few columns left over by the blocked kernels). */
function tailColumns(a: Float32Array, aOff: number, K: number, b: Float32Array, out: Float32Array, oOff: number, bias: Float32Array, j0: number, j1: number): void {
  for (let j = j0; j < j1; j++) out[oOff + j] = dot(a, aOff, b, j * K, K) + bias[j];
}

/** Σₖ a[aOff + k]·b[bOff + k] in doubles, in increasing k from +0. */
function dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += a[aOff + k] * b[bOff + k];
  return s;
}

/**
 * Only columns [j0, j1) of matmulTransB's product (the rest of `out` is left as it is): one thread's share when a
 * product is split between threads. Same arithmetic, so the pieces together are bit-identical to the whole.
 */
export function matmulTransBColumns(
  a: Float32Array, M: number, K: number,
  b: Float32Array, N: number,
  out: Float32Array,
  bias: Float32Array | undefined,
  aOffset: number, outOffset: number,
  j0: number, j1: number,
): void {
  if (M <= 0 || j1 <= j0) return;
  if (!(j0 >= 0 && j1 <= N)) throw new RangeError('matmulTransBColumns: column range outside the product');
  if (aOffset + M * K > a.length || N * K > b.length || outOffset + M * N > out.length || (bias && bias.length < N)) {
    throw new RangeError('matmulTransBColumns: operand too short for its shape');
  }
  if (K <= 0 || a.length > MAX_ELEMENTS || b.length > MAX_ELEMENTS || out.length > MAX_ELEMENTS) {
    for (let i = 0; i < M; i++) tailColumns(a, aOffset + i * K, Math.max(K, 0), b, out, outOffset + i * N, bias ?? zerosFor(N), j0, j1);
    return;
  }
  if (M >= 2 && packScratch.length < 3 * K) packScratch = new Float64Array(Math.max(3 * K, 2 * packScratch.length));
  matmulRows(kernelsFor(K), a, M, K, b, N, out, bias ?? zerosFor(N), aOffset, outOffset, j0, j1, packScratch);
}

function zerosFor(N: number): Float32Array {
  if (zeros.length < N) zeros = new Float32Array(Math.max(N, 2 * zeros.length));
  return zeros;
}
