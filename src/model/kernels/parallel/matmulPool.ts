/**
 * Splits large matrix products between the calling thread and helper threads (worker_threads + SharedArrayBuffer):
 * each thread computes a range of output columns with the same kernels, so the result is bit-identical to the
 * single-threaded product. Weights must live in shared memory (the model loader puts them there); a product whose
 * weights do not, or that is too small to repay the hand-over, runs on the calling thread alone.
 *
 * The calling thread blocks (spins, then Atomics.wait) until its helpers finish: it is meant for the inference
 * worker, the CLI and benchmarks, never for a UI thread.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { matmulTransB, matmulTransBColumns } from '../matmul';
import { productAt, scratchBytes, type WasmMatmul } from '../wasm/wasmMatmul';
import * as protocol from './poolProtocol';
import { SplitBackOff, SplitBackOffOptions } from './splitBackOff';

// module-local copies: imported bindings can compile to getter calls, too slow for the waiting loop
const { BLOCK, DONE, FAILED, IDLE, NO_BIAS, POSTED, QUIT, WORKING, stateIndex } = protocol;
const { JOB_B, JOB_BIAS, JOB_CHUNK, JOB_CHUNKS, JOB_K, JOB_M, JOB_N, JOB_NEXT, JOB_SCRATCH, JOB_SEQ } = protocol;
const { JOB_A_AT, JOB_B_AT, JOB_BIAS_AT, JOB_FLOAT32, JOB_IL_AT, JOB_KIND, JOB_MEM, JOB_OUT_AT, JOB_PACK, JOB_PACK_STRIDE, KIND_JS, KIND_SIMD } = protocol;

/** Products with fewer multiply-adds than this stay on the calling thread (the hand-over costs a few µs). */
export const DEFAULT_MIN_WORK = 1 << 15;
/** Chunks are multiples of this many columns, so every chunk is whole kernel blocks (3, 4 and 8 wide). */
const ALIGN = 24;
/** Chunks per thread a product is cut into: enough to even out a helper that starts late. */
const CHUNKS_PER_THREAD = 6;
/** A helper that has not answered in this long is taken for dead: its columns are computed here instead. */
const HELPER_TIMEOUT_MS = 5000;

export interface MatmulPoolOptions {
  /** Threads in all, the calling one included (2 on a two-core machine); 1 means no helpers. */
  threads: number;
  minWork?: number;
  /**
   * How long an idle helper polls before it sleeps, ms (default 0.2: bridges the gaps between the products of a
   * decoding step; polling longer was no faster on a quiet machine and slower on a busy one).
   */
  spinMs?: number;
  /**
   * Whether the calling thread claims chunks too (default true). False leaves every chunk to the helpers and
   * waits for them: only for tests, which need the helpers' path taken every time.
   */
  callerClaims?: boolean;
  /** Tuning of the back-off on a busy machine; false never backs off (tests that count splits). */
  backOff?: SplitBackOffOptions | false;
}

/** The product signature the model calls: matmulTransB's. */
export type MatmulFn = (
  a: Float32Array, M: number, K: number, b: Float32Array, N: number, out: Float32Array,
  bias?: Float32Array, aOffset?: number, outOffset?: number,
) => void;

interface Helper {
  worker: Worker;
  port: MessagePort;
}

function cores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** Threads to use by default: every core, at most 4 (beyond that the split products are too small to gain). */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, cores()));
}

/**
 * The thread count for a requested one: absent or 0 means the default; more threads than cores are cut to the
 * cores, because waiting threads poll and would take the CPU from the ones doing the work.
 */
export function resolveThreads(requested: number | undefined): number {
  if (!requested || !(requested > 0)) return defaultThreads();
  return Math.max(1, Math.min(Math.floor(requested), cores()));
}

/** Whether an array's memory can be handed to another thread without copying. */
export function isShared(x: Float32Array): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && x.buffer instanceof SharedArrayBuffer;
}

