/** Pure webview maths: aggregation, rollout, colour scales, heatmap pixels and geometry, view-state rules. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AttentionKind } from '../../../src/shared/explanation';
import {
  AGGREGATIONS,
  aggregateHeads,
  aggregateRow,
  attentionKindFromLayers,
  attentionRow,
  headMatrix,
  maxOverHeads,
  meanOverHeads,
  residualAttention,
  rollout,
} from '../../../src/shared/attention';
import { attentionRange, valueRange } from '../../../webview/shared/valueRange';
import {
  buildLut,
  colorblindScale,
  cssGradient,
  lutColor,
  parseCssColor,
  relativeLuminance,
  themeScale,
  type RGB,
} from '../../../webview/shared/colorScale';
import { cellAt, computeLayout, matrixToRgba, moveCell, truncateLabel } from '../../../webview/shared/heatmap';
import { describeDimension, peColumn } from '../../../webview/panel/pe';
import { crossWeightsForStep, selectMatrix } from '../../../webview/panel/selection';
import { defaultPeDimensions, defaultViewState, readPersisted, sanitizeView } from '../../../webview/panel/state';
import { candidateRows } from '../../../webview/panel/steps';
import { makeAttention, makeExplanation, marianPositional } from '../../../webview/testing/fixtures';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, eps = 1e-12): void => {
  assert.equal(a.length, b.length, 'length');
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= eps, `index ${i}: ${a[i]} vs ${b[i]}`);
};

/** A kind from per-layer lists of per-head matrices. */
function kindOf(layers: number[][][][]): AttentionKind {
  const heads = layers[0].length;
  const q = layers[0][0].length;
  const k = layers[0][0][0].length;
  const meta = { heads, queryLen: q, keyLen: k, queryTokens: Array.from({ length: q }, (_, i) => `q${i}`), keyTokens: Array.from({ length: k }, (_, i) => `k${i}`) };
  return attentionKindFromLayers(meta, layers.map((hs) => hs.flat(2)));
}

describe('aggregation over heads', () => {
  const kind = kindOf([
    [
      [[0.2, 0.8], [0.6, 0.4]],
      [[0.4, 0.6], [1.0, 0.0]],
    ],
  ]);

  it('reads one head and one row out of the [layers, heads, q, k] layout as views, not copies', () => {
    close(headMatrix(kind, 0, 1), [0.4, 0.6, 1.0, 0.0], 1e-7);
    close(attentionRow(kind, 0, 1, 1), [1.0, 0.0]);
    assert.equal(headMatrix(kind, 0, 1).buffer, kind.weights.buffer);
    assert.equal(attentionRow(kind, 0, 1, 1).byteOffset, kind.weights.byteOffset + 6 * 4);
  });

  it('refuses indices outside the kind instead of reading a neighbour', () => {
    assert.throws(() => headMatrix(kind, 1, 0), /layer 1 is outside 0…0/);
    assert.throws(() => headMatrix(kind, 0, 2), /head 2 is outside 0…1/);
    assert.throws(() => attentionRow(kind, 0, 0, 2), /query 2 is outside 0…1/);
    assert.throws(() => attentionKindFromLayers({ ...kind }, [[0.5]]), /attention layer 0 has 1 values, expected 8/);
  });

  it('computes the element-wise mean', () => {
    close(meanOverHeads(kind, 0).values, [0.3, 0.7, 0.8, 0.2], 1e-7);
  });

  it('computes the element-wise max', () => {
    close(maxOverHeads(kind, 0).values, [0.4, 0.8, 1.0, 0.4], 1e-7);
  });

  it('gives each row of every aggregation the same numbers row by row as the whole matrix', () => {
    const tokens = ['a', 'b', 'c'];
    const big = makeAttention(3, 2, tokens, tokens, false);
    for (const aggregation of AGGREGATIONS) {
      for (let layer = 0; layer < 3; layer++) {
        const m = aggregateHeads(big, { aggregation, layer, head: 1 });
        for (let q = 0; q < 3; q++) close(aggregateRow(big, q, { aggregation, layer, head: 1 }), m.values.subarray(q * 3, q * 3 + 3), 0);
      }
    }
  });
});

