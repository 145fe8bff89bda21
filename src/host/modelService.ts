/**
 * VS Code glue around ModelClient: which model folder the settings name, loading it once with a
 * progress notification, and turning worker errors into user-facing text. One instance per window.
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import type { Explanation } from '../shared/explanation';
import type { Trace, TraceSide } from '../shared/trace';
import { ModelRequestError, modelKey, type LoadedInfo, type ModelRef } from '../worker/workerProtocol';
import { ModelClient, describeModelError, notificationText, type CancellationLike } from './modelClient';
import { SECTION, readSettings, resolveModelDir, resultsChanged, resultsKey, type LensSettings, type ResolvedModel } from './settings';
import { CONSENT_KEY, startInferenceWorker, workspaceModelDecision, type ModelConsent, type SettingOrigins } from './workspaceModel';

export type ModelState =
  | { kind: 'idle'; model: ResolvedModel }
  | { kind: 'loading'; model: ResolvedModel }
  | { kind: 'ready'; model: ResolvedModel; info: LoadedInfo }
  | { kind: 'error'; model: ResolvedModel; message: string };

/** Request lanes: a new request cancels the running one of its lane ('why': forced targets, branches, comparisons). */
export type Lane = 'panel' | 'hover' | 'sidebar' | 'why' | 'trace';

export interface ExplainResult {
  explanation: Explanation;
  info: LoadedInfo;
}

export class ModelService implements vscode.Disposable {
  private readonly client: ModelClient;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly stateEmitter = new vscode.EventEmitter<ModelState>();
  private readonly settingsEmitter = new vscode.EventEmitter<{ previous: LensSettings; modelChanged: boolean; resultsChanged: boolean }>();
  private currentSettings: LensSettings;
  private currentModel: ResolvedModel;
  /** A folder the extension itself wrote (a training snapshot), used instead of the setting until that changes. */
  private temporaryModel: ResolvedModel | undefined;
  private currentState: ModelState;
  private loading: { key: string; promise: Promise<LoadedInfo> } | undefined;

