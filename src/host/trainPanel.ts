/**
 * "Attention Lens: Train a tiny transformer…": a panel whose training runs in its own worker thread
 * (dist/trainWorker.js), so the editor never waits for it. The host relays controls to the worker and snapshots
 * to the webview; "Save…" asks for a folder first; "Explain at this step" saves a snapshot into the extension's
 * storage and explains the first probe with it, so the panel's other views show the model as it is now.
 * Closing the panel terminates the worker: training stops.
 * The webview's messages arrive through the shared WebviewChannel, validated by `parseTrainMessage`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';
import { parseTrainMessage, toWire, type TrainFromWebview, type TrainFromWorker, type TrainToWorker } from '../shared/trainProtocol';
import type { ExplainController } from './explainCommand';
import type { ModelService } from './modelService';
import { KEYS, SECTION } from './settings';
import { WebviewChannel } from './webviewChannel';
import { renderWebview, webviewOptions } from './webviewSetup';

export const TRAIN_COMMAND = 'attentionLens.trainTiny';
const VIEW_TYPE = 'attentionLens.train';
/** Snapshots kept for "Explain at this step" (older ones are deleted: the model worker has read them already). */
const SNAPSHOTS_KEPT = 2;

export interface TrainPanelDeps {
  extensionUri: vscode.Uri;
  /** Where "Explain at this step" writes its snapshots (the extension's global storage). */
  storageDir: string;
  log: vscode.LogOutputChannel;
  models: ModelService;
  explainer: ExplainController;
}

export class TrainPanel {
  private static current: TrainPanel | undefined;
  private worker: Worker | undefined;

  static show(deps: TrainPanelDeps): void {
    if (TrainPanel.current) {
      TrainPanel.current.panel.reveal();
      return;
    }
    TrainPanel.current = new TrainPanel(deps);
  }

  private readonly panel: vscode.WebviewPanel;
  /** Webview ⇄ host; what goes out is the worker's messages made JSON (`toWire`). */
  private readonly channel: WebviewChannel<TrainFromWebview, unknown>;

  private snapshotCount = 0;

  private constructor(private readonly deps: TrainPanelDeps) {
    const { extensionUri, log } = deps;
    this.panel = vscode.window.createWebviewPanel(VIEW_TYPE, 'Train a tiny transformer', vscode.ViewColumn.Active, { ...webviewOptions(extensionUri), retainContextWhenHidden: true });
    this.panel.webview.html = renderWebview(this.panel.webview, extensionUri, 'train', 'Train a tiny transformer');
    this.channel = new WebviewChannel<TrainFromWebview, unknown>({
      name: 'the training panel',
      log: (m) => log.warn(m),
      parse: parseTrainMessage,
      onMessage: (m) => this.fromWebview(m),
      onError: (err) => log.error(`training panel: ${err instanceof Error ? err.message : String(err)}`),
    });
    this.channel.attach(this.panel.webview);
    this.panel.onDidDispose(() => {
      this.channel.detach();
      // closing the panel stops the training
      void this.worker?.terminate();
      this.worker = undefined;
      TrainPanel.current = undefined;
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(path.join(this.deps.extensionUri.fsPath, 'dist', 'trainWorker.js'), { name: 'attention-lens-train' });
    worker.on('message', (m: TrainFromWorker) => {
      this.channel.post(toWire(m));
      if (m.type === 'saved') void (m.inspect ? this.inspect(m) : this.offerToUse(m.folder));
    });
    worker.on('error', (e) => {
      this.deps.log.error(`training worker failed: ${e.message}`);
      this.channel.post({ type: 'error', message: `the training worker failed: ${e.message}` });
      this.worker = undefined;
    });
    this.worker = worker;
    return worker;
  }

  private async fromWebview(m: TrainFromWebview): Promise<void> {
    if (m.type === 'ready') return;
    if (m.type === 'save') {
      const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Save the model here' });
      if (!picked?.[0]) return;
      this.post({ type: 'save', folder: picked[0].fsPath });
      return;
    }
    if (m.type === 'inspect') {
      this.post({ type: 'save', folder: this.nextSnapshotFolder(), inspect: true });
      return;
    }
    this.post(m);
  }

  /** A fresh folder per snapshot (the model worker caches by folder); older snapshots are deleted. */
  private nextSnapshotFolder(): string {
    const root = path.join(this.deps.storageDir, 'trained');
    fs.mkdirSync(root, { recursive: true });
    const old = fs.readdirSync(root).filter((n) => n.startsWith('snapshot-')).sort();
    for (const n of old.slice(0, Math.max(0, old.length - (SNAPSHOTS_KEPT - 1)))) fs.rmSync(path.join(root, n), { recursive: true, force: true });
    return path.join(root, `snapshot-${Date.now()}-${++this.snapshotCount}`);
  }

  /** Every view now reads the snapshot; the first probe is explained in an editor of its own. */
  private async inspect(m: Extract<TrainFromWorker, { type: 'saved' }>): Promise<void> {
    this.deps.models.useTemporaryModel(m.folder, `${m.task} · step ${m.step}`);
    const doc = await vscode.workspace.openTextDocument({ content: m.probe, language: 'plaintext' });
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
    editor.selection = new vscode.Selection(doc.positionAt(0), doc.positionAt(m.probe.length));
    await this.deps.explainer.show({ uri: doc.uri, span: { start: 0, end: m.probe.length, text: m.probe } });
    const back = 'Use the configured model';
    const pick = await vscode.window.showInformationMessage(`Attention Lens: explaining with the tiny model at step ${m.step} (${m.task}) until the model setting changes.`, back);
    if (pick === back) this.deps.models.useConfiguredModel();
  }

  /** The saved model can become the active one: the explanation panel, walk-through and token probabilities then show it. */
  private async offerToUse(folder: string): Promise<void> {
    const use = 'Use this model';
    const pick = await vscode.window.showInformationMessage('Attention Lens: saved the trained model. Explain text with it?', use);
    if (pick !== use) return;
    await vscode.workspace.getConfiguration(SECTION).update(KEYS.modelPath, folder, vscode.ConfigurationTarget.Global);
  }

  private post(m: TrainToWorker): void {
    this.ensureWorker().postMessage(m);
  }
}
