/**
 * Hover and other host text with hostile document content. Extends host-hoverMarkdown.test.ts (escaping unit tests)
 * with: the real hover provider (loaded against a stand-in `vscode` module) on a document full of HTML, Markdown
 * and command links, `$(icon)` syntax, entities and javascript: links, explained by the real engine — the hover's
 * MarkdownString allows no HTML, no theme icons and only its own command; rendered by a CommonMark renderer it
 * has exactly one link (that command) and shows the document's text verbatim. Also the error hover, the status
 * bar text and notification text for hostile model folder names and model-file values.
 */
import assert from 'node:assert/strict';
import Module, { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { JSDOM } from 'jsdom';
import { explain, loadModelFolder } from '../../../src/model';
import { ModelRequestError } from '../../../src/worker/workerProtocol';
import { buildHoverMarkdown, escapeMarkdown } from '../../../src/host/hoverMarkdown';
import { describeModelError, notificationText } from '../../../src/host/modelClient';
import { ExplanationStore } from '../../../src/host/explanationStore';
import { DEFAULTS } from '../../../src/host/settings';
import { COMMANDS } from '../../../src/host/commands';
import { TINY_MODEL } from '../../helpers/golden';
import { attentionKindFromLayers } from '../../../src/shared/attention';

// ---- a stand-in for the `vscode` module: just what the hover provider and status bar touch -------------------
class Position {
  constructor(readonly line: number, readonly character: number) {}
}
class Range {
  constructor(readonly start: Position, readonly end: Position) {}
}
class MarkdownString {
  supportHtml?: boolean;
  supportThemeIcons?: boolean;
  isTrusted?: boolean | { enabledCommands: readonly string[] };
  constructor(public value = '') {}
  appendText(text: string): this {
    this.value += text;
    return this;
  }
}
class Hover {
  constructor(readonly contents: MarkdownString, readonly range: Range) {}
}
const fakeVscode = { Position, Range, MarkdownString, Hover, ThemeColor: class {}, StatusBarAlignment: { Right: 2 } };
const loader = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
const realLoad = loader._load;
loader._load = function (request: string, parent: unknown, isMain: boolean) {
  return request === 'vscode' ? fakeVscode : realLoad.call(this, request, parent, isMain);
};
const localRequire = createRequire(__filename);
const { AttentionHoverProvider } = localRequire('../../../src/host/hoverProvider') as typeof import('../../../src/host/hoverProvider');
const { statusText } = localRequire('../../../src/host/statusBar') as typeof import('../../../src/host/statusBar');
loader._load = realLoad;

let MarkdownIt: (new (o: object) => { render(s: string): string; renderInline(s: string): string }) | undefined;
try {
  MarkdownIt = createRequire(__filename)('markdown-it');
} catch {
  MarkdownIt = undefined; // a transitive dependency of @vscode/vsce, normally present
}
const renderer = MarkdownIt ? new MarkdownIt({ html: true, linkify: true }) : undefined;

/** A text document over a string, with VS Code's offset/position API and a simple word pattern. */
function fakeDocument(text: string, uri = 'file:///work/hostile.txt') {
  const starts = [0, ...[...text.matchAll(/\n/g)].map((m) => m.index! + 1)];
  const positionAt = (offset: number) => {
    let line = 0;
    while (line + 1 < starts.length && starts[line + 1] <= offset) line++;
    return new Position(line, offset - starts[line]);
  };
  const offsetAt = (p: Position) => starts[p.line] + p.character;
  const lineText = (line: number) => text.slice(starts[line], (starts[line + 1] ?? text.length + 1) - 1);
  return {
    uri: { toString: () => uri, scheme: 'file' },
    languageId: 'plaintext',
    lineCount: starts.length,
    positionAt,
    offsetAt,
    getText: (r?: Range) => (r ? text.slice(offsetAt(r.start), offsetAt(r.end)) : text),
    lineAt: (line: number) => ({ text: lineText(line), range: new Range(new Position(line, 0), new Position(line, lineText(line).length)) }),
    getWordRangeAtPosition: (p: Position) => {
      const at = offsetAt(p);
      for (const m of text.matchAll(/[\p{L}\p{N}_]+/gu)) {
        if (m.index! <= at && at < m.index! + m[0].length) return new Range(positionAt(m.index!), positionAt(m.index! + m[0].length));
      }
      return undefined;
    },
  };
}

const token = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose() {} }) };
const lm = loadModelFolder(TINY_MODEL);
/** One hostile construct per line (each line is the sentence a hover explains; the tiny model has 64 positions). */
const LINES = [
  'Click [here](command:workbench.action.quit) now.',
  'An <img src=x onerror=alert(1)> image.',
  'Icons $(zap) and $(alert~spin) here.',
  'Code `rm -rf ~` here.',
  'Entity &lt;b&gt; here.',
  'Link javascript:alert(1) here.',
  'Tag <script>alert(2)</script> here.',
  'Bidi \u202eevil\u202c here.',
  'Image ![i](http://e.x/i.png) here.',
];
const TEXT = LINES.join('\n');

