/**
 * Attention Lens extension entry point: wires the model service, commands, panel, hover, side view
 * and status bar. Each piece lives in its own module under src/host/.
 */
import * as vscode from 'vscode';
import { AttentionPanel } from './host/attentionPanel';
import { chooseModelFolder } from './host/chooseModel';
import { compareWith } from './host/compareCommand';
import { COMMANDS, VIEWS } from './host/commands';
import { ExplainController } from './host/explainCommand';
import { ExplanationStore } from './host/explanationStore';
import { AttentionHoverProvider, HOVER_SELECTOR } from './host/hoverProvider';
import { notificationText } from './host/modelClient';
import { ModelService } from './host/modelService';
import { capToBudget, trimSpan } from './host/selection';
import { ModelStatusBar, statusText } from './host/statusBar';
import { TRAIN_COMMAND, TrainPanel } from './host/trainPanel';
import { TranslationViewProvider } from './host/translationView';
import { walkThroughExample } from './host/walkthroughCommand';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Attention Lens', { log: true });
  const models = new ModelService(context.extensionUri, log, context.workspaceState);
  const store = new ExplanationStore(64); // one entry per explained sentence
  const deps = { extensionUri: context.extensionUri, workspaceState: context.workspaceState, log, models, store };
  const explainer = new ExplainController(deps);
  const hover = new AttentionHoverProvider(models, store);
  const translation = new TranslationViewProvider({ extensionUri: context.extensionUri, models, store, explainer, log });

  /** Runs a command body, turning any unexpected failure into a message instead of an unhandled rejection. */
  const guarded =
    <A extends unknown[]>(name: string, body: (...args: A) => Promise<unknown> | unknown) =>
    async (...args: A) => {
      try {
        return await body(...args);
      } catch (err) {
        const text = err instanceof Error ? err.message : String(err);
        log.error(`${name} failed: ${text}`);
        void vscode.window.showErrorMessage(notificationText(`Attention Lens: ${text}`));
        return undefined;
      }
    };

  context.subscriptions.push(
    log,
    models,
    translation,
    new ModelStatusBar(models),
    vscode.commands.registerCommand(COMMANDS.explainSelection, guarded('explain', () => explainer.explainSelection())),
    vscode.commands.registerCommand(COMMANDS.chooseModel, guarded('choose model', () => chooseModelFolder(models))),
    vscode.commands.registerCommand(TRAIN_COMMAND, guarded('train a tiny transformer', () => TrainPanel.show({ extensionUri: context.extensionUri, storageDir: context.globalStorageUri.fsPath, log, models, explainer }))),
    vscode.commands.registerCommand(COMMANDS.walkThroughExample, guarded('walk through an example', () => walkThroughExample(explainer))),
    vscode.commands.registerCommand(COMMANDS.compareWith, guarded('compare', () => compareWith(deps))),
    vscode.commands.registerCommand(COMMANDS.openFromHover, guarded('open from hover', (arg: unknown) => openFromHover(arg))),
    vscode.window.registerWebviewPanelSerializer(VIEWS.panel, {
      deserializeWebviewPanel: async (panel) => {
        const source = AttentionPanel.revive(panel, deps).restoredSource;
        if (source) void explainer.explainAgain(source).catch((err: unknown) => log.warn(`could not explain the restored panel's text again: ${String(err)}`));
      },
    }),
    vscode.window.registerWebviewViewProvider(VIEWS.translation, translation),
    vscode.languages.registerHoverProvider(HOVER_SELECTOR, hover),
    models.onDidChangeSettings(({ resultsChanged }) => {
      // the same rule as the side view's (settings.ts resultsKey): a hover must not show numbers of other settings
      if (resultsChanged) {
        hover.clearCache();
        store.clear();
      }
    }),
    // Test hooks (not contributed, so not in the palette): used by test/extension-host.
    vscode.commands.registerCommand(COMMANDS.lastExplanation, () => {
      const shown = AttentionPanel.current?.shown;
      const set = AttentionPanel.current?.sentences;
      return shown
        ? { explanation: shown.explanation, source: shown.source, title: AttentionPanel.current?.title, sentences: set?.summaries, sentenceIndex: AttentionPanel.current?.shownSentenceIndex }
        : undefined;
    }),
    vscode.commands.registerCommand(COMMANDS.testState, () => {
      const panel = AttentionPanel.current;
      return {
        panel: panel ? { title: panel.title, ready: panel.isReady, visible: panel.visible } : undefined,
        model: { name: models.model.name, dir: models.model.dir, state: models.state.kind, statusText: statusText(models.state) },
        lastError: explainer.lastErrorMessage,
        translation: translation.lastExplanation?.translation,
        translations: translation.lastTranslations,
        translationViewVisible: translation.isVisible,
      };
    }),
  );

  /** Handler of the hover's "Open Attention Lens" link: args [{ uri, start, end, offset }] (the sentence's document offsets, the word's offset in it). */
  async function openFromHover(arg: unknown): Promise<void> {
    const a = arg as { uri?: unknown; start?: unknown; end?: unknown; offset?: unknown } | undefined;
    if (!a || typeof a.uri !== 'string' || !Number.isInteger(a.start) || !Number.isInteger(a.end) || (a.end as number) < (a.start as number)) return;
    const uri = vscode.Uri.parse(a.uri, true);
    const doc = await vscode.workspace.openTextDocument(uri);
    const start = doc.positionAt(a.start as number);
    const end = doc.positionAt(a.end as number);
    const span = trimSpan(doc.getText(new vscode.Range(start, end)), doc.offsetAt(start));
    if (!span) return;
    const { span: capped } = capToBudget(span, models.settings.maxTokens);
    const known = store.findExact(uri.toString(), capped);
    // The hovered word's sentence, opened on the hovered token.
    const offset = Number.isInteger(a.offset) ? Math.max(0, (a.offset as number) - (capped.start - (a.start as number))) : undefined;
    await explainer.show({ uri, span: capped, sentences: [capped], explanations: known ? [known.explanation] : undefined, focusOffset: offset });
    if (known) store.add(known); // the panel now shows it: make it the most recent
  }
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions (the model worker is terminated there).
}
