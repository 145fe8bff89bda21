/** Settings: clamping, defaults and model folder resolution. */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULTS, readSettings, resolveModelDir, resultsChanged } from '../../../src/host/settings';
import { decodeExport, exportFileName } from '../../../src/host/exportData';

const config = (values: Record<string, unknown>) => ({ get: <T>(key: string) => values[key] as T | undefined });

describe('resultsChanged (the one rule every cache clears by: explanation store, hover cache, side view)', () => {
  const model = { dir: '/m', name: 'm' };
  const changed = (patch: Partial<typeof DEFAULTS>, next = model) => resultsChanged({ settings: DEFAULTS, model }, { settings: { ...DEFAULTS, ...patch }, model: next });

  test('changing attentionLens.targetLanguage changes results (a hover must not show attention for the old language)', () => {
    assert.equal(changed({ targetLanguage: 'spa' }), true);
  });

  test('every setting the model run or the explained text depends on changes results', () => {
    for (const patch of [{ beams: 4 }, { topK: 7 }, { maxTokens: 64 }, { codeText: 'everything' as const }, { kernelPrecision: 'exact' as const }]) {
      assert.equal(changed(patch), true, JSON.stringify(patch));
    }
    assert.equal(changed({}, { dir: '/m2', name: 'm' }), true, 'another model folder');
    assert.equal(changed({}, { dir: '/m', name: 'n' }), true, 'another model name');
  });

  test('settings of the views alone do not', () => {
    for (const patch of [{ hoverEnabled: false }, { hoverAggregation: 'lastLayerMax' as const }, { hoverLayer: 2 }, { debounceMs: 10 }, { threads: 2 }]) {
      assert.equal(changed(patch), false, JSON.stringify(patch));
    }
  });
});

describe('readSettings', () => {
  test('defaults when nothing is set', () => {
    assert.deepEqual(readSettings(config({})), DEFAULTS);
  });

  test('clamps and validates', () => {
    const s = readSettings(
      config({ beams: 99, topK: 0, maxTokens: 100000, 'hover.aggregation': 'bogus', 'hover.enabled': 'yes', 'translation.debounceMs': -5, modelPath: '  /x  ', 'hover.layer': 2.6 }),
    );
    assert.equal(s.beams, 8);
    assert.equal(s.topK, 1);
    assert.equal(s.maxTokens, 512);
    assert.equal(s.hoverAggregation, 'lastLayerMean');
    assert.equal(s.hoverEnabled, true);
    assert.equal(s.debounceMs, 0);
    assert.equal(s.modelPath, '/x');
    assert.equal(s.hoverLayer, 3);
  });

  test('kernelPrecision: float32 by default (as package.json declares), exact when set, anything else the default', () => {
    const declared = require('../../../package.json').contributes.configuration.properties['attentionLens.kernelPrecision'];
    assert.equal(DEFAULTS.kernelPrecision, declared.default);
    assert.deepEqual(declared.enum, ['float32', 'exact']);
    assert.equal(readSettings(config({ kernelPrecision: 'exact' })).kernelPrecision, 'exact');
    assert.equal(readSettings(config({ kernelPrecision: 'float64' })).kernelPrecision, 'float32');
  });

  test('keeps valid values', () => {
    const s = readSettings(config({ beams: 4, 'hover.aggregation': 'layerHead', 'hover.enabled': false }));
    assert.equal(s.beams, 4);
    assert.equal(s.hoverAggregation, 'layerHead');
    assert.equal(s.hoverEnabled, false);
  });
});

describe('resolveModelDir', () => {
  const bundled = path.resolve('/ext/media/model');
  test('empty means bundled', () => {
    assert.deepEqual(resolveModelDir('', bundled, '/ws', '/home/u'), { dir: bundled, name: 'bundled', bundled: true });
  });
  test('absolute, relative and home paths', () => {
    assert.equal(resolveModelDir('/models/opus', bundled, '/ws', '/home/u').dir, path.resolve('/models/opus'));
    assert.equal(resolveModelDir('models/opus', bundled, '/ws', '/home/u').dir, path.resolve('/ws/models/opus'));
    assert.equal(resolveModelDir('models/opus', bundled, undefined, '/home/u').dir, path.resolve('/home/u/models/opus'));
    assert.equal(resolveModelDir('~/m', bundled, '/ws', '/home/u').dir, path.resolve('/home/u/m'));
    assert.equal(resolveModelDir('/models/opus', bundled, '/ws', '/home/u').name, 'opus');
  });
  test('the bundled folder spelled out is still "bundled"', () => {
    assert.equal(resolveModelDir(bundled, bundled, '/ws', '/home/u').bundled, true);
  });
});

describe('export data', () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
  test('PNG data URLs are decoded and checked', () => {
    assert.deepEqual(Buffer.from(decodeExport('png', `data:image/png;base64,${png.toString('base64')}`)), png);
    assert.throws(() => decodeExport('png', `data:image/png;base64,${Buffer.from('GIF89a....').toString('base64')}`), /not a PNG/);
    assert.throws(() => decodeExport('png', 'data:text/html;base64,AAAA'), /data URL/);
  });
  test('SVG and JSON are checked', () => {
    assert.equal(new TextDecoder().decode(decodeExport('svg', '<svg xmlns="http://www.w3.org/2000/svg"></svg>')).slice(0, 4), '<svg');
    assert.throws(() => decodeExport('svg', 'hello'), /svg/);
    assert.equal(new TextDecoder().decode(decodeExport('json', '{"a":1}')), '{"a":1}');
    assert.throws(() => decodeExport('json', '{'), /JSON/);
  });
  test('file names get the right extension', () => {
    assert.equal(exportFileName('attention', 'png'), 'attention.png');
    assert.equal(exportFileName('a.SVG', 'svg'), 'a.SVG');
    assert.equal(exportFileName('', 'json'), 'attention.json');
  });
});
