/** "Attention Lens: Walk through an example": explains the classic teaching sentence and opens its walk-through. */
import * as vscode from 'vscode';
import { WALKTHROUGH_EXAMPLE } from '../shared/trace';
import { AttentionPanel } from './attentionPanel';
import type { ExplainController } from './explainCommand';

export async function walkThroughExample(explainer: ExplainController): Promise<void> {
  const text = WALKTHROUGH_EXAMPLE;
  // the sentence in an editor of its own, so the reader can change it and explain it again
  const doc = await vscode.workspace.openTextDocument({ content: text, language: 'plaintext' });
  const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preview: true });
  editor.selection = new vscode.Selection(doc.positionAt(0), doc.positionAt(text.length));
  await explainer.show({ uri: doc.uri, span: { start: 0, end: text.length, text } });
  const panel = AttentionPanel.current;
  if (!panel?.shown) return; // the explanation failed: the panel shows why
  await panel.walkThrough('source', 0);
}
