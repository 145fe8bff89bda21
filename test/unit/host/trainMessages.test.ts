/**
 * The training panel's webview messages are untrusted like the explanation panel's: `parseTrainMessage` returns a
 * fresh, well-formed control or undefined. Checked on each malformed shape by hand, and fuzzed: it never throws, and
 * whatever it accepts passes an independent check (exact keys, types, ranges).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseTrainMessage } from '../../../src/shared/trainProtocol';
import { FUZZ_SEED, fuzzRuns } from '../../helpers/fuzz';

describe('parseTrainMessage', () => {
  test('accepts every control the train webview sends, copied', () => {
    const settings = { task: 'lets-go', seed: 7, lr: 0.003 };
    const configure = { type: 'configure', settings };
    const parsed = parseTrainMessage(configure);
    assert.deepEqual(parsed, configure);
    assert.notEqual((parsed as { settings: object }).settings, settings, 'a copy, not the webview object');
    assert.deepEqual(parseTrainMessage({ type: 'configure', settings: { task: 'copy', seed: 0 } }), { type: 'configure', settings: { task: 'copy', seed: 0 } });
    assert.deepEqual(parseTrainMessage({ type: 'configure', settings: { task: 'copy', seed: 0, lr: undefined } }), { type: 'configure', settings: { task: 'copy', seed: 0 } });
    for (const type of ['ready', 'start', 'pause', 'save', 'inspect']) assert.deepEqual(parseTrainMessage({ type, extra: '<script>' }), { type });
    // the webview never names a folder: inspect's snapshot folder is chosen by the host
    assert.deepEqual(parseTrainMessage({ type: 'inspect', folder: '/etc' }), { type: 'inspect' });
    assert.deepEqual(parseTrainMessage({ type: 'step', count: 1 }), { type: 'step', count: 1 });
    assert.deepEqual(parseTrainMessage({ type: 'step', count: 1000 }), { type: 'step', count: 1000 });
  });

  test('rejects malformed messages', () => {
    const bad: unknown[] = [
      undefined, null, 42, 'start', [], [{ type: 'start' }], {}, { type: 'START' }, { type: 'explain' }, { type: 7 },
      // save carries no folder from the webview: the host asks for one
      { type: 'saveAs' },
      { type: 'step' }, { type: 'step', count: 0 }, { type: 'step', count: -1 }, { type: 'step', count: 1.5 },
      { type: 'step', count: 1001 }, { type: 'step', count: '3' }, { type: 'step', count: Number.NaN }, { type: 'step', count: Infinity },
      { type: 'configure' }, { type: 'configure', settings: null }, { type: 'configure', settings: 'lets-go' },
      { type: 'configure', settings: { seed: 1 } }, { type: 'configure', settings: { task: '', seed: 1 } },
      { type: 'configure', settings: { task: '../../etc/passwd', seed: 1 } }, { type: 'configure', settings: { task: 'x'.repeat(65), seed: 1 } },
      { type: 'configure', settings: { task: 'lets go', seed: 1 } }, { type: 'configure', settings: { task: 3, seed: 1 } },
      { type: 'configure', settings: { task: 'copy' } }, { type: 'configure', settings: { task: 'copy', seed: -1 } },
      { type: 'configure', settings: { task: 'copy', seed: 1.5 } }, { type: 'configure', settings: { task: 'copy', seed: 2 ** 60 } },
      { type: 'configure', settings: { task: 'copy', seed: '1' } }, { type: 'configure', settings: { task: 'copy', seed: 1, lr: 0 } },
      { type: 'configure', settings: { task: 'copy', seed: 1, lr: -0.1 } }, { type: 'configure', settings: { task: 'copy', seed: 1, lr: Number.NaN } },
      { type: 'configure', settings: { task: 'copy', seed: 1, lr: Infinity } }, { type: 'configure', settings: { task: 'copy', seed: 1, lr: '0.1' } },
      { type: 'configure', settings: { task: 'copy', seed: 1, lr: null } },
    ];
    for (const m of bad) assert.equal(parseTrainMessage(m), undefined, JSON.stringify(m) ?? String(m));
  });

  test('fuzzed: never throws; what it accepts is well-formed', () => {
    const isInt = (v: unknown, min: number, max: number) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
    const keys = (o: object) => Object.keys(o).sort().join(',');
    const wellFormed = (m: Record<string, unknown>): boolean => {
      switch (m.type) {
        case 'ready': case 'start': case 'pause': case 'save': return keys(m) === 'type';
        case 'step': return keys(m) === 'count,type' && isInt(m.count, 1, 1000);
        case 'configure': {
          if (keys(m) !== 'settings,type') return false;
          const s = m.settings as Record<string, unknown>;
          const k = keys(s);
          return (k === 'seed,task' || (k === 'lr,seed,task' && typeof s.lr === 'number' && s.lr > 0 && Number.isFinite(s.lr)))
            && typeof s.task === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(s.task) && isInt(s.seed, 0, Number.MAX_SAFE_INTEGER);
        }
        default: return false;
      }
    };
    const value = fc.oneof(fc.anything(), fc.integer({ min: -5, max: 2000 }), fc.double(), fc.constantFrom('lets-go', 'copy', '', '../x'));
    const near = fc.record({
      type: fc.constantFrom('ready', 'start', 'pause', 'save', 'step', 'configure', 'other'),
      count: value,
      settings: fc.oneof(value, fc.record({ task: value, seed: value, lr: value }, { requiredKeys: [] })),
    }, { requiredKeys: ['type'] });
    let accepted = 0;
    fc.assert(fc.property(fc.oneof(fc.anything(), near), (raw) => {
      const m = parseTrainMessage(raw);
      if (m === undefined) return;
      accepted++;
      assert.ok(wellFormed(m as unknown as Record<string, unknown>), JSON.stringify(m));
    }), { seed: FUZZ_SEED, numRuns: fuzzRuns(2000) });
    assert.ok(accepted > 0);
  });
});