function provider(explainImpl?: (text: string) => Promise<unknown>) {
  const models = {
    settings: { ...DEFAULTS },
    model: { dir: TINY_MODEL },
    explain: explainImpl ?? (async (text: string) => ({ explanation: explain(lm, text, { maxSourceTokens: 128, maxNewTokens: 8 }), info: {} })),
  };
  return new AttentionHoverProvider(models as never, new ExplanationStore());
}

/** Links and tags of rendered Markdown, and its visible text. */
function rendered(markdown: string) {
  const html = renderer!.render(markdown);
  const body = new JSDOM(`<body>${html}</body>`).window.document.body;
  return {
    links: Array.from(body.querySelectorAll('a')).map((a) => a.getAttribute('href') ?? ''),
    tags: new Set(Array.from(body.querySelectorAll('*')).map((e) => e.tagName.toLowerCase())),
    text: body.textContent ?? '',
  };
}

describe('hover provider on a hostile document (real engine, stand-in vscode)', () => {
  const doc = fakeDocument(TEXT);
  const words: Array<[number, string]> = [
    [0, 'here'], [0, 'command'], [0, 'workbench'], [1, 'img'], [1, 'onerror'], [1, 'alert'], [2, 'zap'], [2, 'spin'], [3, 'rm'], [4, 'lt'],
    [5, 'javascript'], [6, 'script'], [7, 'evil'], [8, 'http'],
  ];

  for (const [line, word] of words) {
    test(`hovering "${word}" in ${JSON.stringify(LINES[line])}`, async (t) => {
      const at = TEXT.indexOf(LINES[line]) + LINES[line].indexOf(word) + 1;
      const hover = (await provider().provideHover(doc as never, doc.positionAt(at) as never, token as never)) as unknown as Hover | undefined;
      assert.ok(hover, 'a hover is shown');
      const md = hover.contents;
      assert.equal(md.supportHtml, false, 'no HTML');
      assert.equal(md.supportThemeIcons, false, 'no $(icon) rendering');
      assert.deepEqual(md.isTrusted, { enabledCommands: [COMMANDS.openFromHover] }, 'only its own command may run');
      assert.ok(!/(^|[^\\])\$\(/.test(md.value), 'no unescaped $( in the Markdown');
      assert.ok(!/<(?!\/?(?:b|i)\b)/.test(md.value.replace(/&lt;/g, '')), 'no raw < in the Markdown');
      if (!renderer) return t.skip('markdown-it is not installed: Markdown not rendered');
      const r = rendered(md.value);
      assert.equal(r.links.length, 1, `exactly one link: ${r.links.join(' ')}`);
      assert.ok(r.links[0].startsWith(`command:${COMMANDS.openFromHover}?`), r.links[0]);
      const args = JSON.parse(decodeURIComponent(r.links[0].slice(r.links[0].indexOf('?') + 1)));
      assert.deepEqual(Object.keys(args[0]).sort(), ['end', 'offset', 'start', 'uri']);
      assert.ok(Number.isInteger(args[0].offset) && args[0].offset >= 0, 'the hovered word\'s offset in its sentence');
      for (const tag of ['img', 'script', 'iframe', 'code', 'strong', 'del', 'h1', 'h2', 'h3']) assert.ok(!r.tags.has(tag), `<${tag}> rendered`);
      assert.ok(r.text.includes(`Attention Lens: ${word}`), 'the hovered word is shown as typed');
    });
  }

  test('the table shows the real pieces of the hostile text verbatim', async () => {
    if (!renderer) return;
    const at = TEXT.indexOf('onerror') + 1;
    const hover = (await provider().provideHover(doc as never, doc.positionAt(at) as never, token as never)) as unknown as Hover;
    const cells = new JSDOM(`<body>${renderer.render(hover.contents.value)}</body>`).window.document.querySelectorAll('tbody tr td:nth-child(2)');
    const pieces = explain(lm, LINES[1], { maxSourceTokens: 128, maxNewTokens: 8 }).sourcePieces;
    assert.ok(cells.length > 0);
    for (const c of Array.from(cells)) {
      const text = (c.textContent ?? '').replace(/U\+([0-9A-F]{4})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
      assert.ok(pieces.includes(text === '∅' ? '' : text), `cell ${JSON.stringify(c.textContent)} is one of the pieces`);
    }
  });

  test('an error hover (hostile model-file value in the message) is plain text with no links', async () => {
    const evil = new ModelRequestError({ kind: 'model', message: '/m/[x](command:workbench.action.quit)/config.json: key "model_type" is "<img src=x onerror=alert(1)> $(zap)"' });
    const hover = (await provider(async () => Promise.reject(evil)).provideHover(doc as never, doc.positionAt(3) as never, token as never)) as unknown as Hover;
    const md = hover.contents;
    assert.equal(md.supportHtml, false);
    assert.ok(!md.isTrusted, 'not trusted: no command can run');
    assert.ok(!md.supportThemeIcons);
    if (!renderer) return;
    const r = rendered(md.value);
    assert.deepEqual(r.links, []);
    assert.ok(!r.tags.has('img'));
    assert.ok(r.text.includes('key "model_type" is "<img src=x onerror=alert(1)> $(zap)"'), r.text);
  });
});

describe('hover Markdown escaping, more hostile forms', () => {
  const samples = [
    '](command:workbench.action.quit)', '[x](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22rm%22%7D)', '$(zap)', '$(alert~spin)',
    '`', '``x``', '&lt;b&gt;', '&#60;script&#62;', 'javascript:alert(1)', '[a]: javascript:alert(1)', '<https://e.x>', 'www.example.com',
    '<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '\\', '\\\\[x](y)', '| a | b |', '# h', '***', '~~~', '<!-- x -->',
  ];
  test('each renders as its own literal text, with no tag or link', (t) => {
    if (!renderer) return t.skip('markdown-it is not installed');
    for (const s of samples) {
      const html: string = renderer.renderInline(escapeMarkdown(s));
      const body: HTMLElement = new JSDOM(`<body>${html}</body>`).window.document.body;
      assert.equal(body.children.length, 0, `${JSON.stringify(s)} → ${html}`);
      assert.equal(body.textContent, s, `${JSON.stringify(s)} reads back`);
    }
  });

  test('a hover built from them has one link and one table', (t) => {
    if (!renderer) return t.skip('markdown-it is not installed');
    const pieces = [...samples.slice(0, 6), '</s>'];
    const e = explain(lm, 'x', { maxNewTokens: 2 });
    const S = pieces.length;
    const uniform = Array.from({ length: e.model.encoderHeads * S * S }, () => 1 / S);
    const hostile = {
      ...e,
      sourceText: pieces.join(''),
      sourcePieces: pieces,
      sourceOffsets: pieces.map((_piece, i): [number, number] => [pieces.slice(0, i).join('').length, pieces.slice(0, i + 1).join('').length]),
      translation: samples.slice(2, 9).join(' '), // under the 160 characters a hover shows
      attentions: { ...e.attentions, encoder: attentionKindFromLayers({ heads: e.model.encoderHeads, queryLen: S, keyLen: S, queryTokens: pieces, keyTokens: pieces }, Array.from({ length: e.model.encoderLayers }, () => uniform)) },
    };
    const md = buildHoverMarkdown(hostile, 0, 5, { aggregation: 'lastLayerMean', layer: 1, head: 1, queryText: samples[1], openCommand: { id: COMMANDS.openFromHover, args: [{ uri: samples[1], start: 0, end: 1 }] } })!;
    const r = rendered(md);
    assert.equal(r.links.length, 1);
    assert.ok(r.links[0].startsWith(`command:${COMMANDS.openFromHover}?`));
    assert.ok(r.tags.has('table'));
    assert.ok(r.text.includes(`Translation: ${samples.slice(2, 9).join(' ')}`), `translation verbatim: ${JSON.stringify(r.text)}`);
  });
});

describe('status bar and notifications with hostile model names and values', () => {
  test('a $(icon) in the model folder name shows as text in the status bar', () => {
    const model = { dir: '/m/$(zap) x', name: '$(zap) $(alert~spin) \\$(x)', bundled: false };
    for (const kind of ['idle', 'loading', 'error'] as const) {
      const text = statusText({ kind, model, message: '' } as never);
      const icons = [...text.matchAll(/(\\)?\$\([a-z0-9-]+(?:~[a-z]+)?\)/gi)].filter((m) => !m[1]);
      assert.equal(icons.length, 1, `only the state icon: ${text}`);
      assert.ok(text.endsWith('\\$(zap) \\$(alert~spin) \\\\$(x)'), text);
    }
  });

  test('notification text cannot carry a link: model-file values and folder names are defused', () => {
    const link = /\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^)\s]+)\)/i; // the pattern VS Code turns into a link
    const hostile = '/m/[fix it](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22rm%22%7D)/config.json: key "model_type" is "[x](file:///etc/passwd)"';
    const message = describeModelError(new ModelRequestError({ kind: 'model', message: hostile }));
    assert.ok(!link.test(message), message);
    assert.equal(message.replaceAll('\u200b', ''), `could not load model: ${hostile}`, 'the text reads the same');
    assert.ok(!link.test(notificationText('using model “[a](https://e.x)”')));
    assert.equal(notificationText('plain text (no links)'), 'plain text (no links)');
  });
});
