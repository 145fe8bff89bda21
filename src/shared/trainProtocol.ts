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

/** `inspect`: a snapshot for the explanation views (the host picks the folder), not a save the user asked for. */
export type TrainToWorker = TrainControl | { type: 'save'; folder: string; inspect?: boolean };
/** `inspect`: explain the first probe with the weights as they are now, in the attention panel. */
export type TrainFromWebview = TrainControl | { type: 'save' } | { type: 'inspect' } | { type: 'ready' };

/** Worker → host → webview. */
export type TrainFromWorker =
  | { type: 'snapshot'; running: boolean; snapshot: TrainSnapshot }
  /** Training stopped by itself (a non-finite loss): the weights are those of the last good step. */
  | { type: 'stopped'; message: string }
  | { type: 'saved'; folder: string; files: string[]; task: string; step: number; probe: string; inspect?: boolean }
  | { type: 'error'; message: string };

/** Typed arrays become plain arrays: the webview message channel is JSON. */
export function toWire(m: TrainFromWorker): unknown {
  return JSON.parse(JSON.stringify(m, (_k, v) => (v instanceof Float32Array || v instanceof Float64Array ? Array.from(v) : v)));
}

const TRAIN_TASK_NAME = /^[\w-]{1,64}$/;

/** A message from the training panel's webview, checked field by field; undefined for anything malformed. */
export function parseTrainMessage(raw: unknown): TrainFromWebview | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
    case 'start':
    case 'pause':
    case 'save':
    case 'inspect':
      return { type: m.type };
    case 'step':
      // the worker runs at most 1000 steps per request
      if (typeof m.count !== 'number' || !Number.isInteger(m.count) || m.count < 1 || m.count > 1000) return undefined;
      return { type: 'step', count: m.count };
    case 'configure': {
      const s = m.settings as Record<string, unknown> | undefined;
      if (typeof s !== 'object' || s === null) return undefined;
      if (typeof s.task !== 'string' || !TRAIN_TASK_NAME.test(s.task)) return undefined;
      if (typeof s.seed !== 'number' || !Number.isSafeInteger(s.seed) || s.seed < 0) return undefined;
      // absent = the task's learning rate; otherwise a finite positive number
      if (s.lr !== undefined && (typeof s.lr !== 'number' || !Number.isFinite(s.lr) || s.lr <= 0)) return undefined;
      return { type: 'configure', settings: { task: s.task, seed: s.seed, ...(s.lr !== undefined ? { lr: s.lr as number } : {}) } };
    }
    default:
      return undefined;
  }
}
