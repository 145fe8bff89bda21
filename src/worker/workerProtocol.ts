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
import type { Explanation, ModelSummary } from '../shared/explanation';

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
  | { type: 'translate'; id: number; model: ModelRef; text: string; params: TranslateParams };

/** What a request without its id looks like when the host submits it. */
export type WorkerRequestBody = DistributiveOmitId<WorkerRequest>;
type DistributiveOmitId<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface LoadedInfo {
  folder: string;
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
  | { type: 'explained'; id: number; info: LoadedInfo; explanation: Explanation; numbers?: PackedNumbers }
  | { type: 'translated'; id: number; info: LoadedInfo; text: string; ids: number[] }
  | { type: 'failed'; id: number; error: WorkerErrorInfo };

/**
 * The large numeric arrays of an Explanation (every attention matrix, the positional values), moved out of it so
 * they cross the thread boundary as Float64Arrays in shared memory. Structured-cloning them as number[] makes the
 * receiving thread (the extension host) deserialize millions of numbers in one go: 100 ms and more for a 256-token
 * sentence, seconds for a large model. Shared memory crosses without a copy, and `unpackExplanation` rebuilds the
 * arrays in slices between event-loop turns. Float64 keeps every value exactly.
 *
 * Not transferred ArrayBuffers: once a thread has detached any ArrayBuffer, V8's optimised code there checks every
 * typed-array access for detachment, which made the worker's matmul kernels ~25 % slower for the rest of its life.
 */
export interface PackedNumbers {
  encoder: Float64Array[];
  decoder: Float64Array[];
  cross: Float64Array[];
  positional: Float64Array;
}

/** Worker side: the explanation without its big arrays, and the arrays. */
export function packExplanation(e: Explanation): { explanation: Explanation; numbers: PackedNumbers } {
  const pack = (values: number[]): Float64Array => {
    const f = new Float64Array(new SharedArrayBuffer(values.length * Float64Array.BYTES_PER_ELEMENT));
    f.set(values);
    return f;
  };
  const { encoder, decoder, cross } = e.attentions;
  const numbers: PackedNumbers = {
    encoder: encoder.layers.map(pack),
    decoder: decoder.layers.map(pack),
    cross: cross.layers.map(pack),
    positional: pack(e.positional.values),
  };
  const explanation: Explanation = {
    ...e,
    attentions: { encoder: { ...encoder, layers: [] }, decoder: { ...decoder, layers: [] }, cross: { ...cross, layers: [] } },
    positional: { ...e.positional, values: [] },
  };
  return { explanation, numbers };
}

/** Elements converted per event-loop turn while unpacking (well under a millisecond of work). */
const UNPACK_SLICE = 1 << 16;

/** Copies a[start, end) into out (a plain loop in its own function, so it is optimized). */
function copyRange(out: number[], a: Float64Array, start: number, end: number): void {
  for (let i = start; i < end; i++) out[i] = a[i];
}

/**
 * Host side: puts the arrays back as number[], checking every size against the explanation's dimensions, and
 * yields to the event loop between slices so the host never stalls on a large explanation.
 */
export async function unpackExplanation(e: Explanation, numbers: PackedNumbers): Promise<Explanation> {
  const check = (ok: boolean, what: string): void => {
    if (!ok) throw new Error(`malformed explanation from the model worker (${what})`);
  };
  check(typeof numbers === 'object' && numbers !== null, 'no numbers');
  const unpack = async (f: unknown, expected: number, what: string): Promise<number[]> => {
    check(f instanceof Float64Array && f.length === expected, what);
    const a = f as Float64Array;
    const out = new Array<number>(a.length);
    for (let i = 0; i < a.length; i += UNPACK_SLICE) {
      copyRange(out, a, i, Math.min(a.length, i + UNPACK_SLICE));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return out;
  };
  const kinds = ['encoder', 'decoder', 'cross'] as const;
  const attentions = { ...e.attentions };
  for (const k of kinds) {
    const kind = e.attentions[k];
    const layers = numbers[k];
    check(Array.isArray(layers), `${k} attention`);
    const size = kind.heads * kind.queryLen * kind.keyLen;
    const out: number[][] = [];
    for (let l = 0; l < layers.length; l++) out.push(await unpack(layers[l], size, `${k} attention layer ${l}`));
    attentions[k] = { ...kind, layers: out };
  }
  const values = await unpack(numbers.positional, e.positional.positions * e.positional.dModel, 'positional encodings');
  return { ...e, attentions, positional: { ...e.positional, values } };
}

/** Maps a request type to the successful response the host resolves with. */
export interface ResponseFor {
  load: Extract<WorkerResponse, { type: 'loaded' }>;
  explain: Extract<WorkerResponse, { type: 'explained' }>;
  translate: Extract<WorkerResponse, { type: 'translated' }>;
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
    case 'failed': {
      const e = m.error as Record<string, unknown> | null;
      return typeof e === 'object' && e !== null && typeof e.kind === 'string' && typeof e.message === 'string';
    }
    default:
      return false;
  }
}
