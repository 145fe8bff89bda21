/**
 * The typed message protocol between the extension host (`src/host/modelClient.ts`) and the inference
 * worker (`src/worker/inferenceWorker.ts`). Everything here is plain data plus tiny helpers, so both
 * sides (and the unit tests) can import it without pulling in `vscode` or the model engine.
 *
 * Flow: the host sends at most one request at a time and waits for its response. While a request
 * runs the worker's event loop is busy with synchronous model code, so cancellation does not travel
 * as a message: the host writes the request id into a shared Int32 slot (`CANCEL_SLOT`) and the
 * worker polls it through the engine's `shouldStop` hook.
 */
import { isAttentionKind } from '../shared/attention';
import { ATTENTION_KINDS, type Explanation, type ModelSummary } from '../shared/explanation';
import type { Trace, TraceSide } from '../shared/trace';
import type { KernelSetting, Precision } from '../model/kernels/kernelChoice';

/** Passed as `workerData` when the worker is spawned. */
export interface WorkerInit {
  /** Int32Array view target: slot CANCEL_SLOT holds the id of the request that should stop. */
  cancelBuffer: SharedArrayBuffer;
}

export const CANCEL_SLOT = 0;
export const CANCEL_BUFFER_BYTES = Int32Array.BYTES_PER_ELEMENT * 1;

export interface ModelRef {
  /** Absolute path of the model folder. */
  dir: string;
  /** Display name for the summary ("bundled" for the checkpoint shipped with the extension). */
  name?: string;
  /** attentionLens.kernel: the matrix-product kernels, decided at load (absent: auto). */
  kernel?: KernelSetting;
  /** attentionLens.kernelPrecision: how the SIMD kernels sum, decided at load (absent: the default). */
  precision?: Precision;
}

/** The one identity of a model (the worker's cache, the host's "is it loaded?", every result cache). */
export function modelKey(ref: ModelRef): string {
  return `${ref.dir}\u0000${ref.name ?? ''}\u0000${ref.kernel ?? 'auto'}\u0000${ref.precision ?? ''}`;
}

export interface ExplainParams {
  numBeams?: number;
  topK?: number;
  maxSourceTokens?: number;
  maxNewTokens?: number;
  /** `>>xx<<` target language of a multilingual model. */
  targetLanguage?: string;
  /** Threads for the matrix products, this worker's own included (absent or 0: every core, at most 4). */
  threads?: number;
  /** Score this translation (teacher forcing) instead of generating one. */
  target?: string;
  /** A branch: these target ids (after the start token) are given, then greedy decoding continues. */
  forcedPrefix?: number[];
  /** Compute the decoder's logit lens (default true; the hover and the side view don't show it). */
  logitLens?: boolean;
}

export interface TranslateParams {
  numBeams?: number;
  maxNewTokens?: number;
  targetLanguage?: string;
  threads?: number;
}

// ---- host → worker ---------------------------------------------------------------------------------
export type WorkerRequest =
  | { type: 'load'; id: number; model: ModelRef }
  | { type: 'explain'; id: number; model: ModelRef; text: string; params: ExplainParams }
  | { type: 'translate'; id: number; model: ModelRef; text: string; params: TranslateParams }
  /** The walk-through: one token of an explained sentence (its source and target ids) followed through the model. */
  | { type: 'trace'; id: number; model: ModelRef; sourceIds: number[]; targetIds: number[]; side: TraceSide; token: number };

/** What a request without its id looks like when the host submits it. */
export type WorkerRequestBody = DistributiveOmitId<WorkerRequest>;
type DistributiveOmitId<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface LoadedInfo {
  folder: string;
  /** The kernels the model runs on, and why not the ones asked for (one line), if so. */
  kernel?: { path: 'simd' | 'js'; precision?: Precision; note?: string };
  summary: ModelSummary;
  maxSourceTokens: number;
  loadMs: number;
}

export type ErrorKind = 'cancelled' | 'model' | 'input' | 'internal' | 'crashed';

export interface WorkerErrorInfo {
  kind: ErrorKind;
  message: string;
  /** For kind 'model': the offending file and what is wrong with it. */
  file?: string;
  problem?: string;
}