/** A Float32Array of n zeros in shared memory. */
export function sharedFloat32(n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(n * 4));
}

export class MatmulPool {
  readonly threads: number;
  private readonly helpers: Helper[] = [];
  private readonly ctl: Int32Array;
  private readonly minWork: number;
  private ids = new WeakMap<Float32Array, number>();
  private nextId = 0;
  private seq = 0;
  private scratchGen = 0;
  private scratchA = sharedFloat32(0);
  private scratchOut = sharedFloat32(0);
  private owner = new Int32Array(new SharedArrayBuffer(4));
  /** Chunks the calling thread computed itself in the current product. */
  private mine = new Uint8Array(1);
  private broken = false;
  private closed = false;
  /** Stops splitting for a while when the helpers keep the caller waiting (a busy machine): see splitBackOff. */
  private readonly backOff: SplitBackOff;
  private readonly callerClaims: boolean;
  /** Products split so far, and chunks of them that helpers computed (for tests and the benchmark). */
  splitCount = 0;
  helperChunks = 0;

  constructor(opts: MatmulPoolOptions) {
    const helpers = Math.max(0, Math.floor(opts.threads) - 1);
    this.minWork = opts.minWork ?? DEFAULT_MIN_WORK;
    this.callerClaims = opts.callerClaims ?? true;
    this.backOff = new SplitBackOff(opts.backOff === false ? { window: Infinity } : opts.backOff);
    this.ctl = new Int32Array(new SharedArrayBuffer((helpers + 1) * BLOCK * 4));
    for (let h = 0; h < helpers; h++) {
      const { port1, port2 } = new MessageChannel();
      const data: protocol.HelperData = { control: this.ctl.buffer as SharedArrayBuffer, index: h, port: port2, spinMs: opts.spinMs ?? 0.2 };
      const worker = startHelper(data, [port2]);
      worker.unref(); // never keeps the process alive
      worker.on('error', () => { this.broken = true; });
      worker.on('exit', () => { this.broken = true; });
      this.helpers.push({ worker, port: port1 as unknown as MessagePort });
    }
    this.threads = 1 + this.helpers.length;
  }

  /** matmulTransB, split over the pool's threads when it is worth it. Bound, so it can be passed around. */
  readonly matmul: MatmulFn = (a, rows, inner, b, cols, out, bias, aOffset = 0, outOffset = 0) => {
    if (this.helpers.length === 0 || this.broken || this.closed || rows * cols * inner < this.minWork || cols < 2 * ALIGN
      || !isShared(b) || (bias && !isShared(bias)) || aOffset + rows * inner > a.length || outOffset + rows * cols > out.length) {
      matmulTransB(a, rows, inner, b, cols, out, bias, aOffset, outOffset);
      return;
    }
    const t0 = performance.now();
    if (!this.backOff.allows(t0)) {
      matmulTransB(a, rows, inner, b, cols, out, bias, aOffset, outOffset);
      return;
    }
    const chunk = Math.max(ALIGN, Math.ceil(cols / (this.threads * CHUNKS_PER_THREAD) / ALIGN) * ALIGN);
    const chunks = Math.ceil(cols / chunk);
    const bId = this.idOf(b), biasId = bias ? this.idOf(bias) : NO_BIAS;
    this.ensureScratch(rows * inner, rows * cols, chunks);
    this.scratchA.set(a.subarray(aOffset, aOffset + rows * inner));
    const c = this.ctl, seq = (this.seq = (this.seq + 1) | 0 || 1); // never 0, the value of a fresh owner array
    c[JOB_SEQ] = seq; c[JOB_M] = rows; c[JOB_K] = inner; c[JOB_N] = cols; c[JOB_CHUNK] = chunk; c[JOB_CHUNKS] = chunks;
    c[JOB_B] = bId; c[JOB_BIAS] = biasId; c[JOB_SCRATCH] = this.scratchGen; c[JOB_KIND] = KIND_JS;
    Atomics.store(c, JOB_NEXT, 0);
    for (let h = 0; h < this.helpers.length; h++) this.post(h);
    // claim chunks alongside the helpers, straight into `out`
    const mine = this.mine;
    mine.fill(0, 0, chunks);
    for (let k = this.callerClaims ? Atomics.add(c, JOB_NEXT, 1) : chunks; k < chunks; k = Atomics.add(c, JOB_NEXT, 1)) {
      matmulTransBColumns(a, rows, inner, b, cols, out, bias, aOffset, outOffset, k * chunk, Math.min(cols, (k + 1) * chunk));
      mine[k] = 1;
    }
    const t1 = performance.now();
    for (let h = 0; h < this.helpers.length; h++) {
      if (!this.callerClaims) this.waitWhile(h, POSTED);
      if (this.finish(h) !== DONE) this.broken = true; // from now on this thread works alone
    }
    if (this.callerClaims) {
      const t2 = performance.now();
      this.backOff.record(t1 - t0, t2 - t1, t2);
    }
    for (let k = 0; k < chunks; k++) {
      if (mine[k]) continue;
      const j0 = k * chunk, j1 = Math.min(cols, j0 + chunk);
      if (this.owner[k] === seq) {
        this.helperChunks++;
        for (let i = 0; i < rows; i++) out.set(this.scratchOut.subarray(i * cols + j0, i * cols + j1), outOffset + i * cols + j0);
      } else {
        // claimed by a helper that failed or timed out
        matmulTransBColumns(a, rows, inner, b, cols, out, bias, aOffset, outOffset, j0, j1);
      }
    }
    this.splitCount++;
  };

