/**
 * Messages of the "Train a tiny transformer" panel: webview ⇄ host ⇄ training worker (src/worker/trainWorker.ts).
 * The host relays the controls to the worker and the worker's snapshots to the webview; closing the panel ends
 * the worker, and with it the training.
 */
import type { TrainSnapshot } from '../model/train/session';

export type { TrainSnapshot };

export interface TrainSettings {
  task: string;
  seed: number;
  /** Learning rate; absent = the task's. */
  lr?: number;
}

/** Webview → host, and (with `save` resolved to a folder) host → worker. */
export type TrainControl =
  | { type: 'configure'; settings: TrainSettings }
  | { type: 'start' }
  | { type: 'pause' }
  | { type: 'step'; count: number };

export type TrainToWorker = TrainControl | { type: 'save'; folder: string };
export type TrainFromWebview = TrainControl | { type: 'save' } | { type: 'ready' };

/** Worker → host → webview. */
export type TrainFromWorker =
  | { type: 'snapshot'; running: boolean; snapshot: TrainSnapshot }
  /** Training stopped by itself (a non-finite loss): the weights are those of the last good step. */
  | { type: 'stopped'; message: string }
  | { type: 'saved'; folder: string; files: string[] }
  | { type: 'error'; message: string };

/** Typed arrays become plain arrays: the webview message channel is JSON. */
export function toWire(m: TrainFromWorker): unknown {
  return JSON.parse(JSON.stringify(m, (_k, v) => (v instanceof Float32Array || v instanceof Float64Array ? Array.from(v) : v)));
}
