/**
 * "Attention Lens: Compare with…": two sentences side by side in the panel. Two selected lines are compared
 * directly; otherwise the first sentence is the selection (or the panel's sentence) and the second is asked for.
 */
import * as vscode from 'vscode';
import { COMPARE_DEMO } from '../shared/protocol';
import { AttentionPanel, type PanelDeps } from './attentionPanel';

/** The two non-empty lines of a selection, when it holds exactly two. */
export function twoLines(text: string): [string, string] | undefined {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  return lines.length === 2 ? [lines[0], lines[1]] : undefined;
}

export async function compareWith(deps: PanelDeps): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const selected = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection).trim() : '';
  let pair = twoLines(selected);
  if (!pair) {
    const first = selected || AttentionPanel.current?.shown?.explanation.sourceText || COMPARE_DEMO.a;
    const second = await vscode.window.showInputBox({
      title: 'Attention Lens: Compare with…',
      prompt: `Compare “${first.length > 50 ? `${first.slice(0, 50)}…` : first}” with:`,
      value: first === COMPARE_DEMO.a ? COMPARE_DEMO.b : first,
      validateInput: (v) => (!v.trim() ? 'Type a sentence' : v.trim() === first.trim() ? 'This is the same sentence: change something (for example swap two words)' : undefined),
    });
    if (second === undefined) return;
    pair = [first, second];
  }
  const panel = AttentionPanel.createOrShow(deps, 'Attention: compare');
  await panel.runWhy({ type: 'compare', a: pair[0], b: pair[1] });
}