  /**
   * The product to use with a model's kernel: `matmul` for the JavaScript kernels; for the SIMD ones (weights in
   * `simd`'s WebAssembly memory), a product split the same way whose every thread runs the SIMD kernel on that
   * memory (the helpers get the memory and the compiled module once).
   */
  matmulFor(simd: WasmMatmul | undefined): MatmulFn {
    if (!simd) return this.matmul;
    if (this.simd?.kernel !== simd) {
      const id = this.nextId++;
      this.simd = { kernel: simd, id, fn: (a, rows, inner, b, cols, out, bias, aOffset = 0, outOffset = 0) => this.splitSimd(simd, id, a, rows, inner, b, cols, out, bias, aOffset, outOffset), a: 0, aFloats: 0, out: 0, outFloats: 0, pack: 0, packStride: 0 };
      const msg: protocol.PoolMessage = { kind: 'memory', id, memory: simd.arena.memory, module: simd.module };
      for (let h = 0; h < this.helpers.length; h++) this.send(h, msg);
    }
    return this.simd.fn;
  }

  private simd?: {
    kernel: WasmMatmul; id: number; fn: MatmulFn;
    /** Scratch in the WebAssembly memory: the left operand, the whole output, and each thread's packed rows. */
    a: number; aFloats: number; out: number; outFloats: number; pack: number; packStride: number;
  };

