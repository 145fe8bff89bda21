/**
 * The one typed message protocol between the extension host and its webviews (panel and side view).
 * Both bundles import this file; the host validates every incoming message with `parseWebviewMessage`.
 */
import { AGGREGATIONS, type Aggregation } from './attention';
import { ATTENTION_KINDS, type AttentionKindName, type Explanation } from './explanation';
import type { Trace, TraceSide } from './trace';

export type { Aggregation, AttentionKindName };

/** The panel's view state; persisted with the webview's setState and by the panel serializer. */
export interface PanelViewState {
  kind: AttentionKindName;
  layer: number;
  head: number;
  aggregation: Aggregation;
  colorScheme: 'theme' | 'colorblind';
  /** Selected output step for cross-attention highlighting, or -1. */
  selectedStep: number;
  peDimensions: number[];
  /** The detail heatmap's colour scale: one absolute 0–1 scale, or each matrix's own maximum. */
  colorScale: ColorScale;
  /** The detail heatmap's zoom: the whole matrix in view, or 1× / 2× the readable cell size. */
  zoom: Zoom;
}

export type ColorScale = 'absolute' | 'matrix';
export type Zoom = 'fit' | 1 | 2;
export const ZOOMS: readonly Zoom[] = ['fit', 1, 2];

/** One sentence of an explained selection, as the panel's sentence list shows it (the explanation itself comes alone). */
export interface SentenceSummary {
  text: string;
  /** Absent while the model is still working on it. */
  translation?: string;
  /** Unknown-vocabulary, language or truncation notice for this sentence. */
  notice?: string;
  error?: string;
}

/** One sentence as the side view shows it: the translation and each output token's probability. */
export interface SidebarSentence {
  text: string;
  translation: string;
  tokens: Array<{ piece: string; prob: number }>;
  notice?: string;
}

/** What the side view reads of an explanation: the translation, its pieces and steps (no attention, no positions). */
export type SidebarExplanation = Pick<Explanation, 'translation' | 'targetPieces' | 'steps' | 'truncated'>;

export function sidebarExplanation(e: Explanation): SidebarExplanation {
  return { translation: e.translation, targetPieces: e.targetPieces, steps: e.steps, truncated: e.truncated };
}

// ---- host → webview ------------------------------------------------------------------------------
export type ToWebviewMessage =
  | {
      type: 'explanation';
      requestId: number;
      explanation: Explanation;
      view?: Partial<PanelViewState>;
      notice?: string;
      /** The selection's sentences (one entry each) and which one `explanation` is. */
      sentences?: SentenceSummary[];
      sentenceIndex?: number;
      /** Source token to select (the hovered word's first piece). */
      focusToken?: number;
    }
  | { type: 'sentences'; requestId: number; sentences: SentenceSummary[]; sentenceIndex: number }
  | { type: 'progress'; requestId: number; message: string }
  | { type: 'error'; requestId: number; message: string }
  | { type: 'translation'; requestId: number; explanation: SidebarExplanation; notice?: string; sentences?: SidebarSentence[]; sourceText?: string }
  | { type: 'idle'; message: string }
  /** A branch of the shown translation: steps[step] takes `tokenId`, then greedy decoding goes on. */
  | { type: 'branch'; requestId: number; step: number; tokenId: number; explanation: Explanation }
  /** Two sentences explained side by side ("Compare with…", the word-order demo). */
  | { type: 'comparison'; requestId: number; a: Explanation; b: Explanation }
  | { type: 'whyError'; feature: WhyFeature; message: string }
  | { type: 'whyBusy'; feature: WhyFeature; message: string }
  /** The walk-through's numbers for one token (see src/shared/trace.ts), or why there are none. */
  | { type: 'trace'; trace: Trace }
  | { type: 'traceError'; message: string };

/** The "why this word?" tools that ask the host for more model runs. */
export type WhyFeature = 'target' | 'branch' | 'compare';

/** The classic word-order pair: the same words, subject and object swapped. */
export const COMPARE_DEMO = { a: 'The lion kills the tiger.', b: 'The tiger kills the lion.' } as const;
/** Longest text a webview may send to be scored or compared (characters). */
export const MAX_WHY_TEXT = 4000;

