/**
 * Messages from the webviews are untrusted (a compromised or buggy webview can post anything): the host validates
 * every one with `parseWebviewMessage` before acting. Fuzzed here with arbitrary values and near-valid messages —
 * it never throws, and what it returns is well-formed by an independent check (exact keys, types, ranges, file
 * names without paths), copied rather than aliased. A source scan checks that every host handler of webview
 * messages goes through it first.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseWebviewMessage } from '../../../src/shared/protocol';
import { exportFileName } from '../../../src/host/exportData';
import { FUZZ_SEED, fuzzRuns } from '../../helpers/fuzz';
import { ROOT } from '../../helpers/golden';

const TYPES = ['ready', 'viewState', 'export', 'revealSource', 'openPanel'];
const isInt = (v: unknown, min: number, max: number) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const keysAre = (o: object, keys: string[]) => {
  const own = Reflect.ownKeys(o).map(String).sort();
  return own.length === keys.length && own.every((k, i) => k === [...keys].sort()[i]);
};

/** An independent statement of what the host may receive (not a copy of the parser's logic). */
function wellFormed(m: Record<string, unknown>): boolean {
  switch (m.type) {
    case 'ready':
      return keysAre(m, ['type']);
    case 'viewState': {
      const s = m.state as Record<string, unknown>;
      return keysAre(m, ['type', 'state']) && typeof s === 'object' && s !== null &&
        keysAre(s, ['kind', 'layer', 'head', 'aggregation', 'colorScheme', 'selectedStep', 'peDimensions', 'colorScale', 'zoom']) &&
        ['absolute', 'matrix'].includes(s.colorScale as string) && ['fit', 1, 2].includes(s.zoom as string | number) &&
        ['encoder', 'decoder', 'cross'].includes(s.kind as string) && ['mean', 'max', 'rollout', 'head'].includes(s.aggregation as string) &&
        ['theme', 'colorblind'].includes(s.colorScheme as string) && isInt(s.layer, 0, 1000) && isInt(s.head, 0, 1000) &&
        isInt(s.selectedStep, -1, 1e5) && Array.isArray(s.peDimensions) && s.peDimensions.length <= 64 && s.peDimensions.every((d) => isInt(d, 0, 1e5));
    }
    case 'export':
      return keysAre(m, ['type', 'format', 'fileName', 'data']) && ['png', 'svg', 'json'].includes(m.format as string) &&
        typeof m.fileName === 'string' && /^[A-Za-z0-9_.-]{1,100}$/.test(m.fileName) && typeof m.data === 'string';
    case 'revealSource':
      return keysAre(m, ['type', 'start', 'end']) && isInt(m.start, 0, 1e9) && isInt(m.end, 0, 1e9) && (m.end as number) >= (m.start as number);
    case 'openPanel':
      return keysAre(m, ['type', 'step']) && (m.step === undefined || isInt(m.step, 0, 1e5));
    default:
      return false;
  }
}

const anyValue = fc.oneof(fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true, withSparseArray: true }), fc.jsonValue());
/** Mostly plausible values, so that near-valid messages are often valid and each field's checks are reached. */
const often = <T,>(good: fc.Arbitrary<T>, ...bad: Array<fc.Arbitrary<unknown>>) =>
  fc.oneof({ weight: 6, arbitrary: good as fc.Arbitrary<unknown> }, ...bad.map((arbitrary) => ({ weight: 1, arbitrary })));
const number = often(fc.integer({ min: -2, max: 70 }), fc.integer({ min: -5, max: 2000 }), fc.double(), fc.constantFrom(-1, 0, 1, 1.5, 1e5, 1e9, 1e10, 2 ** 53, NaN, Infinity, -0), fc.string({ maxLength: 3 }), anyValue);
const validState = fc.record({
  kind: often(fc.constantFrom('encoder', 'decoder', 'cross'), anyValue),
  layer: number,
  head: number,
  aggregation: often(fc.constantFrom('mean', 'max', 'rollout', 'head'), anyValue),
  colorScheme: often(fc.constantFrom('theme', 'colorblind'), anyValue),
  selectedStep: number,
  peDimensions: often(fc.array(number, { maxLength: 70 }), anyValue),
  colorScale: often(fc.constantFrom('absolute', 'matrix'), anyValue),
  zoom: often(fc.constantFrom('fit', 1, 2), fc.constantFrom(0, 3, 1.5, '1', 'Fit'), anyValue),
  extra: anyValue,
}, { requiredKeys: ['kind', 'layer', 'head', 'aggregation', 'colorScheme', 'selectedStep', 'peDimensions'] });
const nearValid = fc.record({
  type: often(fc.constantFrom(...TYPES), fc.constantFrom('runCommand', 'eval', '__proto__', 'constructor', ''), anyValue),
  state: often(validState, anyValue),
  format: often(fc.constantFrom('png', 'svg', 'json'), fc.constantFrom('exe', 'html'), anyValue),
  fileName: often(fc.constantFrom('attention.json', 'attention-encoder-L1-H1.svg', '..', '.'), fc.constantFrom('../../.bashrc', 'a/b.svg', 'C:\\x.png', 'x'.repeat(101), 'a\u0000b', '', '%2e%2e%2f'), fc.string({ maxLength: 12 }), anyValue),
  data: often(fc.string({ maxLength: 50 }), fc.constantFrom('<svg onload=alert(1)>', 'data:image/png;base64,AA=='), anyValue),
  start: number,
  end: number,
  step: number,
  command: fc.constantFrom('workbench.action.quit'),
}, { requiredKeys: ['type'] });