  /** matmulFor's SIMD product: as `matmul`, every operand in the memory, the output copied out once at the end. */
  private splitSimd(
    k: WasmMatmul, memId: number, a: Float32Array, rows: number, inner: number, b: Float32Array, cols: number, out: Float32Array,
    bias: Float32Array | undefined, aOffset: number, outOffset: number,
  ): void {
    const bAt = k.arena.addressOf(b), biasAt = bias ? k.arena.addressOf(bias) : k.zeroBias(cols);
    if (this.helpers.length === 0 || this.broken || this.closed || rows * cols * inner < this.minWork || cols < 2 * ALIGN
      || bAt < 0 || biasAt < 0 || (bias && bias.length < cols) || aOffset + rows * inner > a.length || outOffset + rows * cols > out.length || cols * inner > b.length) {
      k.matmul(a, rows, inner, b, cols, out, bias, aOffset, outOffset);
      return;
    }
    const t0 = performance.now();
    if (!this.backOff.allows(t0)) {
      k.matmul(a, rows, inner, b, cols, out, bias, aOffset, outOffset);
      return;
    }
    const s = this.simd!;
    const float32 = k.usesFloat32(inner), il = float32 ? 0 : k.interleavedAt(bAt, cols, inner, rows); // first: it may grow the memory
    const chunk = Math.max(ALIGN, Math.ceil(cols / (this.threads * CHUNKS_PER_THREAD) / ALIGN) * ALIGN);
    const chunks = Math.ceil(cols / chunk);
    this.ensureScratch(0, 0, chunks);
    if (s.aFloats < rows * inner) s.a = k.arena.alloc(4 * (s.aFloats = Math.max(rows * inner, 2 * s.aFloats)));
    if (s.outFloats < rows * cols) s.out = k.arena.alloc(4 * (s.outFloats = Math.max(rows * cols, 2 * s.outFloats)));
    if (s.packStride < scratchBytes(rows, inner)) {
      s.packStride = Math.max(scratchBytes(rows, inner), 2 * s.packStride); // each thread's packed rows and panel
      s.pack = k.arena.alloc(s.packStride * this.threads);
    }
    new Float32Array(k.arena.buffer, s.a, rows * inner).set(a.subarray(aOffset, aOffset + rows * inner));
    const c = this.ctl, seq = (this.seq = (this.seq + 1) | 0 || 1);
    c[JOB_SEQ] = seq; c[JOB_M] = rows; c[JOB_K] = inner; c[JOB_N] = cols; c[JOB_CHUNK] = chunk; c[JOB_CHUNKS] = chunks;
    c[JOB_SCRATCH] = this.scratchGen; c[JOB_KIND] = KIND_SIMD; c[JOB_MEM] = memId;
    c[JOB_A_AT] = s.a | 0; c[JOB_B_AT] = bAt | 0; c[JOB_BIAS_AT] = biasAt | 0; c[JOB_OUT_AT] = s.out | 0;
    c[JOB_PACK] = s.pack | 0; c[JOB_PACK_STRIDE] = s.packStride; c[JOB_IL_AT] = il | 0; c[JOB_FLOAT32] = float32 ? 1 : 0;
    Atomics.store(c, JOB_NEXT, 0);
    for (let h = 0; h < this.helpers.length; h++) this.post(h);
    const mine = this.mine, myPack = s.pack + this.helpers.length * s.packStride;
    mine.fill(0, 0, chunks);
    for (let n = this.callerClaims ? Atomics.add(c, JOB_NEXT, 1) : chunks; n < chunks; n = Atomics.add(c, JOB_NEXT, 1)) {
      productAt(k.exports, s.a, rows, inner, bAt, cols, s.out, biasAt, n * chunk, Math.min(cols, (n + 1) * chunk), myPack, il, float32);
      mine[n] = 1;
    }
    const t1 = performance.now();
    for (let h = 0; h < this.helpers.length; h++) {
      if (!this.callerClaims) this.waitWhile(h, POSTED);
      if (this.finish(h) !== DONE) this.broken = true;
    }
    if (this.callerClaims) {
      const t2 = performance.now();
      this.backOff.record(t1 - t0, t2 - t1, t2);
    }
    for (let n = 0; n < chunks; n++) {
      if (mine[n]) continue;
      if (this.owner[n] === seq) this.helperChunks++;
      else productAt(k.exports, s.a, rows, inner, bAt, cols, s.out, biasAt, n * chunk, Math.min(cols, (n + 1) * chunk), myPack, il, float32); // a helper failed
    }
    out.set(new Float32Array(k.arena.buffer, s.out, rows * cols), outOffset);
    this.splitCount++;
  }

  /** Times the pool stopped splitting because its helpers kept the caller waiting (see splitBackOff). */
  get backOffs(): number {
    return this.backOff.count;
  }

  /** False once a helper died or the pool was closed: products then run on the calling thread only. */
  get usable(): boolean {
    return !this.broken && !this.closed;
  }