// ---- worker → host ---------------------------------------------------------------------------------
export type WorkerResponse =
  | { type: 'loaded'; id: number; info: LoadedInfo }
  | { type: 'explained'; id: number; info: LoadedInfo; explanation: Explanation }
  | { type: 'translated'; id: number; info: LoadedInfo; text: string; ids: number[] }
  | { type: 'traced'; id: number; info: LoadedInfo; trace: Trace }
  | { type: 'failed'; id: number; error: WorkerErrorInfo };

/**
 * Worker side: the explanation with its big arrays (attention weights, positional values) copied into shared memory.
 * Structured cloning then hands the host the same memory without copying or deserialising anything, so receiving
 * even a large model's explanation never stalls the extension host's thread.
 *
 * Not transferred ArrayBuffers: once a thread has detached any ArrayBuffer, V8's optimised code there checks every
 * typed-array access for detachment, which made the worker's matmul kernels ~25 % slower for the rest of its life.
 */
export function shareExplanation(e: Explanation): Explanation {
  const share = (values: Float32Array): Float32Array => {
    const f = new Float32Array(new SharedArrayBuffer(values.byteLength));
    f.set(values);
    return f;
  };
  const attentions = { ...e.attentions };
  for (const k of ATTENTION_KINDS) attentions[k] = { ...e.attentions[k], weights: share(e.attentions[k].weights) };
  return { ...e, attentions, positional: { ...e.positional, values: share(e.positional.values) } };
}

/** Host side: checks every array's size against the explanation's dimensions (a broken worker must not crash the views). */
export function checkExplanation(e: Explanation): Explanation {
  const check = (ok: boolean, what: string): void => {
    if (!ok) throw new Error(`malformed explanation from the model worker (${what})`);
  };
  check(typeof e === 'object' && e !== null && typeof e.attentions === 'object' && e.attentions !== null, 'no attentions');
  for (const k of ATTENTION_KINDS) check(isAttentionKind(e.attentions[k]), `${k} attention`);
  const p = e.positional;
  check(typeof p === 'object' && p !== null && p.values instanceof Float32Array && p.values.length === p.positions * p.dModel, 'positional encodings');
  return e;
}

/** Maps a request type to the successful response the host resolves with. */
export interface ResponseFor {
  load: Extract<WorkerResponse, { type: 'loaded' }>;
  explain: Extract<WorkerResponse, { type: 'explained' }>;
  translate: Extract<WorkerResponse, { type: 'translated' }>;
  trace: Extract<WorkerResponse, { type: 'traced' }>;
}

/** The error every failed or cancelled request rejects with on the host side. */
export class ModelRequestError extends Error {
  readonly kind: ErrorKind;
  readonly file?: string;
  readonly problem?: string;
  constructor(info: WorkerErrorInfo) {
    super(info.message);
    this.name = 'ModelRequestError';
    this.kind = info.kind;
    this.file = info.file;
    this.problem = info.problem;
  }
}

export function isCancelled(err: unknown): boolean {
  return err instanceof ModelRequestError && err.kind === 'cancelled';
}

/** Runtime check for messages arriving from the worker (defensive: a broken worker must not crash the host). */
export function isWorkerResponse(raw: unknown): raw is WorkerResponse {
  if (typeof raw !== 'object' || raw === null) return false;
  const m = raw as Record<string, unknown>;
  if (!Number.isInteger(m.id)) return false;
  switch (m.type) {
    case 'loaded':
      return typeof m.info === 'object' && m.info !== null;
    case 'explained':
      return typeof m.info === 'object' && m.info !== null && typeof m.explanation === 'object' && m.explanation !== null;
    case 'translated':
      return typeof m.text === 'string' && Array.isArray(m.ids);
    case 'traced':
      return typeof m.info === 'object' && m.info !== null && typeof m.trace === 'object' && m.trace !== null;
    case 'failed': {
      const e = m.error as Record<string, unknown> | null;
      return typeof e === 'object' && e !== null && typeof e.kind === 'string' && typeof e.message === 'string';
    }
    default:
      return false;
  }
}
