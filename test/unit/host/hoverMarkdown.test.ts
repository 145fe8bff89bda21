/** Hover Markdown: escaping of untrusted token text and the top-attended table on hand-computed numbers. */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { attentionKindFromLayers } from '../../../src/shared/attention';
import type { Explanation } from '../../../src/shared/explanation';
import {
  buildHoverMarkdown,
  commandUri,
  escapeMarkdown,
  hoverRow,
  piecesInRange,
  topAttended,
  weightBar,
} from '../../../src/host/hoverMarkdown';

/**
 * Source "ab cd": pieces ▁ab [0,2), ▁cd [3,5), </s> [5,5). Encoder: 2 layers × 2 heads × 3 × 3.
 * Rows are query-major within each head.
 */
function fabricated(pieces = ['▁ab', '▁cd', '</s>']): Explanation {
  const layer0 = [
    // head 0: q0, q1, q2
    1, 0, 0, 0, 1, 0, 0, 0, 1,
    // head 1
    0, 0, 1, 0.5, 0.5, 0, 1 / 3, 1 / 3, 1 / 3,
  ];
  const layer1 = [
    // head 0
    0.5, 0.3, 0.2, 0.1, 0.6, 0.3, 0.2, 0.2, 0.6,
    // head 1
    0.1, 0.7, 0.2, 0.2, 0.2, 0.6, 0.3, 0.3, 0.4,
  ];
  const encoder = attentionKindFromLayers({ heads: 2, queryLen: 3, keyLen: 3, queryTokens: pieces, keyTokens: pieces }, [layer0, layer1]);
  const empty = attentionKindFromLayers({ heads: 2, queryLen: 0, keyLen: 0, queryTokens: [], keyTokens: [] }, []);
  return {
    model: { name: 'test', dModel: 4, encoderLayers: 2, decoderLayers: 2, encoderHeads: 2, decoderHeads: 2, vocabSize: 10, activation: 'relu' },
    sourceText: 'ab cd',
    truncated: false,
    sourcePieces: pieces,
    sourceIds: [5, 6, 0],
    sourceOffsets: [
      [0, 2],
      [3, 5],
      [5, 5],
    ],
    targetPieces: ['<pad>', '▁x', '</s>'],
    targetIds: [9, 7, 0],
    translation: 'x',
    attentions: { encoder, decoder: empty, cross: empty },
    positional: { positions: 3, dModel: 4, values: new Float32Array(12) },
    steps: [],
    numBeams: 1,
    timingsMs: { tokenize: 0, encode: 0, decode: 0, total: 0 },
  };
}

const near = (actual: ArrayLike<number>, expected: number[]) => {
  assert.equal(actual.length, expected.length);
  Array.from(actual).forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-7, `index ${i}: ${v} vs ${expected[i]}`));
};

/** Table rows as [piece, weight] in display order. */
function tableRows(md: string): Array<[string, string]> {
  return md
    .split('\n')
    .filter((l) => /^\| \d+ \|/.test(l))
    .map((l) => {
      const cells = l.split(/(?<!\\)\|/).map((c) => c.trim());
      return [cells[2], cells[3]] as [string, string];
    });
}

describe('aggregation (hand-computed)', () => {
  const enc = fabricated().attentions.encoder;
  const choice = (aggregation: any, layer = 1, head = 1) => ({ aggregation, layer, head });

  test('last layer mean over heads', () => near(hoverRow(enc, 0, choice('lastLayerMean')).row, [0.3, 0.5, 0.2]));
  test('last layer max over heads', () => near(hoverRow(enc, 0, choice('lastLayerMax')).row, [0.5, 0.7, 0.2]));
  test('first layer mean', () => near(hoverRow(enc, 0, choice('firstLayerMean')).row, [0.5, 0, 0.5]));
  test('mean over all layers and heads', () => near(hoverRow(enc, 0, choice('allLayersMean')).row, [0.4, 0.25, 0.35]));
  test('one layer and head (1-based, clamped)', () => {
    near(hoverRow(enc, 0, choice('layerHead', 2, 2)).row, [0.1, 0.7, 0.2]);
    near(hoverRow(enc, 1, choice('layerHead', 99, 99)).row, [0.2, 0.2, 0.6]);
    assert.equal(hoverRow(enc, 1, choice('layerHead', 99, 99)).description, 'layer 2 of 2, head 2 of 2');
  });

  test('top tokens are sorted by weight, ties in source order', () => {
    const { tokens } = topAttended(enc, [0], choice('firstLayerMean'), 3);
    assert.deepEqual(
      tokens.map((t) => [t.piece, t.weight]),
      [
        ['▁ab', 0.5],
        ['</s>', 0.5],
        ['▁cd', 0],
      ],
    );
  });

  test('a word covering several pieces averages their rows', () => {
    const { tokens } = topAttended(enc, [0, 1], choice('lastLayerMean'), 3);
    // q0 [0.3, 0.5, 0.2], q1 [0.15, 0.4, 0.45] -> [0.225, 0.45, 0.325]
    assert.deepEqual(tokens.map((t) => t.index), [1, 2, 0]);
    near(tokens.map((t) => t.weight), [0.45, 0.325, 0.225]);
  });
});

describe('piecesInRange', () => {
  const offsets: Array<[number, number]> = [
    [0, 2],
    [3, 5],
    [5, 5],
  ];
  test('overlap, containment and the zero-width eos', () => {
    assert.deepEqual(piecesInRange(offsets, 3, 5), [1]);
    assert.deepEqual(piecesInRange(offsets, 0, 5), [0, 1]);
    assert.deepEqual(piecesInRange(offsets, 1, 1), [0]);
    assert.deepEqual(piecesInRange(offsets, 2, 3), []);
    assert.deepEqual(piecesInRange(offsets, 5, 5), []);
  });
});

