/**
 * Safety around the model folder and the inference worker, kept free of `vscode` so it can be tested under Node.
 *
 * - A workspace's `.vscode/settings.json` can set `attentionLens.modelPath`, so opening a repository could make the
 *   extension read files the repository chose. A folder named by workspace settings (not the user's own) is loaded
 *   only after the user agreed, once per workspace and folder; declining keeps the bundled model. (In Restricted
 *   Mode VS Code itself ignores the workspace value: package.json lists it in `restrictedConfigurations`.)
 * - The worker runs with V8 resource limits, so a model that exhausts memory ends the worker (reported, then
 *   replaced by the client), never the extension host.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';

/** What `WorkspaceConfiguration.inspect('modelPath')` reports (the fields used here). */
export interface SettingOrigins {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** The consent remembered in the workspace state: for which folder, and the answer. */
export interface ModelConsent {
  dir: string;
  allowed: boolean;
}

export const CONSENT_KEY = 'attentionLens.workspaceModelConsent';

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

/** Whether the effective modelPath comes from the workspace (or a workspace folder) rather than the user. */
export function modelPathFromWorkspace(origins: SettingOrigins | undefined): boolean {
  if (!origins) return false;
  return nonEmpty(origins.workspaceFolderValue) || nonEmpty(origins.workspaceValue);
}

/**
 * 'load' when the folder may be loaded without asking, 'ask' when the user must be asked, 'bundled' when they
 * already declined this folder for this workspace.
 */
export function workspaceModelDecision(origins: SettingOrigins | undefined, dir: string, bundled: boolean, consent: ModelConsent | undefined): 'load' | 'ask' | 'bundled' {
  if (bundled || !modelPathFromWorkspace(origins)) return 'load';
  if (consent && consent.dir === dir) return consent.allowed ? 'load' : 'bundled';
  return 'ask';
}

/**
 * Heap limits of the inference worker. Weights and explanation arrays live outside the V8 heap (shared array
 * buffers), so the heap holds only vocabularies, token lists and messages: 1 GB is ample for any real model, and a
 * file that makes the loader build more (a huge vocabulary or pickle) ends the worker with ERR_WORKER_OUT_OF_MEMORY.
 */
export const WORKER_RESOURCE_LIMITS: ResourceLimits = { maxOldGenerationSizeMb: 1024, maxYoungGenerationSizeMb: 64, stackSizeMb: 8 };

/** The inference worker as the extension starts it. */
export function startInferenceWorker(workerPath: string, workerData: unknown, opts: { eval?: boolean } = {}): Worker {
  return new Worker(workerPath, { workerData, name: 'attention-lens-inference', resourceLimits: WORKER_RESOURCE_LIMITS, eval: opts.eval });
}

/** User-facing text for a worker that ended on its memory limit. */
export function workerExitText(err: { code?: string; message: string }): string {
  if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return `the model ran out of memory (the worker's limit is ${WORKER_RESOURCE_LIMITS.maxOldGenerationSizeMb} MB); its files are larger than a model can need`;
  }
  return err.message;
}
