/**
 * Integration suite that runs INSIDE the real extension host. Bundled by scripts/build.mjs to
 * dist/test/extension-host.js and loaded through `extensionTestsPath`, both by
 * @vscode/test-electron (test/electron/runTests.ts) and by the code-server e2e run.
 * Plain node:assert, no test framework: `run()` resolves when every test passed and rejects with a
 * summary otherwise (the host then exits with code 1).
 */
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';

const EXTENSION_ID = 'attention-lens.attention-lens';
const LION = 'The lion kills the tiger.';
const SAMPLE = `${LION}\nThe children read a book in the garden.\n\n   \n`;

interface LastExplanation {
  explanation: { translation: string; sourceText: string; sourcePieces: string[]; truncated: boolean; steps: unknown[] };
  source: { uri: string; start: number; text: string };
  title: string;
}
interface TestState {
  panel?: { title: string; ready: boolean; visible: boolean };
  model: { name: string; dir: string; state: string; statusText: string };
  lastError?: string;
  translation?: string;
  translationViewVisible: boolean;
}

const lastExplanation = () => vscode.commands.executeCommand<LastExplanation | undefined>('attentionLens._lastExplanation');
const testState = () => vscode.commands.executeCommand<TestState>('attentionLens._testState');

async function waitFor<T>(what: string, probe: () => PromiseLike<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function hoverText(uri: vscode.Uri, position: vscode.Position): Promise<string> {
  const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, position)) ?? [];
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : c.value))
    .join('\n---\n');
}

async function setSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('attentionLens').update(key, value, vscode.ConfigurationTarget.Global);
}

let editor: vscode.TextEditor;

async function select(text: string, occurrence = 0): Promise<void> {
  const doc = editor.document;
  let at = -1;
  for (let i = 0; i <= occurrence; i++) at = doc.getText().indexOf(text, at + 1);
  assert.ok(at >= 0, `"${text}" is in the sample`);
  editor = await vscode.window.showTextDocument(doc, { preview: false, viewColumn: editor.viewColumn });
  editor.selection = new vscode.Selection(doc.positionAt(at), doc.positionAt(at + text.length));
}

