/**
 * The host side of hostile input: ModelClient with the real inference worker and the bundled checkpoint.
 *  - The extension host's thread never stalls on an explanation: the longest event-loop delay while a long text
 *    (the largest explanation the settings allow) is explained and delivered stays under 50 ms. Measured with
 *    perf_hooks.monitorEventLoopDelay; the best of three attempts counts, so a stall caused by the shared CPU
 *    rather than by this code does not fail the test — a stall built into the code shows in every attempt.
 *  - Memory stays bounded: the host heap after rounds of hostile explanations is where it was after the first.
 */
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { ModelClient } from '../../../src/host/modelClient';
import { BUNDLED_MODEL } from '../../helpers/golden';
import { assertValidExplanation } from '../../helpers/fuzzChecks';
import { WORKER_KIND, mb, settledHeap, spawnRealWorker } from '../../helpers/fuzzWorker';

const bundled = { dir: BUNDLED_MODEL, name: 'bundled' };
const STALL_LIMIT_MS = 50;

describe(`host under hostile input (real worker: ${WORKER_KIND})`, { timeout: 300_000 }, () => {
  const client = new ModelClient({ createWorker: (init) => spawnRealWorker(init), cancelGraceMs: 10_000 });
  before(async () => {
    await client.load(bundled);
  });
  after(() => client.dispose());

  test(`the longest main-thread stall while a long text is explained stays under ${STALL_LIMIT_MS} ms`, async (t) => {
    const text = Array.from({ length: 60 }, (_, i) => `The old man number ${i} walks to the market every morning.`).join(' ');
    // 512 is the largest attentionLens.maxTokens; the worker clamps it to the model's 256 positions
    const params = { numBeams: 1, topK: 5, maxSourceTokens: 512 };
    await client.explain(bundled, 'Warm up.', params);
    const attempts: Array<{ maxMs: number; p99Ms: number; tokens: number; totalMs: number }> = [];
    for (let i = 0; i < 3; i++) {
      const h = monitorEventLoopDelay({ resolution: 1 });
      h.enable();
      const t0 = performance.now();
      const { explanation } = await client.explain(bundled, text, params);
      await new Promise((r) => setTimeout(r, 20)); // include what happens right after delivery
      h.disable();
      assertValidExplanation(explanation, text);
      attempts.push({ maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6, tokens: explanation.sourceIds.length, totalMs: performance.now() - t0 });
      if (attempts.at(-1)!.maxMs < STALL_LIMIT_MS && attempts.length >= 2) break;
    }
    const best = Math.min(...attempts.map((a) => a.maxMs));
    t.diagnostic(`max event-loop delay per attempt: ${attempts.map((a) => `${a.maxMs.toFixed(1)} ms (p99 ${a.p99Ms.toFixed(1)} ms, ${a.tokens} source tokens, ${a.totalMs.toFixed(0)} ms end to end)`).join('; ')}; best ${best.toFixed(1)} ms`);
    assert.ok(attempts[0].tokens >= 200, 'a long explanation (about 256 source tokens) was measured');
    assert.ok(best < STALL_LIMIT_MS, `the main thread stalled ${best.toFixed(1)} ms`);
  });

  test('host heap stays bounded across rounds of hostile explanations', async (t) => {
    const hostile = [
      'The lion kills the tiger. '.repeat(41_000), // 1 MB
      Buffer.from(Array.from({ length: 20_000 }, (_, i) => (i * 7919 + 13) & 255)).toString('latin1'),
      `e${'\u0301'.repeat(10_000)}`,
      '\ud800 lion \udc00 \u202eשלום\u202c مرحبا \u0000\u0007\u001b\u0085\u009f',
      '<img src=x onerror=alert(1)> [x](command:workbench.action.quit) $(zap)',
      '',
    ];
    const params = { numBeams: 1, topK: 5, maxSourceTokens: 128, maxNewTokens: 24 };
    const round = async () => {
      for (const text of hostile) assertValidExplanation((await client.explain(bundled, text, params, { lane: 'panel' })).explanation, text);
    };
    await round(); // warm: code compiled, caches filled
    const heap0 = await settledHeap();
    const rss0 = process.memoryUsage().rss;
    const ROUNDS = 3;
    for (let i = 0; i < ROUNDS; i++) await round();
    const heap1 = await settledHeap();
    const rss1 = process.memoryUsage().rss;
    t.diagnostic(`${ROUNDS * hostile.length} hostile explanations: host heap ${mb(heap0)} → ${mb(heap1)} (${mb(heap1 - heap0)}); process RSS (worker included) ${mb(rss0)} → ${mb(rss1)}`);
    assert.ok(heap1 - heap0 < 8 * 1048576, `host heap grew ${mb(heap1 - heap0)}`);
    assert.ok(rss1 - rss0 < 300 * 1048576, `process memory grew ${mb(rss1 - rss0)}`);
    assert.equal(client.pending, 0);
  });
});
