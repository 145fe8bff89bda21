/**
 * Test support (not bundled): a fabricated Explanation with deterministic, row-stochastic attentions and
 * real Marian-layout sinusoids, plus a fake `acquireVsCodeApi` handle that records what the webview does.
 */
import { attentionKindFromLayers } from '../../src/shared/attention';
import type { AttentionKind, DecodingStep, Explanation } from '../../src/shared/explanation';
import type { VsCodeApi } from '../shared/vscodeApi';

export const XSS = '<img src=x onerror=alert(1)>';

export interface FixtureOptions {
  encoderLayers?: number;
  decoderLayers?: number;
  heads?: number;
  sourcePieces?: string[];
  /** Generated pieces (the decoder start token is prepended). */
  generated?: string[];
  dModel?: number;
  translation?: string;
  truncated?: boolean;
}

/** Deterministic attention weight before row normalisation. */
function raw(l: number, h: number, r: number, c: number): number {
  return 1 + ((l * 7 + h * 3 + r * 5 + c * 11) % 9);
}

export function makeAttention(layers: number, heads: number, queryTokens: string[], keyTokens: string[], causal: boolean): AttentionKind {
  const q = queryTokens.length;
  const k = keyTokens.length;
  const out: number[][] = [];
  for (let l = 0; l < layers; l++) {
    const flat: number[] = [];
    for (let h = 0; h < heads; h++) {
      for (let r = 0; r < q; r++) {
        const row: number[] = [];
        for (let c = 0; c < k; c++) row.push(causal && c > r ? 0 : raw(l, h, r, c));
        const sum = row.reduce((a, b) => a + b, 0);
        flat.push(...row.map((v) => v / sum));
      }
    }
    out.push(flat);
  }
  return attentionKindFromLayers({ heads, queryLen: q, keyLen: k, queryTokens, keyTokens }, out);
}

/** Marian's sinusoids: sin in dims [0, d/2), cos in [d/2, d). */
export function marianPositional(positions: number, dModel: number): Explanation['positional'] {
  const half = dModel / 2;
  const values: number[] = [];
  for (let p = 0; p < positions; p++) {
    for (let j = 0; j < dModel; j++) {
      const i = j < half ? j : j - half;
      const angle = p / Math.pow(10000, (2 * i) / dModel);
      values.push(j < half ? Math.sin(angle) : Math.cos(angle));
    }
  }
  return { positions, dModel, values: Float32Array.from(values) };
}

export function makeExplanation(o: FixtureOptions = {}): Explanation {
  const encoderLayers = o.encoderLayers ?? 2;
  const decoderLayers = o.decoderLayers ?? encoderLayers;
  const heads = o.heads ?? 2;
  const dModel = o.dModel ?? 8;
  const sourcePieces = o.sourcePieces ?? ['▁Hello', XSS, '</s>'];
  const generated = o.generated ?? ['▁Salama', '▁tompoko', '</s>'];
  const targetPieces = ['<pad>', ...generated];
  const decoderInputs = targetPieces.slice(0, -1);
  let sourceText = '';
  const spans = sourcePieces.map((p): [number, number] | undefined => {
    if (p === '</s>') return undefined;
    const start = sourceText.length;
    sourceText += p.replace(/▁/g, ' ');
    return [start, sourceText.length];
  });
  const sourceOffsets = spans.map((s): [number, number] => s ?? [sourceText.length, sourceText.length]);
  const steps: DecodingStep[] = generated.map((piece, i) => {
    const chosenId = 100 + i;
    const chosenProb = 0.5 + 0.1 * i;
    // The chosen token is the top candidate except at step 1, where it is second (as beam search can do).
    const others = [`▁alt${i}a`, `▁alt${i}b`];
    const topPieces = i === 1 ? [others[0], piece, others[1]] : [piece, ...others];
    const topIds = i === 1 ? [900, chosenId, 901] : [chosenId, 900, 901];
    const rest = 1 - chosenProb;
    const topProbs = i === 1 ? [chosenProb + 0.05, chosenProb, rest / 4] : [chosenProb, rest / 2, rest / 4];
    return { position: i + 1, chosenId, chosenPiece: piece, chosenProb, topIds, topPieces, topProbs };
  });
  return {
    model: {
      name: 'fixture',
      dModel,
      encoderLayers,
      decoderLayers,
      encoderHeads: heads,
      decoderHeads: heads,
      vocabSize: 1000,
      activation: 'swish',
      sourceLang: 'en',
      targetLang: 'mg',
    },
    sourceText,
    truncated: o.truncated ?? false,
    sourcePieces,
    sourceIds: sourcePieces.map((_, i) => 10 + i),
    sourceOffsets,
    targetPieces,
    targetIds: targetPieces.map((_, i) => (i === 0 ? 0 : 99 + i)),
    translation: o.translation ?? 'Salama tompoko',
    attentions: {
      encoder: makeAttention(encoderLayers, heads, sourcePieces, sourcePieces, false),
      decoder: makeAttention(decoderLayers, heads, decoderInputs, decoderInputs, true),
      cross: makeAttention(decoderLayers, heads, decoderInputs, sourcePieces, false),
    },
    positional: marianPositional(Math.max(sourcePieces.length, targetPieces.length), dModel),
    steps,
    numBeams: 1,
    timingsMs: { tokenize: 1, encode: 2, decode: 3, total: 6 },
  };
}

export interface FakeApi<S> extends VsCodeApi<S> {
  posted: unknown[];
  setStateCalls: number;
  getStateCalls: number;
  state: S | undefined;
}

export function fakeVsCodeApi<S>(initial?: S): FakeApi<S> {
  const api: FakeApi<S> = {
    posted: [],
    setStateCalls: 0,
    getStateCalls: 0,
    state: initial,
    postMessage(m: unknown) {
      // Round-trip through JSON like the real channel does, so tests see what the host would.
      api.posted.push(JSON.parse(JSON.stringify(m)));
    },
    getState() {
      api.getStateCalls++;
      return api.state;
    },
    setState<T extends S | undefined>(s: T): T {
      api.setStateCalls++;
      api.state = s === undefined ? undefined : (JSON.parse(JSON.stringify(s)) as S);
      return s;
    },
  };
  return api;
}
