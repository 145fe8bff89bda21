/** Shared helpers for tests that compare against Hugging Face's golden outputs (test/fixtures, copied from the training run). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MarianModel, StepAttention } from '../../src/model/marian';

export const ROOT = path.resolve(__dirname, '..', '..');
export const BUNDLED_MODEL = path.join(ROOT, 'media', 'model');
export const TINY_MODEL = path.join(ROOT, 'test', 'fixtures', 'tiny-random-swish');

export function readJson<T = any>(...parts: string[]): T {
  return JSON.parse(fs.readFileSync(path.join(ROOT, ...parts), 'utf8')) as T;
}

/** Largest absolute difference, failing loudly on a length mismatch. */
export function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != expected ${expected.length}`);
  let m = 0;
  for (let i = 0; i < actual.length; i++) m = Math.max(m, Math.abs(actual[i] - expected[i]));
  return m;
}

/** Teacher-forced decoder pass over `ids`, returning per-layer [heads, T, K] self and cross attentions and all logits. */
export function teacherForced(model: MarianModel, inputIds: number[], decoderIds: number[]) {
  const enc = model.encode(inputIds, { capture: true });
  const mem = model.crossMemory(enc);
  const state = model.newDecoderState(decoderIds.length);
  const V = model.config.vocabSize, H = model.config.decoderHeads, T = decoderIds.length, S = inputIds.length;
  const logits = new Float32Array(T * V);
  const rows: StepAttention[] = [];
  decoderIds.forEach((id, t) => {
    const capture: StepAttention = { self: [], cross: [] };
    model.decodeStep([id], [state], mem, logits.subarray(t * V, (t + 1) * V), capture);
    rows.push(capture);
  });
  const stack = (kind: 'self' | 'cross', K: number) =>
    Array.from({ length: model.config.decoderLayers }, (_, l) => {
      const m = new Float32Array(H * T * K);
      rows.forEach((r, t) => {
        const row = r[kind][l], w = row.length / H;
        for (let h = 0; h < H; h++) for (let j = 0; j < w; j++) m[(h * T + t) * K + j] = row[h * w + j];
      });
      return m;
    });
  return { enc, logits, self: stack('self', T), cross: stack('cross', S) };
}