// ---- webview → host ------------------------------------------------------------------------------
export type FromWebviewMessage =
  | { type: 'ready' }
  | { type: 'viewState'; state: PanelViewState }
  | { type: 'export'; format: 'png' | 'svg' | 'json'; fileName: string; data: string }
  | { type: 'revealSource'; start: number; end: number }
  | { type: 'openPanel'; step?: number; sentence?: number }
  | { type: 'selectSentence'; index: number }
  /** Score this translation of the shown sentence (teacher forcing). */
  | { type: 'scoreTarget'; target: string }
  /** Back to the model's own translation of the shown sentence. */
  | { type: 'clearTarget' }
  | { type: 'branch'; step: number; tokenId: number }
  | { type: 'compare'; a: string; b: string }
  /** Follow one token of the shown explanation through the model (the walk-through). */
  | { type: 'trace'; side: TraceSide; token: number };

const KINDS: readonly string[] = ATTENTION_KINDS;
const AGGS: readonly string[] = AGGREGATIONS;
const isInt = (v: unknown, min = 0, max = 1e6): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

/** Validates a message coming from a webview; returns undefined for anything malformed (which the host then ignores). */
export function parseWebviewMessage(raw: unknown): FromWebviewMessage | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
      return { type: 'ready' };
    case 'viewState': {
      const s = m.state as Record<string, unknown> | undefined;
      if (!s || typeof s !== 'object') return undefined;
      if (!KINDS.includes(s.kind as string) || !AGGS.includes(s.aggregation as string)) return undefined;
      if (!isInt(s.layer, 0, 1000) || !isInt(s.head, 0, 1000) || !isInt(s.selectedStep, -1, 1e5)) return undefined;
      if (s.colorScheme !== 'theme' && s.colorScheme !== 'colorblind') return undefined;
      if (!Array.isArray(s.peDimensions) || s.peDimensions.length > 64 || !s.peDimensions.every((d) => isInt(d, 0, 1e5))) return undefined;
      // absent in states saved by 0.2.0 (then the defaults); present, they must be valid
      if (s.colorScale !== undefined && s.colorScale !== 'absolute' && s.colorScale !== 'matrix') return undefined;
      if (s.zoom !== undefined && !ZOOMS.includes(s.zoom as Zoom)) return undefined;
      return {
        type: 'viewState',
        state: {
          kind: s.kind as AttentionKindName, layer: s.layer, head: s.head, aggregation: s.aggregation as Aggregation,
          colorScheme: s.colorScheme, selectedStep: s.selectedStep, peDimensions: [...(s.peDimensions as number[])],
          colorScale: s.colorScale === 'matrix' ? 'matrix' : 'absolute',
          zoom: s.zoom === undefined ? 1 : (s.zoom as Zoom),
        },
      };
    }
    case 'export': {
      if (m.format !== 'png' && m.format !== 'svg' && m.format !== 'json') return undefined;
      if (typeof m.fileName !== 'string' || !/^[\w.-]{1,100}$/.test(m.fileName)) return undefined;
      if (typeof m.data !== 'string' || m.data.length > 64 * 1024 * 1024) return undefined;
      return { type: 'export', format: m.format, fileName: m.fileName, data: m.data };
    }
    case 'revealSource':
      if (!isInt(m.start, 0, 1e9) || !isInt(m.end, 0, 1e9) || (m.end as number) < (m.start as number)) return undefined;
      return { type: 'revealSource', start: m.start as number, end: m.end as number };
    case 'openPanel':
      if (m.step !== undefined && !isInt(m.step, 0, 1e5)) return undefined;
      if (m.sentence !== undefined && !isInt(m.sentence, 0, 1e5)) return undefined;
      return {
        type: 'openPanel',
        step: m.step as number | undefined,
        ...(m.sentence !== undefined ? { sentence: m.sentence as number } : {}),
      };
    case 'selectSentence':
      if (!isInt(m.index, 0, 1e5)) return undefined;
      return { type: 'selectSentence', index: m.index as number };
    case 'scoreTarget':
      if (typeof m.target !== 'string' || m.target.length > MAX_WHY_TEXT) return undefined;
      return { type: 'scoreTarget', target: m.target };
    case 'clearTarget':
      return { type: 'clearTarget' };
    case 'branch':
      if (!isInt(m.step, 0, 1e5) || !isInt(m.tokenId, 0, 1e7)) return undefined;
      return { type: 'branch', step: m.step as number, tokenId: m.tokenId as number };
    case 'trace':
      if ((m.side !== 'source' && m.side !== 'target') || !isInt(m.token, 0, 1e5)) return undefined;
      return { type: 'trace', side: m.side, token: m.token as number };
    case 'compare':
      if (typeof m.a !== 'string' || typeof m.b !== 'string' || m.a.length > MAX_WHY_TEXT || m.b.length > MAX_WHY_TEXT) return undefined;
      return { type: 'compare', a: m.a, b: m.b };
    default:
      return undefined;
  }
}