const tests: Array<[string, () => Promise<void>]> = [
  [
    'the extension activates and contributes its commands',
    async () => {
      const ext = vscode.extensions.getExtension(EXTENSION_ID);
      assert.ok(ext, `${EXTENSION_ID} is installed`);
      await ext.activate();
      assert.ok(ext.isActive);
      const commands = await vscode.commands.getCommands(true);
      for (const id of ['attentionLens.explainSelection', 'attentionLens.chooseModel']) assert.ok(commands.includes(id), id);
      const doc = await vscode.workspace.openTextDocument({ content: SAMPLE, language: 'plaintext' });
      editor = await vscode.window.showTextDocument(doc, { preview: false });
    },
  ],
  [
    'explaining a selection opens the panel with the model translation',
    async () => {
      await select(LION);
      await vscode.commands.executeCommand('attentionLens.explainSelection');
      const last = await waitFor('an explanation', lastExplanation);
      assert.equal(last.explanation.sourceText, LION);
      assert.ok(last.explanation.translation.trim().length > 0, 'non-empty translation');
      assert.equal(last.explanation.sourcePieces.at(-1), '</s>');
      assert.equal(last.source.start, 0);
      assert.equal(last.title, `Attention: ${LION}`);
      const tab = vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('attentionLens.panel'));
      assert.ok(tab, 'a webview tab for attentionLens.panel is open');
      assert.equal(tab.label, `Attention: ${LION}`);
      const state = await waitFor('the panel webview to post ready', async () => ((await testState()).panel?.ready ? testState() : undefined));
      assert.equal(state.panel?.title, `Attention: ${LION}`);
      assert.equal(state.model.state, 'ready');
      assert.equal(state.model.statusText, '$(eye) Attention Lens: bundled');
    },
  ],
  [
    'hovering an explained word shows its top attended source tokens',
    async () => {
      const doc = editor.document;
      const text = await hoverText(doc.uri, doc.positionAt(LION.indexOf('lion') + 1));
      assert.match(text, /Attention Lens/);
      assert.match(text, /Attention Lens: lion/);
      assert.match(text, /\| 1 \| .+ \| \d\.\d{3} \|/, 'a table row with a weight');
      assert.match(text, /▁lion|▁tiger|▁kill/, 'a source token of the sentence');
      assert.match(text, /command:attentionLens\.openFromHover/);
    },
  ],
  [
    'hovering outside the explained range explains the sentence on demand',
    async () => {
      const doc = editor.document;
      const text = await hoverText(doc.uri, doc.positionAt(doc.getText().indexOf('garden') + 2));
      assert.match(text, /Attention Lens: garden/);
      assert.match(text, /▁garden|▁book|▁children|▁read/);
    },
  ],
  [
    'an empty line is reported, not explained',
    async () => {
      const before = await lastExplanation();
      const doc = editor.document;
      const emptyLine = doc.lineAt(2);
      editor.selection = new vscode.Selection(emptyLine.range.start, emptyLine.range.start);
      await vscode.commands.executeCommand('attentionLens.explainSelection');
      const after = await lastExplanation();
      assert.equal(after?.explanation.sourceText, before?.explanation.sourceText, 'the panel still shows the previous explanation');
    },
  ],
  [
    'an empty selection explains the current line',
    async () => {
      const doc = editor.document;
      const line = doc.lineAt(1);
      editor.selection = new vscode.Selection(line.range.start.translate(0, 4), line.range.start.translate(0, 4));
      await vscode.commands.executeCommand('attentionLens.explainSelection');
      const last = await lastExplanation();
      assert.equal(last?.explanation.sourceText, line.text);
      assert.equal(last?.title, `Attention: ${line.text.slice(0, 30)}…`);
    },
  ],
  [
    'text over the token budget is truncated with a notice',
    async () => {
      await setSetting('maxTokens', 8);
      try {
        await select('The children read a book in the garden.');
        await vscode.commands.executeCommand('attentionLens.explainSelection');
        const last = await lastExplanation();
        assert.equal(last?.explanation.truncated, true);
        assert.ok((last?.explanation.sourcePieces.length ?? 99) <= 8);
      } finally {
        await setSetting('maxTokens', undefined);
      }
    },
  ],
  [
    'a broken model folder gives a clear error and the bundled model comes back',
    async () => {
      const missing = path.join(os.tmpdir(), `attention-lens-missing-${Date.now()}`);
      await setSetting('modelPath', missing);
      try {
        await waitFor('the new model path', async () => ((await testState()).model.dir === missing ? true : undefined), 5000);
        await select(LION);
        await vscode.commands.executeCommand('attentionLens.explainSelection');
        const state = await testState();
        assert.match(state.lastError ?? '', /^could not load model: /);
        assert.ok(state.lastError?.includes(missing), state.lastError);
        assert.equal(state.model.state, 'error');
      } finally {
        await setSetting('modelPath', undefined);
      }
      await waitFor('the bundled model', async () => ((await testState()).model.name === 'bundled' ? true : undefined), 5000);
      await vscode.commands.executeCommand('attentionLens.explainSelection');
      const state = await testState();
      assert.equal(state.lastError, undefined);
      assert.equal((await lastExplanation())?.explanation.sourceText, LION);
    },
  ],
  [
    'the hover can be turned off',
    async () => {
      await setSetting('hover.enabled', false);
      try {
        const doc = editor.document;
        const text = await hoverText(doc.uri, doc.positionAt(LION.indexOf('lion') + 1));
        assert.doesNotMatch(text, /Attention Lens/);
      } finally {
        await setSetting('hover.enabled', undefined);
      }
    },
  ],
  [
    'the Translation view translates the selection',
    async () => {
      await vscode.commands.executeCommand('workbench.view.extension.attentionLens');
      await waitFor('the Translation view', async () => ((await testState()).translationViewVisible ? true : undefined));
      await select('The children read a book in the garden.');
      const state = await waitFor('a translation', async () => {
        const s = await testState();
        return s.translation ? s : undefined;
      });
      assert.ok(state.translation!.trim().length > 0);
    },
  ],
];

export async function run(): Promise<void> {
  const failures: string[] = [];
  console.log('Attention Lens extension-host tests');
  for (const [name, body] of tests) {
    const started = Date.now();
    try {
      await Promise.race([body(), new Promise((_, reject) => setTimeout(() => reject(new Error('test timed out after 90 s')), 90_000))]);
      console.log(`  ✔ ${name} (${Date.now() - started} ms)`);
    } catch (err) {
      const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
      failures.push(`${name}: ${text}`);
      console.error(`  ✘ ${name}\n${text}`);
    }
  }
  console.log(`# pass ${tests.length - failures.length}\n# fail ${failures.length}`);
  if (failures.length > 0) throw new Error(`${failures.length} of ${tests.length} Attention Lens integration tests failed:\n${failures.join('\n')}`);
}
