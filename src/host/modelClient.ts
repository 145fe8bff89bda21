/**
 * Worker lifecycle + request queue + cancellation for the inference worker. Pure Node (no `vscode`):
 * the UI layers decide how to show progress and errors.
 *
 * - The worker is spawned lazily by the first request and stays warm.
 * - Requests run one at a time, in order. A request submitted with a `lane` supersedes the older
 *   requests of the same lane: queued ones are dropped, a running one is asked to stop through the
 *   shared cancel flag. Superseded/cancelled requests reject with a `ModelRequestError` of kind
 *   'cancelled' (see `isCancelled`).
 * - If the worker dies, the running request rejects with kind 'crashed' and the next request spawns a
 *   fresh worker. A cancelled request that does not stop within `cancelGraceMs` (for example a long
 *   model load, which cannot poll the flag) gets the worker terminated and respawned.
 */
import {
  CANCEL_BUFFER_BYTES,
  CANCEL_SLOT,
  ModelRequestError,
  isWorkerResponse,
  modelKey,
  checkExplanation,
  type ExplainParams,
  type LoadedInfo,
  type ModelRef,
  type ResponseFor,
  type TranslateParams,
  type WorkerErrorInfo,
  type WorkerInit,
  type WorkerRequest,
  type WorkerRequestBody,
} from '../worker/workerProtocol';
import { escapeControls } from '../shared/safeText';
import { workerExitText } from './workspaceModel';
import type { Explanation } from '../shared/explanation';
import type { Trace, TraceSide } from '../shared/trace';

/** The subset of `worker_threads.Worker` the client uses (so tests can pass a fake). */
export interface WorkerLike {
  postMessage(message: WorkerRequest): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'exit', listener: (exitCode: number) => void): unknown;
  terminate(): unknown;
}

export type WorkerFactory = (init: WorkerInit) => WorkerLike;

/** Structurally compatible with `vscode.CancellationToken`. */
export interface CancellationLike {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: (e: unknown) => unknown): { dispose(): unknown };
}

export interface SubmitOptions {
  /** Requests sharing a lane supersede each other (newest wins). */
  lane?: string;
  token?: CancellationLike;
}

export interface ModelClientOptions {
  createWorker: WorkerFactory;
  /** How long a cancelled running request may take to stop before the worker is restarted. */
  cancelGraceMs?: number;
  log?: (message: string) => void;
}

type RequestType = WorkerRequestBody['type'];

interface Job {
  id: number;
  lane?: string;
  body: WorkerRequestBody;
  resolve: (value: never) => void;
  reject: (err: ModelRequestError) => void;
  cleanup: Array<() => void>;
  cancelRequested: boolean;
}

const cancelledError = () => new ModelRequestError({ kind: 'cancelled', message: 'cancelled' });

export class ModelClient {
  private readonly createWorker: WorkerFactory;
  private readonly cancelGraceMs: number;
  private readonly log: (message: string) => void;
  private readonly cancelBuffer = new SharedArrayBuffer(CANCEL_BUFFER_BYTES);
  private readonly cancelFlags = new Int32Array(this.cancelBuffer);
  private worker: WorkerLike | undefined;
  private lastWorkerError: string | undefined;
  private running: Job | undefined;
  private readonly queue: Job[] = [];
  private nextId = 1;
  private loadedKey: string | undefined;
  private loadedInfo: LoadedInfo | undefined;
  private disposed = false;
  private spawnCount = 0;

  constructor(options: ModelClientOptions) {
    this.createWorker = options.createWorker;
    this.cancelGraceMs = options.cancelGraceMs ?? 10_000;
    this.log = options.log ?? (() => undefined);
  }

  /** The model the worker currently holds, if any (cleared when the worker restarts). */
  get loaded(): LoadedInfo | undefined {
    return this.loadedInfo;
  }

  /** True when the worker already holds exactly this model (so no load progress is needed). */
  isLoaded(model: ModelRef): boolean {
    return this.loadedKey === modelKey(model);
  }

  /** How many workers were spawned so far (diagnostics and tests). */
  get workerStarts(): number {
    return this.spawnCount;
  }