describe('parseWebviewMessage under fuzzing', () => {
  test('never throws; accepts only well-formed messages, copied', (t) => {
    let accepted = 0, rejected = 0;
    const byType = new Map<string, number>();
    fc.assert(
      fc.property(fc.oneof({ weight: 1, arbitrary: anyValue }, { weight: 4, arbitrary: nearValid }), (raw) => {
        let out: ReturnType<typeof parseWebviewMessage>;
        assert.doesNotThrow(() => (out = parseWebviewMessage(raw)));
        if (out === undefined) {
          rejected++;
          return;
        }
        accepted++;
        byType.set(out.type, (byType.get(out.type) ?? 0) + 1);
        assert.ok(wellFormed(out as unknown as Record<string, unknown>), `accepted a malformed message: ${JSON.stringify(out)}`);
        assert.notEqual(out, raw, 'a new object, not the webview’s');
        if (out.type === 'viewState') assert.notEqual(out.state.peDimensions, (raw as { state: { peDimensions: unknown } }).state.peDimensions, 'arrays copied');
        if (out.type === 'export') {
          const name = exportFileName(out.fileName, out.format);
          assert.ok(!name.includes('/') && !name.includes('\\') && name.endsWith(`.${out.format}`), name);
        }
        assert.deepEqual(structuredClone(out), out, 'plain data');
      }),
      { seed: FUZZ_SEED, numRuns: fuzzRuns(5000) },
    );
    t.diagnostic(`parseWebviewMessage: ${accepted + rejected} runs, ${accepted} accepted (${[...byType].map(([k, n]) => `${k} ${n}`).join(', ')}), ${rejected} rejected, 0 exceptions, 0 malformed accepted`);
    assert.ok(accepted > 100 && rejected > 100);
  });
});

describe('host handlers validate before acting', () => {
  const hostDir = path.join(ROOT, 'src', 'host');
  const sources = fs.readdirSync(hostDir).filter((f) => f.endsWith('.ts')).map((f) => ({ file: f, text: fs.readFileSync(path.join(hostDir, f), 'utf8') }));

  test('the webview channel hands on only what its parser (parseWebviewMessage unless given one) returned', () => {
    const text = sources.find((s) => s.file === 'webviewChannel.ts')!.text;
    const subscriptions = [...text.matchAll(/port\.onDidReceiveMessage\((.*)\);?\s*$/gm)].map((m) => m[1]);
    assert.deepEqual(subscriptions, ['(raw) => this.receive(raw)']);
    const body = /private receive\(raw: unknown\): void \{([\s\S]*?)\n {2}\}/.exec(text)?.[1] ?? '';
    const lines = body.split('\n').map((l) => l.trim()).filter(Boolean);
    assert.equal(lines[0], 'const message = this.parse(raw);', 'receive starts by validating');
    assert.match(text, /this\.parse = options\.parse \?\? \(parseWebviewMessage as /, 'the default parser is parseWebviewMessage');
    assert.match(lines[1], /^if \(!message\) \{$/, 'and stops on invalid messages');
    assert.equal(body.split('raw').length - 1, 1, 'raw is used only for validation');
  });

  test('every webview host reads messages only through the channel', () => {
    const hosts = sources.filter((s) => /new WebviewChannel(<[^>]*>)?\(/.test(s.text)).map((s) => s.file).sort();
    assert.deepEqual(hosts, ['attentionPanel.ts', 'trainPanel.ts', 'translationView.ts'], 'the webview hosts (a new one must be added here)');
    // the training panel's messages are its own: validated by parseTrainMessage (test/unit/host/trainMessages.test.ts)
    assert.match(sources.find((s) => s.file === 'trainPanel.ts')!.text, /parse: parseTrainMessage,/);
  });

  test('no other code reads webview messages', () => {
    const all = fs.readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const readers = all.filter((f) => fs.readFileSync(path.join(ROOT, 'src', f), 'utf8').includes('onDidReceiveMessage'));
    assert.deepEqual(readers.map((f) => path.basename(f)).sort(), ['webviewChannel.ts']);
  });
});
