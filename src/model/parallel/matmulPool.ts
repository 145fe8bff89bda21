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
import {
  B_ID, BIAS_ID, DONE, IDLE, J0, J1, K, M, N, NO_BIAS, POSTED, QUIT, SCRATCH_GEN, SLOT, STATE,
  type HelperData, type PoolMessage,
} from './poolProtocol';

/** Products with fewer multiply-adds than this stay on the calling thread (the hand-over costs a few µs). */
export const DEFAULT_MIN_WORK = 1 << 15;
/** Column ranges are multiples of this, so every thread's share is whole kernel blocks (3, 4 and 8 wide). */
const ALIGN = 24;
/** A helper that has not answered in this long is taken for dead: its columns are computed here instead. */
const HELPER_TIMEOUT_MS = 5000;

export interface MatmulPoolOptions {
  /** Threads in all, the calling one included (2 on a two-core machine); 1 means no helpers. */
  threads: number;
  minWork?: number;
  /** How long an idle helper polls before it sleeps, ms (default 2). */
  spinMs?: number;
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
  private scratchGen = 0;
  private scratchA = sharedFloat32(0);
  private scratchOut = sharedFloat32(0);
  private broken = false;
  private closed = false;
  /** Products split so far (for tests and the benchmark). */
  splitCount = 0;

  constructor(opts: MatmulPoolOptions) {
    const helpers = Math.max(0, Math.floor(opts.threads) - 1);
    this.minWork = opts.minWork ?? DEFAULT_MIN_WORK;
    this.ctl = new Int32Array(new SharedArrayBuffer(Math.max(1, helpers) * SLOT * 4));
    for (let h = 0; h < helpers; h++) {
      const { port1, port2 } = new MessageChannel();
      const data: HelperData = { control: this.ctl.buffer as SharedArrayBuffer, slot: h, port: port2, spinMs: opts.spinMs ?? 2 };
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
    const bId = this.idOf(b), biasId = bias ? this.idOf(bias) : NO_BIAS;
    this.ensureScratch(rows * inner, rows * cols);
    this.scratchA.set(a.subarray(aOffset, aOffset + rows * inner));
    // Shares: the calling thread takes [0, cuts[0]), helper h takes [cuts[h], cuts[h + 1]).
    const parts = this.helpers.length + 1;
    const share = Math.ceil(cols / parts / ALIGN) * ALIGN;
    const cuts: number[] = [];
    for (let p = 1; p <= parts; p++) cuts.push(Math.min(cols, p * share));
    const posted: number[] = [];
    for (let h = 0; h < this.helpers.length; h++) {
      const j0 = cuts[h], j1 = cuts[h + 1];
      if (j1 <= j0) break;
      const s = h * SLOT, c = this.ctl;
      c[s + M] = rows; c[s + K] = inner; c[s + N] = cols; c[s + J0] = j0; c[s + J1] = j1;
      c[s + B_ID] = bId; c[s + BIAS_ID] = biasId; c[s + SCRATCH_GEN] = this.scratchGen;
      Atomics.store(c, s + STATE, POSTED);
      Atomics.notify(c, s + STATE);
      posted.push(h);
    }
    matmulTransBColumns(a, rows, inner, b, cols, out, bias, aOffset, outOffset, 0, cuts[0]);
    for (const h of posted) {
      const j0 = cuts[h], j1 = cuts[h + 1];
      if (this.waitFor(h) === DONE) {
        for (let i = 0; i < rows; i++) out.set(this.scratchOut.subarray(i * cols + j0, i * cols + j1), outOffset + i * cols + j0);
      } else {
        this.broken = true; // compute the missing columns here and stop using helpers
        matmulTransBColumns(a, rows, inner, b, cols, out, bias, aOffset, outOffset, j0, j1);
      }
    }
    this.splitCount++;
  };

  /** False once a helper died or the pool was closed: products then run on the calling thread only. */
  get usable(): boolean {
    return !this.broken && !this.closed;
  }

  /** Forgets the registered tensors (call when the model they belong to is dropped, so its memory can go). */
  clear(): void {
    if (this.broken || this.closed) return;
    this.ids = new WeakMap();
    for (let h = 0; h < this.helpers.length; h++) {
      this.send(h, { kind: 'clear' });
      const s = h * SLOT;
      this.ctl[s + M] = 0; // a job without work: the helper just reads its messages
      Atomics.store(this.ctl, s + STATE, POSTED);
      Atomics.notify(this.ctl, s + STATE);
      if (this.waitFor(h) !== DONE) this.broken = true;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (let h = 0; h < this.helpers.length; h++) {
      Atomics.store(this.ctl, h * SLOT + STATE, QUIT);
      Atomics.notify(this.ctl, h * SLOT + STATE);
    }
    await Promise.all(this.helpers.map((x) => x.worker.terminate()));
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

  private ensureScratch(aLen: number, outLen: number): void {
    if (this.scratchA.length >= aLen && this.scratchOut.length >= outLen) return;
    this.scratchA = sharedFloat32(Math.max(aLen, this.scratchA.length));
    this.scratchOut = sharedFloat32(Math.max(outLen, this.scratchOut.length));
    this.scratchGen++;
    for (let h = 0; h < this.helpers.length; h++) this.send(h, { kind: 'scratch', gen: this.scratchGen, a: this.scratchA, out: this.scratchOut });
  }

  private send(h: number, msg: PoolMessage): void {
    this.helpers[h].port.postMessage(msg);
  }

  /** Waits for helper h to leave POSTED: spins briefly, then sleeps on the slot; DONE, FAILED or IDLE on timeout. */
  private waitFor(h: number): number {
    const i = h * SLOT + STATE;
    for (let spin = 0; spin < 20000; spin++) {
      const s = Atomics.load(this.ctl, i);
      if (s !== POSTED) return s;
    }
    const deadline = performance.now() + HELPER_TIMEOUT_MS;
    for (;;) {
      const s = Atomics.load(this.ctl, i);
      if (s !== POSTED) return s;
      if (performance.now() > deadline) return IDLE;
      Atomics.wait(this.ctl, i, POSTED, 50);
    }
  }
}

/**
 * Starts one helper: dist/matmulHelper.js beside the bundle that runs this code, or the TypeScript source through
 * tsx when running from source (tests, benchmarks).
 */
function startHelper(data: HelperData, transfer: unknown[]): Worker {
  const opts = { workerData: data, transferList: transfer as never[], name: 'attention-lens-matmul' };
  const bundled = path.join(__dirname, 'matmulHelper.js');
  if (fs.existsSync(bundled)) return new Worker(bundled, opts);
  const source = path.join(__dirname, 'matmulHelper.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { ...opts, eval: true });
}

