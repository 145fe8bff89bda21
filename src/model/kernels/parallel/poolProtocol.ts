/**
 * What the matmul pool's main side and its helper threads share: an Int32Array over a SharedArrayBuffer holding the
 * current job (block 0) and one state word per helper (blocks 1…), and the messages that hand over shared arrays.
 *
 * A job's output columns are cut into chunks; every thread, the caller included, claims the next chunk with
 * Atomics.add on JOB_NEXT until none is left, so a helper that wakes late simply gets fewer chunks (or none), and the
 * caller never waits for a helper that has not started: it withdraws the job with compareExchange(POSTED → IDLE).
 */
import type { MessagePort } from 'node:worker_threads';

/** Int32 entries per block: 32 × 4 bytes keeps blocks off each other's cache lines. */
export const BLOCK = 32;

/** The job block (block 0). */
export const JOB_NEXT = 0, JOB_SEQ = 1, JOB_M = 2, JOB_K = 3, JOB_N = 4, JOB_CHUNK = 5, JOB_CHUNKS = 6, JOB_B = 7,
  JOB_BIAS = 8, JOB_SCRATCH = 9;
/**
 * SIMD jobs (JOB_KIND = KIND_SIMD): every operand is in the WebAssembly memory JOB_MEM, given by byte address
 * (stored as int32, read back with >>> 0); helper h packs its rows at JOB_PACK + h · JOB_PACK_STRIDE. JOB_IL_AT: B's
 * interleaved copy (0: none). JOB_FLOAT32: 1 when the product runs on the float32 kernels.
 */
export const JOB_KIND = 10, JOB_MEM = 11, JOB_A_AT = 12, JOB_B_AT = 13, JOB_BIAS_AT = 14, JOB_OUT_AT = 15, JOB_PACK = 16,
  JOB_PACK_STRIDE = 17, JOB_IL_AT = 18, JOB_FLOAT32 = 19;
export const KIND_JS = 0, KIND_SIMD = 1;

/** Index of helper h's state word. */
export const stateIndex = (h: number): number => (h + 1) * BLOCK;

/** Helper states. It waits while IDLE or DONE, takes a POSTED job by moving it to WORKING, leaves on QUIT. */
export const IDLE = 0, POSTED = 1, WORKING = 2, DONE = 3, FAILED = 4, QUIT = 5;

/** No bias: the helper uses zeros. */
export const NO_BIAS = -1;

/** Main → helper, through the helper's MessagePort (read synchronously with receiveMessageOnPort). */
export type PoolMessage =
  /** A weight tensor (a view into shared memory) the helper may be asked to multiply by. */
  | { kind: 'tensor'; id: number; data: Float32Array }
  /**
   * The scratch arrays jobs read their left operand from and write their columns to, and `owner`, where a helper
   * records the job sequence number of each chunk it computed (replaced when grown).
   */
  | { kind: 'scratch'; gen: number; a: Float32Array; out: Float32Array; owner: Int32Array }
  /** A WebAssembly memory SIMD jobs may name, with the compiled kernels to instantiate over it. */
  | { kind: 'memory'; id: number; memory: WebAssembly.Memory; module: WebAssembly.Module }
  /** Forget every tensor and memory (the model they belonged to was dropped). */
  | { kind: 'clear' };

export interface HelperData {
  control: SharedArrayBuffer;
  /** This helper's index. */
  index: number;
  port: MessagePort;
  /** How long a helper keeps polling for the next job before it sleeps (ms). */
  spinMs: number;
}
