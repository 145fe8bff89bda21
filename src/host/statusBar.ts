/** Status bar item naming the active model; clicking it runs "Choose model folder…". */
import * as vscode from 'vscode';
import type { ModelService, ModelState } from './modelService';
import { COMMANDS } from './commands';

/** Status bar text per state (also what the e2e tests look for). */
export function statusText(state: ModelState): string {
  // The folder name is untrusted: a "$(…)" in it must show as text, not as an icon (VS Code's \$(…) escape).
  const name = state.model.name.replace(/\$\(/g, '\\$(');
  switch (state.kind) {
    case 'loading':
      return `$(loading~spin) Attention Lens: ${name}`;
    case 'error':
      return `$(warning) Attention Lens: ${name}`;
    default:
      return `$(eye) Attention Lens: ${name}`;
  }
}

export class ModelStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscription: vscode.Disposable;

  constructor(models: ModelService) {
    this.item = vscode.window.createStatusBarItem('attentionLens.model', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Attention Lens Model';
    this.item.command = COMMANDS.chooseModel;
    this.subscription = models.onDidChangeState((s) => this.render(s));
    this.render(models.state);
    this.item.show();
  }

  private render(state: ModelState): void {
    const m = state.model;
    this.item.text = statusText(state);
    this.item.backgroundColor = state.kind === 'error' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    const tip = new vscode.MarkdownString();
    tip.appendText(`Attention Lens model: ${m.name}${m.bundled ? ' (bundled checkpoint)' : ''}\n\n`);
    tip.appendText(`Folder: ${m.dir}\n\n`);
    if (state.kind === 'ready') {
      const s = state.info.summary;
      const langs = s.sourceLang && s.targetLang ? `, ${s.sourceLang}→${s.targetLang}` : '';
      tip.appendText(`${s.encoderLayers}+${s.decoderLayers} layers, ${s.encoderHeads} heads, d_model ${s.dModel}, vocabulary ${s.vocabSize}${langs}\n\n`);
    } else if (state.kind === 'error') {
      tip.appendText(`Error: ${state.message}\n\n`);
    } else if (state.kind === 'idle') {
      tip.appendText('Not loaded yet (loads on first use).\n\n');
    }
    tip.appendText('Click to choose a model folder.');
    this.item.tooltip = tip;
    this.item.accessibilityInformation = { label: `Attention Lens model ${m.name}${state.kind === 'error' ? ', failed to load' : ''}. Click to choose a model folder.` };
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
