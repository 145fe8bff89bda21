/**
 * "Attention Lens: Train a tiny transformer…": a panel whose training runs in its own worker thread
 * (dist/trainWorker.js), so the editor never waits for it. The host relays controls to the worker and snapshots
 * to the webview; "Save…" asks for a folder first. Closing the panel terminates the worker: training stops.
 * The webview's messages arrive through the shared WebviewChannel, validated by `parseTrainMessage`.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';
import { parseTrainMessage, toWire, type TrainFromWebview, type TrainFromWorker, type TrainToWorker } from '../shared/trainProtocol';
import { KEYS, SECTION } from './settings';
import { WebviewChannel } from './webviewChannel';
import { renderWebview, webviewOptions } from './webviewSetup';

export const TRAIN_COMMAND = 'attentionLens.trainTiny';
const VIEW_TYPE = 'attentionLens.train';

export class TrainPanel {
  private static current: TrainPanel | undefined;
  private worker: Worker | undefined;

  static show(extensionUri: vscode.Uri, log: vscode.LogOutputChannel): void {
    if (TrainPanel.current) {
      TrainPanel.current.panel.reveal();
      return;
    }
    TrainPanel.current = new TrainPanel(extensionUri, log);
  }

  private readonly panel: vscode.WebviewPanel;
  /** Webview ⇄ host; what goes out is the worker's messages made JSON (`toWire`). */
  private readonly channel: WebviewChannel<TrainFromWebview, unknown>;

  private constructor(private readonly extensionUri: vscode.Uri, private readonly log: vscode.LogOutputChannel) {
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
    const worker = new Worker(path.join(this.extensionUri.fsPath, 'dist', 'trainWorker.js'), { name: 'attention-lens-train' });
    worker.on('message', (m: TrainFromWorker) => {
      this.channel.post(toWire(m));
      if (m.type === 'saved') void this.offerToUse(m.folder);
    });
    worker.on('error', (e) => {
      this.log.error(`training worker failed: ${e.message}`);
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
    this.post(m);
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
