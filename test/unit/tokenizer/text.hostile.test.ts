/**
 * Hostile text through the engine (`explain` / `translate` with the bundled checkpoint and the host's settings):
 * a 1 MB selection, binary garbage, lone surrogates, 10,000 combining marks, right-to-left text with bidi
 * controls, every C0/C1 control character, literal special tokens, empty and whitespace-only text. Each must
 * give a valid explanation (offsets inside the text, attention rows summing to 1) or a clear error — never a
 * crash or a hang — and memory must stay bounded. Then random strings (any UTF-16, lone surrogates included)
 * through the tiny model, as a property.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { explain, loadModelFolder, translate, type Explanation } from '../../../src/model';
import { DEFAULTS } from '../../../src/host/settings';
import { BUNDLED_MODEL, TINY_MODEL } from '../../helpers/golden';
import { FUZZ_SEED, fuzzRuns } from '../../helpers/fuzz';
import { assertValidExplanation } from '../../helpers/fuzzChecks';

/** Deterministic pseudo-random bytes (xorshift), so the garbage is the same on every run. */
function garbage(n: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const controls = [...Array.from({ length: 0x20 }, (_, i) => i), ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i)].map((c) => String.fromCharCode(c));

const HOSTILE: Array<[string, string]> = [
  ['1 MB of English', 'The lion kills the tiger. '.repeat(41_000).slice(0, 1 << 20)],
  ['1 MB of characters the model has never seen (one merged <unk>)', '漢'.repeat(1 << 20)],
  ['64 KB of random bytes read as latin1', Buffer.from(garbage(1 << 16)).toString('latin1')],
  ['64 KB of random bytes read as UTF-8 (replacement characters)', Buffer.from(garbage(1 << 16, 7)).toString('utf8')],
  ['lone surrogates', '\ud800 lion \udc00 tiger \ud83d\ude00\ud83d x\udfff\ud800'],
  ['10,000 combining marks on one letter', `e${'\u0301'.repeat(10_000)} and the lion`],
  ['right-to-left text with bidi controls', '\u202eThe lion\u202c שלום עולם \u2067مرحبا بالعالم\u2069 \u200f\u200e \u202d\u202a\u202b\u2066\u2068 kills.'],
  ['every C0 and C1 control character', `The ${controls.join('')} lion ${controls.join(' ')} kills.`],
  ['literal special tokens and a language code', '</s> <unk> <pad> >>es<< <s> ▁ the ▁▁ lion </s>'],
  ['markup and command links', '<img src=x onerror=alert(1)> [x](command:workbench.action.quit) $(zap) `code` &lt; javascript:alert(1)'],
  ['only whitespace', ' \t\n\r\u3000\u00a0\u2028\u2029 '],
  ['empty', ''],
];

describe('hostile text through the engine (bundled model, the host’s settings)', { timeout: 300_000 }, () => {
  const lm = loadModelFolder(BUNDLED_MODEL, { name: 'bundled' });
  const opts = { numBeams: DEFAULTS.beams, topK: DEFAULTS.topK, maxSourceTokens: DEFAULTS.maxTokens };

  for (const [name, text] of HOSTILE) {
    test(name, (t) => {
      const rss0 = process.resourceUsage().maxRSS;
      const t0 = performance.now();
      let e: Explanation;
      try {
        e = explain(lm, text, opts);
      } catch (err) {
        // a clear, deliberate error is acceptable; nothing here should need one
        assert.fail(`explain threw ${(err as Error).name}: ${(err as Error).message}`);
      }
      const ms = performance.now() - t0;
      assertValidExplanation(e, text);
      assert.ok(e.sourceIds.length <= DEFAULTS.maxTokens, 'within the token budget');
      if (text.length > 10_000 && e.sourceIds.length > 8) assert.equal(e.truncated, true);
      const out = translate(lm, text, { numBeams: 2, maxSourceTokens: DEFAULTS.maxTokens, maxNewTokens: 16 });
      assert.equal(typeof out.text, 'string');
      const rssGrowthMb = (process.resourceUsage().maxRSS - rss0) / 1024;
      t.diagnostic(`${text.length} chars → ${e.sourceIds.length} tokens${e.truncated ? ' (truncated)' : ''}, ${e.targetIds.length - 1} generated; explain ${ms.toFixed(0)} ms; peak RSS growth ${rssGrowthMb.toFixed(0)} MB`);
      assert.ok(rssGrowthMb < 600, `peak memory grew by ${rssGrowthMb.toFixed(0)} MB`);
    });
  }

  test('the 1 MB selection is cut to the budget at a piece boundary', () => {
    const text = HOSTILE[0][1];
    const e = explain(lm, text, { ...opts, maxSourceTokens: 16 });
    assert.equal(e.sourceIds.length, 16);
    assert.equal(e.truncated, true);
    assert.ok(e.sourceText.length < 100 && text.startsWith(e.sourceText));
  });
});

describe('random text through the engine (tiny model)', { timeout: 120_000 }, () => {
  const lm = loadModelFolder(TINY_MODEL);
  test('any UTF-16 string gives a valid explanation', (t) => {
    let runs = 0, truncated = 0;
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 120 }), // any code point, lone surrogates included
      fc.string({ unit: 'grapheme', maxLength: 60 }),
      fc.array(fc.constantFrom('a', ' ', '\u0301', '\u202e', '\u0000', '\ud800', '漢', '</s>', '▁', '\n', 'ﬁ', '.'), { maxLength: 80 }).map((a) => a.join('')),
    );
    fc.assert(
      fc.property(text, (s) => {
        runs++;
        const e = explain(lm, s, { maxSourceTokens: 10, maxNewTokens: 6, topK: 3 });
        if (e.truncated) truncated++;
        assertValidExplanation(e, s);
      }),
      { seed: FUZZ_SEED, numRuns: fuzzRuns(150) },
    );
    t.diagnostic(`${runs} random strings, ${truncated} truncated, all valid`);
  });
});
