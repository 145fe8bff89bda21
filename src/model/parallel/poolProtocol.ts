/**
 * What the matmul pool's main side and its helper threads share: one control slot per helper in an Int32Array
 * over a SharedArrayBuffer (the job's shape and the handshake), and the messages that hand over shared arrays.
 */
import type { MessagePort } from 'node:worker_threads';

/** Int32 entries per helper slot: 32 × 4 bytes keeps two helpers' slots off each other's cache lines. */
export const SLOT = 32;

/** Offsets inside a slot. */
export const STATE = 0, M = 1, K = 2, N = 3, J0 = 4, J1 = 5, B_ID = 6, BIAS_ID = 7, SCRATCH_GEN = 8;

/** Values of STATE. A helper waits while it is IDLE or DONE, works on POSTED, leaves on QUIT. */
export const IDLE = 0, POSTED = 1, DONE = 2, FAILED = 3, QUIT = 4;

/** No bias: the helper uses zeros. */
export const NO_BIAS = -1;

/** Main → helper, through the helper's MessagePort (read synchronously with receiveMessageOnPort). */
export type PoolMessage =
  /** A weight tensor (a view into shared memory) the helper may be asked to multiply by. */
  | { kind: 'tensor'; id: number; data: Float32Array }
  /** The scratch arrays jobs read their left operand from and write their columns to (replaced when grown). */
  | { kind: 'scratch'; gen: number; a: Float32Array; out: Float32Array }
  /** Forget every tensor (the model they belonged to was dropped). */
  | { kind: 'clear' };

export interface HelperData {
  control: SharedArrayBuffer;
  /** This helper's slot index. */
  slot: number;
  port: MessagePort;
  /** How long a helper keeps polling for the next job before it sleeps (ms). */
  spinMs: number;
}