describe('attention rollout', () => {
  // Layer 1: heads [[1,0],[0,1]] and [[1,0],[1,0]] → mean [[1,0],[0.5,0.5]] → 0.5·A+0.5·I = [[1,0],[0.25,0.75]].
  // Layer 2: one shape [[0,1],[1,0]] in both heads → 0.5·A+0.5·I = [[0.5,0.5],[0.5,0.5]].
  const kind = kindOf([
    [
      [[1, 0], [0, 1]],
      [[1, 0], [1, 0]],
    ],
    [
      [[0, 1], [1, 0]],
      [[0, 1], [1, 0]],
    ],
  ]);

  it('equals the residual-mixed first layer after one layer', () => {
    close(rollout(kind, 0).values, [1, 0, 0.25, 0.75]);
  });

  it('equals the hand-computed product Ã2·Ã1 after two layers', () => {
    // [[0.5,0.5],[0.5,0.5]] · [[1,0],[0.25,0.75]] = [[0.625,0.375],[0.625,0.375]]
    close(rollout(kind, 1).values, [0.625, 0.375, 0.625, 0.375]);
  });

  it('row-normalises the residual mix even when attention rows do not sum to 1', () => {
    close(residualAttention(Float64Array.from([2, 0, 0, 0]), 2), [1, 0, 0, 1]);
  });

  it('keeps every row a probability distribution on a larger example', () => {
    const tokens = ['a', 'b', 'c', 'd', 'e'];
    const big = makeAttention(4, 3, tokens, tokens, false);
    for (let l = 0; l < 4; l++) {
      const r = rollout(big, l);
      for (let i = 0; i < r.rows; i++) {
        let sum = 0;
        for (let j = 0; j < r.cols; j++) {
          assert.ok(r.values[i * r.cols + j] >= 0);
          sum += r.values[i * r.cols + j];
        }
        assert.ok(Math.abs(sum - 1) < 1e-12, `layer ${l} row ${i} sums to ${sum}`);
      }
    }
    assert.notDeepEqual(Array.from(rollout(big, 0).values), Array.from(rollout(big, 3).values));
  });

  it('refuses non-square (cross) attention', () => {
    const cross = kindOf([[[[0.5, 0.25, 0.25]]]]);
    assert.throws(() => rollout(cross, 0), /square/);
  });
});

describe('value ranges', () => {
  it('ignores non-finite values and widens degenerate ranges', () => {
    assert.deepEqual(valueRange([NaN, 0.2, 0.7, Infinity]), { min: 0.2, max: 0.7 });
    assert.deepEqual(valueRange([]), { min: 0, max: 1 });
    assert.deepEqual(valueRange([0, 0]), { min: 0, max: 1 });
    assert.deepEqual(attentionRange([0.1, 0.4]), { min: 0, max: 0.4 });
  });
});

describe('colour scales', () => {
  it('parses the colour syntaxes VS Code themes use', () => {
    assert.deepEqual(parseCssColor('#1e1e1e'), [30, 30, 30]);
    assert.deepEqual(parseCssColor(' #FFF '), [255, 255, 255]);
    assert.deepEqual(parseCssColor('#3794ff80'), [55, 148, 255]);
    assert.deepEqual(parseCssColor('rgb(1, 2, 3)'), [1, 2, 3]);
    assert.deepEqual(parseCssColor('rgba(10 20 30 / 0.5)'), [10, 20, 30]);
    assert.equal(parseCssColor('var(--x)'), undefined);
    assert.equal(parseCssColor(''), undefined);
    assert.equal(parseCssColor('#12345'), undefined);
  });

  it('theme scale runs from the background to the accent', () => {
    const bg: RGB = [30, 30, 30];
    const accent: RGB = [55, 148, 255];
    const f = themeScale(bg, accent);
    assert.deepEqual(f(0), bg);
    assert.deepEqual(f(1), accent);
    assert.deepEqual(f(0.5), [43, 89, 143]);
    assert.deepEqual(f(-3), bg, 'clamped below');
    assert.deepEqual(f(7), accent, 'clamped above');
  });

  it('colour-blind scale is viridis with strictly rising luminance', () => {
    assert.deepEqual(colorblindScale(0), [0x44, 0x01, 0x54]);
    assert.deepEqual(colorblindScale(1), [0xfd, 0xe7, 0x25]);
    let prev = -1;
    for (let i = 0; i <= 64; i++) {
      const lum = relativeLuminance(colorblindScale(i / 64));
      assert.ok(lum > prev, `luminance not rising at ${i}/64`);
      prev = lum;
    }
  });

  it('lookup tables sample the scale end to end', () => {
    const lut = buildLut(colorblindScale);
    assert.equal(lut.length, 256 * 3);
    assert.deepEqual(lutColor(lut, 0), colorblindScale(0));
    assert.deepEqual(lutColor(lut, 1), colorblindScale(1));
  });

  it('builds a CSS gradient from the scale', () => {
    const g = cssGradient(themeScale([0, 0, 0], [255, 255, 255]), 3);
    assert.equal(g, 'linear-gradient(to right, rgb(0, 0, 0) 0.0%, rgb(128, 128, 128) 50.0%, rgb(255, 255, 255) 100.0%)');
  });
});