  /** Forgets the registered tensors (call when the model they belong to is dropped, so its memory can go). */
  clear(): void {
    if (this.broken || this.closed) return;
    this.ids = new WeakMap();
    this.simd = undefined;
    this.ctl[JOB_M] = 0; // a job without work: helpers just read their messages
    for (let h = 0; h < this.helpers.length; h++) {
      this.send(h, { kind: 'clear' });
      this.post(h);
      let s = this.waitWhile(h, POSTED);
      if (s === WORKING) s = this.waitWhile(h, WORKING);
      if (s !== DONE) this.broken = true;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (let h = 0; h < this.helpers.length; h++) {
      Atomics.store(this.ctl, stateIndex(h), QUIT);
      Atomics.notify(this.ctl, stateIndex(h));
    }
    await Promise.all(this.helpers.map((x) => x.worker.terminate()));
  }

  private post(h: number): void {
    Atomics.store(this.ctl, stateIndex(h), POSTED);
    Atomics.notify(this.ctl, stateIndex(h));
  }

  /**
   * Ends helper h's part in the current product: withdraws the job if it has not taken it yet (IDLE), else waits
   * until it is DONE or FAILED (or times out, reported as FAILED).
   */
  private finish(h: number): number {
    const i = stateIndex(h);
    if (Atomics.compareExchange(this.ctl, i, POSTED, IDLE) === POSTED) return DONE;
    const s = this.waitWhile(h, WORKING);
    return s === WORKING ? FAILED : s;
  }

  /** Waits while helper h's state is `state`: spins briefly, then sleeps on it; returns the state seen last. */
  private waitWhile(h: number, state: number): number {
    const i = stateIndex(h);
    for (let spin = 0; spin < 20000; spin++) {
      const s = Atomics.load(this.ctl, i);
      if (s !== state) return s;
    }
    const deadline = performance.now() + HELPER_TIMEOUT_MS;
    for (;;) {
      const s = Atomics.load(this.ctl, i);
      if (s !== state || performance.now() > deadline) return s;
      Atomics.wait(this.ctl, i, state, 50);
    }
  }

  /** The id helpers know `t` by, handing it to them on first use. */
  private idOf(t: Float32Array): number {
    let id = this.ids.get(t);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(t, id);
      for (let h = 0; h < this.helpers.length; h++) this.send(h, { kind: 'tensor', id, data: t });
    }
    return id;
  }

  private ensureScratch(aLen: number, outLen: number, chunks: number): void {
    if (this.mine.length < chunks) this.mine = new Uint8Array(Math.max(chunks, 2 * this.mine.length));
    if (this.scratchA.length >= aLen && this.scratchOut.length >= outLen && this.owner.length >= chunks) return;
    this.scratchA = sharedFloat32(Math.max(aLen, this.scratchA.length));
    this.scratchOut = sharedFloat32(Math.max(outLen, this.scratchOut.length));
    this.owner = new Int32Array(new SharedArrayBuffer(4 * Math.max(chunks, 2 * this.owner.length)));
    this.scratchGen++;
    const msg: protocol.PoolMessage = { kind: 'scratch', gen: this.scratchGen, a: this.scratchA, out: this.scratchOut, owner: this.owner };
    for (let h = 0; h < this.helpers.length; h++) this.send(h, msg);
  }

  private send(h: number, msg: protocol.PoolMessage): void {
    this.helpers[h].port.postMessage(msg);
  }
}

/**
 * Starts one helper: dist/matmulHelper.js beside the bundle that runs this code, or the TypeScript source through
 * tsx when running from source (tests, benchmarks).
 */
function startHelper(data: protocol.HelperData, transfer: unknown[]): Worker {
  const opts = { workerData: data, transferList: transfer as never[], name: 'attention-lens-matmul' };
  const bundled = path.join(__dirname, 'matmulHelper.js');
  if (fs.existsSync(bundled)) return new Worker(bundled, opts);
  const source = path.join(__dirname, 'matmulHelper.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { ...opts, eval: true });
}