describe('buildHoverMarkdown', () => {
  const opts = { aggregation: 'lastLayerMean' as const, layer: 1, head: 1 };

  test('heading, table with the right top tokens, translation and command link', () => {
    const md = buildHoverMarkdown(fabricated(), 3, 5, { ...opts, queryText: 'cd', openCommand: { id: 'attentionLens.openFromHover', args: [{ uri: 'file:///a (1).txt', start: 0, end: 5 }] } })!;
    assert.ok(md.startsWith('#### Attention Lens: cd\n'), md);
    // q1, last layer: head0 [0.1, 0.6, 0.3], head1 [0.2, 0.2, 0.6] -> mean [0.15, 0.4, 0.45]
    assert.deepEqual(tableRows(md), [
      ['&lt;\\/s&gt;', '0.450'],
      ['▁cd', '0.400'],
      ['▁ab', '0.150'],
    ]);
    assert.ok(md.includes('layer 2 of 2, mean of 2 heads'));
    assert.ok(md.includes('Translation: x'));
    const link = /\[Open Attention Lens\]\((command:attentionLens\.openFromHover\?[^ )]+) "Open the full attention view"\)/.exec(md);
    assert.ok(link, md);
    const args = JSON.parse(decodeURIComponent(link[1].slice(link[1].indexOf('?') + 1)));
    assert.deepEqual(args, [{ uri: 'file:///a (1).txt', start: 0, end: 5 }]);
  });

  test('nothing for offsets outside every piece', () => {
    assert.equal(buildHoverMarkdown(fabricated(), 2, 3, opts), undefined);
  });

  test('mentions truncation', () => {
    const e = fabricated();
    e.truncated = true;
    assert.match(buildHoverMarkdown(e, 0, 2, opts)!, /Only the first 3 tokens were explained/);
  });
});

describe('escaping untrusted text', () => {
  const hostile = ['<img src=x onerror=alert(1)>', '[x](command:workbench.action.quit)', '*bold*', 'a|b', '`code`', '$(zap)', '# h', '![i](http://e.x/i.png)'];

  test('escapeMarkdown makes each sample inert', () => {
    assert.equal(escapeMarkdown('<img src=x onerror=alert(1)>'), '&lt;img src\\=x onerror\\=alert\\(1\\)&gt;');
    assert.equal(escapeMarkdown('[x](command:workbench.action.quit)'), '\\[x\\]\\(command\\:workbench\\.action\\.quit\\)');
    assert.equal(escapeMarkdown('*bold*'), '\\*bold\\*');
    assert.equal(escapeMarkdown('a|b'), 'a\\|b');
    assert.equal(escapeMarkdown('x\ny'), 'x y');
    assert.equal(escapeMarkdown('a\u202eb'), 'aU\\+202Eb');
    assert.equal(escapeMarkdown('&amp;'), '&amp;amp\\;');
  });

  test('hostile tokens stay inert inside the hover', () => {
    const e = fabricated(hostile.slice(0, 3));
    const md = buildHoverMarkdown(e, 0, 5, { aggregation: 'lastLayerMean', layer: 1, head: 1, queryText: '<b>*w*</b>' })!;
    assert.ok(!md.includes('<img'), 'no raw HTML');
    assert.ok(!md.includes('<b>'), 'no raw HTML in the heading');
    assert.ok(!md.includes('](command:workbench'), 'no injected command link');
    assert.ok(!/(?<!\\)\*bold/.test(md), 'no emphasis');
    // Every table row still has exactly 5 unescaped pipes (4 columns).
    for (const row of md.split('\n').filter((l) => l.startsWith('| '))) {
      assert.equal(row.split(/(?<!\\)\|/).length - 1, 5, row);
    }
  });

  test('rendered by a CommonMark renderer, hostile text produces no tags or links', (t) => {
    let MarkdownIt: any;
    try {
      MarkdownIt = createRequire(import.meta.url)('markdown-it');
    } catch {
      t.skip('markdown-it not installed');
      return;
    }
    const md = new MarkdownIt({ html: true, linkify: true });
    for (const h of hostile) {
      const html: string = md.renderInline(escapeMarkdown(h));
      assert.ok(!/<(img|a|em|strong|code|h\d)\b/.test(html), `${h} -> ${html}`);
    }
    const e = fabricated(hostile.slice(0, 3));
    const html: string = md.render(buildHoverMarkdown(e, 0, 5, { aggregation: 'lastLayerMean', layer: 1, head: 1, openCommand: { id: 'attentionLens.openFromHover', args: [] } })!);
    const links = [...html.matchAll(/<a href="([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(links.length, 1);
    assert.ok(links[0].startsWith('command:attentionLens.openFromHover?'));
    assert.ok(!html.includes('<img'));
    assert.ok(html.includes('<table>'));
  });

  test('command arguments cannot break out of the link', () => {
    const uri = commandUri('x.y', [{ s: ') [evil](command:z' }]);
    assert.ok(!/[()\s[\]]/.test(uri.slice('command:x.y?'.length)), uri);
  });
});

describe('weightBar', () => {
  test('eighth-cell resolution on a 10-cell scale', () => {
    assert.equal(weightBar(0), '');
    assert.equal(weightBar(1), '██████████');
    assert.equal(weightBar(0.45), '████▌');
    assert.equal(weightBar(Number.NaN), '');
    assert.equal(weightBar(2), '██████████');
  });
});
