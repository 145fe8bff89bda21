/**
 * Inference worker (bundled to dist/worker.js). Owns the loaded model and runs the CPU-heavy engine
 * calls off the extension host's thread. It handles one request at a time, in arrival order; the host
 * guarantees it never sends a second request before the first one answered.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { loadModelFolder, explain, translate, ModelFileError, CancelledError, type LoadedModel } from '../model';
import { MatmulPool, resolveThreads } from '../model/kernels/parallel/matmulPool';
import { TraceInputError, traceIds } from '../model/explain/trace';
import {
  CANCEL_SLOT,
  modelKey,
  shareExplanation,
  type LoadedInfo,
  type ModelRef,
  type WorkerErrorInfo,
  type WorkerInit,
  type WorkerRequest,
  type WorkerResponse,
} from './workerProtocol';

const port = parentPort;
if (!port) throw new Error('inferenceWorker must run inside a worker thread');

const init = workerData as WorkerInit;
const cancelFlags = new Int32Array(init.cancelBuffer);

/** Helper threads for the matrix products (see useThreads). */
let pool: MatmulPool | undefined;
let current: { model: LoadedModel; key: string; info: LoadedInfo; files: string } | undefined;

/** Every file a model folder load reads (optional ones included: appearing or vanishing counts as a change). */
const MODEL_FILES = [
  'config.json', 'generation_config.json', 'model.safetensors', 'pytorch_model.bin', 'source.spm', 'target.spm',
  'vocab.json', 'target_vocab.json', 'tokenizer_config.json',
];

/**
 * Identity, size and modification time of the folder's model files: a few stat calls per request, so a folder
 * that is deleted, renamed or rewritten while the model is in use is noticed and loaded again (reporting what is
 * wrong with it) instead of being answered from weights that no longer match the files.
 */
function folderFingerprint(dir: string): string {
  return MODEL_FILES.map((name) => {
    try {
      const st = fs.statSync(path.join(dir, name), { throwIfNoEntry: false });
      return st ? `${st.ino}:${st.size}:${st.mtimeMs}` : '-';
    } catch (e) {
      return (e as NodeJS.ErrnoException).code ?? '!'; // e.g. ENOTDIR: the load reports it
    }
  }).join('|');
}

function ensureModel(ref: ModelRef): { model: LoadedModel; info: LoadedInfo } {
  const key = modelKey(ref);
  const files = folderFingerprint(path.resolve(ref.dir));
  if (current && current.key === key && current.files === files) return current;
  current = undefined; // drop the old weights before loading new ones
  pool?.clear(); // and the helper threads' references to them
  const t0 = performance.now();
  // the kernel note (no WebAssembly SIMD, model too large for its memory) goes to the log once, and to the host
  const model = loadModelFolder(ref.dir, { ...(ref.name ? { name: ref.name } : {}), kernel: ref.kernel, precision: ref.precision });
  const info: LoadedInfo = {
    folder: model.folder,
    kernel: model.kernel,
    summary: model.summary,
    maxSourceTokens: model.maxSourceTokens,
    loadMs: Math.round(performance.now() - t0),
  };
  current = { model, key, info, files };
  return current;
}

/** Splits the model's matrix products over `threads` threads (bit-identical results); (re)starts helpers as needed. */
function useThreads(model: LoadedModel, threads: number | undefined): void {
  const want = resolveThreads(threads);
  if ((pool?.threads ?? 1) !== want || (pool && !pool.usable)) {
    void pool?.close();
    pool = want > 1 ? new MatmulPool({ threads: want }) : undefined;
  }
  model.model.useMatmulPool(pool);
}

function toErrorInfo(err: unknown): WorkerErrorInfo {
  if (err instanceof CancelledError) return { kind: 'cancelled', message: 'cancelled' };
  if (err instanceof ModelFileError) return { kind: 'model', message: err.message, file: err.file, problem: err.problem };
  if (err instanceof TraceInputError) return { kind: 'input', message: err.message };
  if (err instanceof Error) return { kind: 'internal', message: err.message || err.name };
  return { kind: 'internal', message: String(err) };
}

function clampTokens(requested: number | undefined, limit: number): number {
  if (requested === undefined || !Number.isFinite(requested) || requested <= 0) return limit;
  return Math.max(1, Math.min(Math.floor(requested), limit));
}

function handle(req: WorkerRequest): WorkerResponse {
  const shouldStop = () => Atomics.load(cancelFlags, CANCEL_SLOT) === req.id;
  switch (req.type) {
    case 'load': {
      const { info } = ensureModel(req.model);
      return { type: 'loaded', id: req.id, info };
    }
    case 'explain': {
      const { model, info } = ensureModel(req.model);
      if (shouldStop()) throw new CancelledError();
      useThreads(model, req.params.threads);
      const explanation = explain(model, req.text, {
        numBeams: req.params.numBeams,
        topK: req.params.topK,
        maxSourceTokens: clampTokens(req.params.maxSourceTokens, model.maxSourceTokens),
        maxNewTokens: req.params.maxNewTokens,
        targetLanguage: req.params.targetLanguage,
        target: req.params.target,
        forcedPrefix: req.params.forcedPrefix,
        logitLens: req.params.logitLens,
        shouldStop,
      });
      return { type: 'explained', id: req.id, info, explanation };
    }
    case 'translate': {
      const { model, info } = ensureModel(req.model);
      if (shouldStop()) throw new CancelledError();
      useThreads(model, req.params.threads);
      const out = translate(model, req.text, { numBeams: req.params.numBeams, maxNewTokens: req.params.maxNewTokens, targetLanguage: req.params.targetLanguage, shouldStop });
      return { type: 'translated', id: req.id, info, text: out.text, ids: out.ids };
    }
    case 'trace': {
      const { model, info } = ensureModel(req.model);
      if (shouldStop()) throw new CancelledError();
      const trace = traceIds(model, req.sourceIds, req.targetIds, { side: req.side, token: req.token, details: true, shouldStop });
      return { type: 'traced', id: req.id, info, trace };
    }
  }
}

port.on('message', (raw: WorkerRequest) => {
  let response: WorkerResponse;
  try {
    response = handle(raw);
  } catch (err) {
    response = { type: 'failed', id: raw?.id ?? -1, error: toErrorInfo(err) };
  }
  // The big arrays travel in shared memory (see shareExplanation), never transferred nor cloned.
  if (response.type === 'explained') response = { ...response, explanation: shareExplanation(response.explanation) };
  port.postMessage(response);
});