describe('heatmap pixels and geometry', () => {
  const lut = buildLut((t) => [t * 255, 0, 255 - t * 255]);

  it('writes one RGBA pixel per cell at row-major offsets', () => {
    const values = [0, 0.25, 0.5, 0.75, 1, NaN];
    const rgba = matrixToRgba(values, 2, 3, lut, { min: 0, max: 1 });
    assert.equal(rgba.length, 2 * 3 * 4);
    const px = (r: number, c: number) => Array.from(rgba.slice((r * 3 + c) * 4, (r * 3 + c) * 4 + 4));
    assert.deepEqual(px(0, 0), [0, 0, 255, 255]);
    assert.deepEqual(px(0, 2), [128, 0, 127, 255]);
    assert.deepEqual(px(1, 1), [255, 0, 0, 255]);
    assert.deepEqual(px(1, 2), [0, 0, 0, 0], 'NaN is transparent');
  });

  it('maps values through the given range and clamps outside it', () => {
    const rgba = matrixToRgba([0.1, 0.2, 5], 1, 3, lut, { min: 0.1, max: 0.2 });
    assert.deepEqual(Array.from(rgba.slice(0, 4)), [0, 0, 255, 255]);
    assert.deepEqual(Array.from(rgba.slice(4, 8)), [255, 0, 0, 255]);
    assert.deepEqual(Array.from(rgba.slice(8, 12)), [255, 0, 0, 255]);
  });

  it('finds the cell under a point and nothing outside the grid', () => {
    const layout = computeLayout(3, 4, { rowLabelWidth: 20, colLabelHeight: 30, maxGrid: 112, padding: 4 });
    assert.equal(layout.cell, 28);
    assert.equal(layout.left, 28);
    assert.equal(layout.top, 38);
    assert.deepEqual(cellAt(layout, 28 + 2 * 28 + 1, 38 + 28 + 1), { row: 1, col: 2 });
    assert.equal(cellAt(layout, 27, 40), undefined);
    assert.equal(cellAt(layout, 28 + 4 * 28, 40), undefined);
    assert.equal(cellAt(layout, 30, 38 + 3 * 28), undefined);
  });

  it('moves a keyboard cursor and clamps it to the grid', () => {
    assert.deepEqual(moveCell({ row: 0, col: 0 }, 'ArrowRight', 3, 4), { row: 0, col: 1 });
    assert.deepEqual(moveCell({ row: 0, col: 0 }, 'ArrowUp', 3, 4), { row: 0, col: 0 });
    assert.deepEqual(moveCell({ row: 2, col: 1 }, 'End', 3, 4), { row: 2, col: 3 });
    assert.deepEqual(moveCell({ row: 1, col: 1 }, 'PageDown', 3, 4), { row: 2, col: 1 });
    assert.equal(moveCell({ row: 0, col: 0 }, 'a', 3, 4), undefined);
  });

  it('truncates long labels by code point', () => {
    assert.equal(truncateLabel('short'), 'short');
    assert.equal(truncateLabel('abcdefghijklmnopq', 5), 'abcd…');
    assert.equal(truncateLabel('😀😀😀😀😀😀', 3), '😀😀…');
  });
});