  /** Number of requests waiting or running. */
  get pending(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  load(model: ModelRef, options?: SubmitOptions): Promise<LoadedInfo> {
    return this.submit({ type: 'load', model }, options).then((r) => r.info);
  }

  explain(model: ModelRef, text: string, params: ExplainParams, options?: SubmitOptions): Promise<{ explanation: Explanation; info: LoadedInfo }> {
    return this.submit({ type: 'explain', model, text, params }, options).then((r) => ({ explanation: r.explanation, info: r.info }));
  }

  translate(model: ModelRef, text: string, params: TranslateParams, options?: SubmitOptions): Promise<{ text: string; ids: number[] }> {
    return this.submit({ type: 'translate', model, text, params }, options).then((r) => ({ text: r.text, ids: r.ids }));
  }

  /** The walk-through's numbers: token `token` of `side` followed through the model. */
  trace(model: ModelRef, sourceIds: number[], targetIds: number[], side: TraceSide, token: number, options?: SubmitOptions): Promise<Trace> {
    return this.submit({ type: 'trace', model, sourceIds, targetIds, side, token }, options).then((r) => r.trace);
  }

  submit<T extends RequestType>(body: Extract<WorkerRequestBody, { type: T }>, options: SubmitOptions = {}): Promise<ResponseFor[T]> {
    if (this.disposed) return Promise.reject(new ModelRequestError({ kind: 'cancelled', message: 'the model client was disposed' }));
    if (options.token?.isCancellationRequested) return Promise.reject(cancelledError());
    if (options.lane !== undefined) this.cancelLane(options.lane);
    return new Promise<ResponseFor[T]>((resolve, reject) => {
      const job: Job = {
        id: this.nextId++,
        lane: options.lane,
        body,
        resolve: resolve as (value: never) => void,
        reject,
        cleanup: [],
        cancelRequested: false,
      };
      if (options.token) {
        const sub = options.token.onCancellationRequested(() => this.cancelJob(job));
        job.cleanup.push(() => void sub.dispose());
      }
      this.queue.push(job);
      this.pump();
    });
  }

  /** Cancels every queued or running request of a lane. */
  cancelLane(lane: string): void {
    for (const job of [...this.queue]) if (job.lane === lane) this.cancelJob(job);
    if (this.running && this.running.lane === lane) this.cancelJob(this.running);
  }

  /** Cancels everything (used when the model folder changes). */
  cancelAll(): void {
    for (const job of [...this.queue]) this.cancelJob(job);
    if (this.running) this.cancelJob(this.running);
  }

  /** Forgets the loaded model; the worker reloads on the next request that names it. */
  invalidate(): void {
    this.loadedKey = undefined;
    this.loadedInfo = undefined;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const jobs = [...this.queue.splice(0), ...(this.running ? [this.running] : [])];
    this.running = undefined;
    for (const job of jobs) this.settle(job, () => job.reject(new ModelRequestError({ kind: 'cancelled', message: 'the model client was disposed' })));
    this.stopWorker();
  }

  private cancelJob(job: Job): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.settle(job, () => job.reject(cancelledError()));
      return;
    }
    if (this.running !== job || job.cancelRequested) return;
    job.cancelRequested = true;
    Atomics.store(this.cancelFlags, CANCEL_SLOT, job.id);
    // If the worker cannot notice the flag in time (e.g. it is inside a model load), restart it.
    const timer = setTimeout(() => {
      if (this.running !== job) return;
      this.log(`request ${job.id} (${job.body.type}) did not stop within ${this.cancelGraceMs} ms; restarting the worker`);
      this.running = undefined;
      this.stopWorker();
      this.settle(job, () => job.reject(cancelledError()));
      this.pump();
    }, this.cancelGraceMs);
    job.cleanup.push(() => clearTimeout(timer));
  }

  private settle(job: Job, action: () => void): void {
    for (const c of job.cleanup.splice(0)) c();
    action();
  }

  private pump(): void {
    if (this.disposed || this.running || this.queue.length === 0) return;
    const job = this.queue.shift()!;
    let worker: WorkerLike;
    try {
      worker = this.ensureWorker();
    } catch (err) {
      this.settle(job, () => job.reject(new ModelRequestError({ kind: 'crashed', message: `could not start the model worker: ${errorText(err)}` })));
      this.pump();
      return;
    }
    this.running = job;
    try {
      worker.postMessage({ ...job.body, id: job.id } as WorkerRequest);
    } catch (err) {
      this.running = undefined;
      this.settle(job, () => job.reject(new ModelRequestError({ kind: 'internal', message: `could not send the request to the model worker: ${errorText(err)}` })));
      this.pump();
    }
  }

  private ensureWorker(): WorkerLike {
    if (this.worker) return this.worker;
    Atomics.store(this.cancelFlags, CANCEL_SLOT, 0);
    const worker = this.createWorker({ cancelBuffer: this.cancelBuffer });
    this.spawnCount++;
    this.lastWorkerError = undefined;
    this.worker = worker;
    worker.on('message', (msg) => {
      if (this.worker === worker) this.onMessage(msg);
    });
    worker.on('error', (err) => {
      if (this.worker !== worker) return;
      this.lastWorkerError = workerExitText(err as Error & { code?: string }); // e.g. its memory limit (workspaceModel.ts)
      this.log(`model worker error: ${this.lastWorkerError}`);
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.onWorkerExit(code);
    });
    this.log(`model worker started (#${this.spawnCount})`);
    return worker;
  }

  private stopWorker(): void {
    const worker = this.worker;
    this.worker = undefined;
    this.invalidate();
    if (worker) {
      try {
        void Promise.resolve(worker.terminate()).catch(() => undefined);
      } catch {
        // already gone
      }
    }
  }

  private onWorkerExit(code: number): void {
    this.worker = undefined;
    this.invalidate();
    const job = this.running;
    this.running = undefined;
    const reason = this.lastWorkerError ? `: ${this.lastWorkerError}` : ` (exit code ${code})`;
    this.log(`model worker stopped${reason}`);
    if (job) {
      const error: WorkerErrorInfo = job.cancelRequested
        ? { kind: 'cancelled', message: 'cancelled' }
        : { kind: 'crashed', message: `the model worker stopped unexpectedly${reason}` };
      this.settle(job, () => job.reject(new ModelRequestError(error)));
    }
    this.pump();
  }

  private onMessage(raw: unknown): void {
    if (!isWorkerResponse(raw)) {
      this.log('ignored a malformed message from the model worker');
      return;
    }
    const job = this.running;
    if (!job || job.id !== raw.id) {
      this.log(`ignored a stale response for request ${raw.id}`);
      return;
    }
    this.running = undefined;
    if (raw.type === 'failed') {
      // A model-file error means the worker dropped its model (it is reloaded, and re-checked, on the next request).
      if (raw.error.kind === 'model') this.invalidate();
      // A cancel that raced with completion still counts as cancelled for the caller.
      const error = job.cancelRequested && raw.error.kind !== 'model' ? { kind: 'cancelled' as const, message: 'cancelled' } : raw.error;
      this.settle(job, () => job.reject(new ModelRequestError(error)));
    } else {
      this.loadedKey = modelKey(job.body.model);
      this.loadedInfo = raw.info;
      if (job.cancelRequested) this.settle(job, () => job.reject(cancelledError()));
      else if (raw.type === 'explained') this.deliverExplanation(job, raw);
      else this.settle(job, () => job.resolve(raw as never));
    }
    this.pump();
  }

  /** The explanation arrives with its arrays in shared memory: nothing to copy, only sizes to check. */
  private deliverExplanation(job: Job, raw: ResponseFor['explain']): void {
    try {
      checkExplanation(raw.explanation);
    } catch (err) {
      this.settle(job, () => job.reject(new ModelRequestError({ kind: 'internal', message: errorText(err) })));
      return;
    }
    this.settle(job, () => job.resolve(raw as never));
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/**
 * Text for notifications and progress titles, which VS Code renders with `[label](command:…)` links clickable.
 * Model files and folder names are untrusted, so link syntax in them is broken with a zero-width space: the text
 * reads the same, but no link (least of all a command link with arguments) can be smuggled into a message.
 */
export function notificationText(text: string): string {
  // control and invisible characters from file contents shown escaped first (the break below adds a U+200B)
  return escapeControls(text).replaceAll('](', ']\u200b(');
}

/** User-facing text (without the "Attention Lens: " prefix) for any failure of a model request. */
export function describeModelError(err: unknown): string {
  return notificationText(describeModelErrorRaw(err));
}

function describeModelErrorRaw(err: unknown): string {
  if (err instanceof ModelRequestError) {
    switch (err.kind) {
      case 'model':
        return `could not load model: ${err.message}`;
      case 'crashed':
        return `${err.message}. It will restart with the next request.`;
      case 'cancelled':
        return 'cancelled';
      default:
        return `the model failed: ${err.message}`;
    }
  }
  if (err instanceof Error) return `unexpected error: ${err.message}`;
  return `unexpected error: ${String(err)}`;
}