  /** Fires whenever the model state changes (status bar). */
  readonly onDidChangeState = this.stateEmitter.event;
  /** Fires after any `attentionLens.*` setting changed. */
  readonly onDidChangeSettings = this.settingsEmitter.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    /** Where the answer to "load the model folder this workspace's settings name?" is kept (see workspaceModel.ts). */
    private readonly workspaceState?: vscode.Memento,
  ) {
    const workerPath = vscode.Uri.joinPath(extensionUri, 'dist', 'worker.js').fsPath;
    this.client = new ModelClient({
      // with V8 resource limits: memory exhaustion ends the worker (replaced on the next request), not the host
      createWorker: (init) => startInferenceWorker(workerPath, init),
      log: (m) => this.log.info(m),
    });
    this.currentSettings = this.readSettings();
    this.currentModel = this.resolveModel(this.currentSettings);
    this.currentState = { kind: 'idle', model: this.currentModel };
    this.disposables.push(
      this.stateEmitter,
      this.settingsEmitter,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(SECTION)) this.onConfigurationChanged();
      }),
    );
  }

  get settings(): LensSettings {
    return this.currentSettings;
  }

  get model(): ResolvedModel {
    return this.currentModel;
  }

  get state(): ModelState {
    return this.currentState;
  }

  /** Model and settings the next results are computed with (see `resultsKey`): what result caches are keyed by. */
  get resultsKey(): string {
    return resultsKey({ settings: this.currentSettings, model: this.currentModel });
  }

  get bundledDir(): string {
    return vscode.Uri.joinPath(this.extensionUri, 'media', 'model').fsPath;
  }

  /** Loads the configured model if the worker does not hold it yet; the first load shows a notification. */
  async ensureLoaded(progress: 'notification' | 'silent' = 'notification'): Promise<LoadedInfo> {
    await this.checkWorkspaceModel();
    const model = this.currentModel;
    const ref = this.refFor(model);
    const loaded = this.client.loaded;
    if (loaded && this.client.isLoaded(ref)) {
      if (this.currentState.kind !== 'ready') this.setState({ kind: 'ready', model, info: loaded });
      return loaded;
    }
    const key = modelKey(ref);
    if (!this.loading || this.loading.key !== key) {
      this.setState({ kind: 'loading', model });
      const promise = this.client.load(ref).then(
        (info) => {
          if (this.currentModel === model) this.setState({ kind: 'ready', model, info });
          this.log.info(`loaded ${info.summary.name} from ${info.folder} in ${info.loadMs} ms (${info.kernel?.path ?? 'js'} kernels${info.kernel?.precision ? `, ${info.kernel.precision} sums` : ''})`);
          if (info.kernel?.note) this.log.warn(info.kernel.note); // the one line: no WebAssembly SIMD, or too large for its memory
          return info;
        },
        (err: unknown) => {
          if (this.currentModel === model && !(err instanceof ModelRequestError && err.kind === 'cancelled')) {
            this.setState({ kind: 'error', model, message: describeModelError(err) });
          }
          throw err;
        },
      );
      const entry = { key, promise };
      this.loading = entry;
      promise.then(
        () => this.loading === entry && (this.loading = undefined),
        () => this.loading === entry && (this.loading = undefined),
      );
    }
    const pending = this.loading.promise;
    if (progress === 'silent') return pending;
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: notificationText(`Attention Lens: loading model “${model.name}”…`) },
      () => pending,
    );
  }

  /** The worker's name for a model folder under the kernel settings (the current ones unless given). */
  private refFor(model: { dir: string; name?: string }, s: LensSettings = this.currentSettings): ModelRef {
    return { dir: model.dir, name: model.name, kernel: s.kernel, precision: s.kernelPrecision };
  }

  /** Loads an arbitrary folder (the "Choose model folder" check). Does not change the settings. */
  async validateFolder(dir: string): Promise<LoadedInfo> {
    const name = vscode.Uri.file(dir).path.split('/').filter(Boolean).pop() ?? dir;
    const info = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: notificationText(`Attention Lens: checking model folder “${name}”…`) },
      () => this.client.load(this.refFor({ dir, name })),
    );
    return info;
  }

  async explain(
    text: string, lane: Lane, token?: CancellationLike,
    overrides: { numBeams?: number; target?: string; forcedPrefix?: number[] } = {},
  ): Promise<ExplainResult> {
    await this.ensureLoaded(lane === 'panel' ? 'notification' : 'silent');
    const s = this.currentSettings;
    const model = this.currentModel;
    return this.client.explain(
      this.refFor(model),
      text,
      {
        numBeams: overrides.numBeams ?? s.beams,
        topK: s.topK,
        maxSourceTokens: s.maxTokens,
        // generation length follows the model's own max_length, as Hugging Face's generate does
        targetLanguage: s.targetLanguage || undefined,
        threads: s.threads || undefined,
        target: overrides.target,
        forcedPrefix: overrides.forcedPrefix,
        // only the panel shows the logit lens
        logitLens: lane === 'panel' || lane === 'why',
      },
      { lane, token },
    );
  }

  /** The walk-through: one token of an explained sentence followed through the configured model. */
  async trace(explanation: Pick<Explanation, 'sourceIds' | 'targetIds'>, side: TraceSide, token: number, lane: Lane): Promise<Trace> {
    await this.ensureLoaded('silent');
    const model = this.currentModel;
    return this.client.trace(this.refFor(model), explanation.sourceIds, explanation.targetIds, side, token, { lane });
  }

  private consentPrompt: Promise<void> | undefined;

  /**
   * A model folder set by the workspace's settings (not the user's) is loaded only after the user agrees, once per
   * workspace and folder; declined, the bundled model is used. One question at a time, whoever asks.
   */
  private checkWorkspaceModel(): Promise<void> {
    const model = this.currentModel;
    if (this.usingTemporaryModel) return Promise.resolve(); // written by this extension: nothing to consent to
    const origins = vscode.workspace.getConfiguration(SECTION).inspect<string>('modelPath') as SettingOrigins | undefined;
    const consent = this.workspaceState?.get<ModelConsent>(CONSENT_KEY);
    const decision = workspaceModelDecision(origins, model.dir, model.bundled, consent);
    if (decision === 'load') return Promise.resolve();
    const useBundled = (): void => {
      if (this.currentModel !== model) return;
      this.log.info(`not loading ${model.dir} (set by this workspace's settings): using the bundled model`);
      this.currentModel = resolveModelDir('', this.bundledDir, undefined, os.homedir());
      this.setState({ kind: 'idle', model: this.currentModel });
    };
    if (decision === 'bundled') return Promise.resolve(useBundled());
    this.consentPrompt ??= (async () => {
      const answer = await vscode.window.showWarningMessage(
        notificationText(`This workspace's settings ask Attention Lens to load the model in “${model.dir}”. Load files from that folder?`),
        { modal: true, detail: 'Model files from a repository may be hostile. Choose “Use bundled model” unless you trust this folder.' },
        'Load model',
        'Use bundled model',
      );
      const allowed = answer === 'Load model';
      await this.workspaceState?.update(CONSENT_KEY, { dir: model.dir, allowed } satisfies ModelConsent);
      if (!allowed) useBundled();
    })().finally(() => (this.consentPrompt = undefined));
    return this.consentPrompt;
  }

  cancel(lane: Lane): void {
    this.client.cancelLane(lane);
  }

  dispose(): void {
    this.client.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  private readSettings(): LensSettings {
    return readSettings(vscode.workspace.getConfiguration(SECTION));
  }

  private resolveModel(settings: LensSettings): ResolvedModel {
    if (this.temporaryModel) return this.temporaryModel;
    const ws = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath;
    return resolveModelDir(settings.modelPath, this.bundledDir, ws, os.homedir());
  }

  /**
   * Explains with `dir` (a snapshot the training panel saved) instead of the configured model, without touching
   * the settings; a change of `attentionLens.modelPath` ends it. Every view then shows that model.
   */
  useTemporaryModel(dir: string, name: string): void {
    this.temporaryModel = { dir, name, bundled: false };
    this.applySettings(this.currentSettings);
  }

  /** Back to the configured model after `useTemporaryModel`. */
  useConfiguredModel(): void {
    this.temporaryModel = undefined;
    this.applySettings(this.currentSettings);
  }

  get usingTemporaryModel(): boolean {
    return this.temporaryModel !== undefined && this.currentModel.dir === this.temporaryModel.dir;
  }

  private onConfigurationChanged(): void {
    const next = this.readSettings();
    if (next.modelPath !== this.currentSettings.modelPath) this.temporaryModel = undefined;
    this.applySettings(next);
  }

  private applySettings(next: LensSettings): void {
    const previous = this.currentSettings;
    const before = { settings: previous, model: this.currentModel };
    this.currentSettings = next;
    const model = this.resolveModel(this.currentSettings);
    // a new kernel setting loads the model again (it decides where the weights live and how the sums round)
    const modelChanged = model.dir !== this.currentModel.dir || model.name !== this.currentModel.name
      || this.currentSettings.kernel !== previous.kernel || this.currentSettings.kernelPrecision !== previous.kernelPrecision;
    if (modelChanged) {
      const wasWarm = this.currentState.kind === 'ready' || this.currentState.kind === 'loading';
      this.log.info(`model folder changed to ${model.dir}`);
      this.currentModel = model;
      this.client.cancelAll();
      this.setState({ kind: 'idle', model });
      if (wasWarm || this.client.isLoaded(this.refFor(model, previous))) {
        // Reload right away so a broken folder is reported now, not at the next request.
        this.ensureLoaded('notification').catch((err: unknown) => {
          if (err instanceof ModelRequestError && err.kind === 'cancelled') return;
          void vscode.window.showErrorMessage(`Attention Lens: ${describeModelError(err)}`);
        });
      }
    }
    this.settingsEmitter.fire({ previous, modelChanged, resultsChanged: resultsChanged(before, { settings: this.currentSettings, model: this.currentModel }) });
  }

  private setState(state: ModelState): void {
    this.currentState = state;
    this.stateEmitter.fire(state);
  }
}
