/** "Attention Lens: Choose model folder…": pick a folder, check it loads, then store it in the settings. */
import * as vscode from 'vscode';
import type { LoadedInfo } from '../worker/workerProtocol';
import { isCancelled } from '../worker/workerProtocol';
import { describeModelError, notificationText } from './modelClient';
import type { ModelService } from './modelService';
import { KEYS, SECTION } from './settings';

export function describeSummary(info: LoadedInfo): string {
  const s = info.summary;
  const langs = s.sourceLang && s.targetLang ? `${s.sourceLang}→${s.targetLang}, ` : '';
  return (
    `${langs}${s.encoderLayers} encoder + ${s.decoderLayers} decoder layers, ` +
    `${s.encoderHeads} heads, d_model ${s.dModel}, vocabulary ${s.vocabSize}, ${s.activation}, up to ${info.maxSourceTokens} source tokens` +
    (s.parameters ? `, ${(s.parameters / 1e6).toFixed(1)}M parameters` : '') +
    (s.languageCodes?.length ? `; target languages ${s.languageCodes.slice(0, 8).join(' ')}${s.languageCodes.length > 8 ? ' …' : ''} (set "attentionLens.targetLanguage")` : '')
  );
}

export async function chooseModelFolder(models: ModelService): Promise<void> {
  const current = models.model;
  if (!current.bundled) {
    const pick = await vscode.window.showQuickPick(
      [
        { label: '$(folder-opened) Choose a model folder…', id: 'browse' },
        { label: '$(package) Use the bundled model', description: 'English → Spanish demo checkpoint', id: 'bundled' },
      ],
      { title: `Attention Lens model (now: ${current.name})`, placeHolder: current.dir },
    );
    if (!pick) return;
    if (pick.id === 'bundled') {
      await storeModelPath('');
      void vscode.window.showInformationMessage('Attention Lens: using the bundled model.');
      return;
    }
  }
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    openLabel: 'Use this model folder',
    title: 'Attention Lens: choose a Marian model folder (config.json, model.safetensors or pytorch_model.bin, source.spm, target.spm, vocab.json)',
    defaultUri: current.bundled ? vscode.workspace.workspaceFolders?.[0]?.uri : vscode.Uri.file(current.dir),
  });
  const folder = picked?.[0];
  if (!folder) return;
  if (folder.scheme !== 'file') {
    void vscode.window.showErrorMessage('Attention Lens: the model folder must be on the local file system of the extension host.');
    return;
  }
  let info: LoadedInfo;
  try {
    info = await models.validateFolder(folder.fsPath);
  } catch (err) {
    if (isCancelled(err)) return;
    void vscode.window.showErrorMessage(`Attention Lens: ${describeModelError(err)}`);
    return;
  }
  await storeModelPath(folder.fsPath);
  // the name, languages and language codes come from the folder and its files: no links in the message
  void vscode.window.showInformationMessage(notificationText(`Attention Lens: using model “${info.summary.name}”: ${describeSummary(info)}.`));
}

/** Writes the setting where it takes effect: the workspace if it already overrides it there, else the user settings. */
async function storeModelPath(value: string): Promise<void> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const inspected = config.inspect<string>(KEYS.modelPath);
  const target = inspected?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await config.update(KEYS.modelPath, value === '' && target === vscode.ConfigurationTarget.Global ? undefined : value, target);
}