describe('view state rules', () => {
  const e = makeExplanation({ encoderLayers: 3, decoderLayers: 2, heads: 4, dModel: 16 });

  it('defaults the PE dimensions to 0, 1, d/4, d/2, d/2+1', () => {
    assert.deepEqual(defaultPeDimensions(256), [0, 1, 64, 128, 129]);
    assert.deepEqual(defaultViewState(e).peDimensions, [0, 1, 4, 8, 9]);
  });

  it('clamps indices into the explanation and drops invalid PE dimensions', () => {
    const v = sanitizeView(defaultViewState(e), { kind: 'decoder', layer: 9, head: -2, selectedStep: 99, peDimensions: [3, 3, 40, 2] }, e);
    assert.equal(v.layer, 1);
    assert.equal(v.head, 0);
    assert.equal(v.selectedStep, e.steps.length - 1);
    assert.deepEqual(v.peDimensions, [3, 2]);
  });

  it('allows rollout only for the encoder', () => {
    assert.equal(sanitizeView(defaultViewState(e), { aggregation: 'rollout' }, e).aggregation, 'rollout');
    assert.equal(sanitizeView(defaultViewState(e), { kind: 'cross', aggregation: 'rollout' }, e).aggregation, 'mean');
  });

  it('rejects unknown enum values', () => {
    const base = defaultViewState(e);
    const v = sanitizeView(base, { kind: 'bogus' as never, colorScheme: 'neon' as never, aggregation: 'sum' as never }, e);
    assert.equal(v.kind, base.kind);
    assert.equal(v.colorScheme, base.colorScheme);
    assert.equal(v.aggregation, base.aggregation);
  });

  it('reads only the view out of saved state (an older version saved the explanation too)', () => {
    assert.equal(readPersisted(null), undefined);
    const r = readPersisted({ explanation: { sourcePieces: 'nope' }, view: { layer: 2 } });
    assert.deepEqual(Object.keys(r!).filter((k) => r![k as keyof typeof r] !== undefined), ['view']);
    assert.equal(r?.view.layer, 2);
  });
});

describe('matrix selection', () => {
  const e = makeExplanation({ encoderLayers: 2, heads: 2 });

  it('names and labels the selected matrix', () => {
    const sel = selectMatrix(e, { ...defaultViewState(e), kind: 'cross', layer: 1, head: 1 });
    assert.equal(sel.title, 'Cross-attention (decoder → source) · layer 2 · head 2');
    assert.equal(sel.fileStem, 'attention-cross-L2-H2');
    // rows are labelled by the token they predict, the decoder input in brackets
    assert.deepEqual(sel.rowLabels, ['▁Salama (in: <pad>)', '▁tompoko (in: ▁Salama)', '</s> (in: ▁tompoko)']);
    assert.deepEqual(sel.colLabels, e.sourcePieces);
    close(sel.matrix.values, headMatrix(e.attentions.cross, 1, 1));
  });

  it('gives the cross-attention row of the output token chosen at a step', () => {
    const view = { ...defaultViewState(e), kind: 'cross' as const, layer: 0, head: 1 };
    const w = crossWeightsForStep(e, view, 2)!;
    close(w, attentionRow(e.attentions.cross, 0, 1, 2));
    const mean = crossWeightsForStep(e, { ...view, kind: 'encoder' }, 2)!;
    // outside the cross-attention view: the last layer's mean over heads
    close(mean, meanOverHeads(e.attentions.cross, e.attentions.cross.layers - 1).values.slice(6, 9));
    assert.equal(crossWeightsForStep(e, view, 3), undefined);
  });
});

describe('positional encodings and candidates', () => {
  it('reads a dimension column and describes it with Marian’s sin/cos halves', () => {
    const pe = marianPositional(5, 8);
    close(peColumn(pe, 0), [0, 1, 2, 3, 4].map(Math.sin), 1e-7); // float32, as the engine computes them
    close(peColumn(pe, 4), [0, 1, 2, 3, 4].map(Math.cos), 1e-7);
    assert.deepEqual(describeDimension(0, 8).fn, 'sin');
    assert.deepEqual(describeDimension(5, 8).fn, 'cos');
    assert.ok(Math.abs(describeDimension(5, 8).wavelength - 2 * Math.PI * Math.pow(10000, 2 / 8)) < 1e-9);
    assert.equal(describeDimension(0, 8).label, 'dim 0 · sin · wavelength ≈ 6.3');
  });

  it('marks the chosen candidate and appends it when outside the top-k', () => {
    const e = makeExplanation();
    const rows = candidateRows(e.steps[1]);
    assert.deepEqual(rows.map((r) => r.chosen), [false, true, false]);
    const outside = candidateRows({ ...e.steps[0], topIds: [7, 8], topPieces: ['a', 'b'], topProbs: [0.6, 0.3] });
    assert.equal(outside.length, 3);
    assert.deepEqual(outside[2], { piece: e.steps[0].chosenPiece, prob: e.steps[0].chosenProb, chosen: true, outsideTopK: true });
  });
});
