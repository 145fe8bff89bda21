/**
 * The `attentionLens.*` settings, read and clamped in one place. Pure: takes anything with a
 * `get(key)` (a `vscode.WorkspaceConfiguration` for section 'attentionLens' fits).
 */
import * as path from 'node:path';
import { DEFAULT_PRECISION, isKernelSetting, isPrecision, type KernelSetting, type Precision } from '../model/kernels/kernelChoice';
import { modelKey, type ModelRef } from '../worker/workerProtocol';

export const SECTION = 'attentionLens';

export const HOVER_AGGREGATIONS = ['lastLayerMean', 'lastLayerMax', 'allLayersMean', 'firstLayerMean', 'layerHead'] as const;
export type HoverAggregation = (typeof HOVER_AGGREGATIONS)[number];

export interface LensSettings {
  /** Raw setting; empty = the bundled checkpoint. */
  modelPath: string;
  beams: number;
  topK: number;
  maxTokens: number;
  hoverEnabled: boolean;
  hoverAggregation: HoverAggregation;
  /** 1-based layer / head used when hoverAggregation is 'layerHead' (clamped to the model later). */
  hoverLayer: number;
  hoverHead: number;
  debounceMs: number;
  /** Target language code for multilingual models (`spa` or `>>spa<<`); empty = none. */
  targetLanguage: string;
  /** Threads for the model's matrix products; 0 = automatic (every core, at most 4). */
  threads: number;
  /** Matrix-product kernels: auto (WebAssembly SIMD where available), simd or js; same numbers at exact precision. */
  kernel: KernelSetting;
  /** How the SIMD kernels sum: float32 (as PyTorch) or exact (double sums, bit-identical to the JavaScript kernels). */
  kernelPrecision: Precision;
  /** VS Code languageIds the hover works in; "comments" = comments of any code language, "*" = everywhere. */
  hoverLanguages: string[];
  /** In code: explain only comments and string literals, or everything selected. */
  codeText: 'commentsAndStrings' | 'everything';
}

export const DEFAULTS: LensSettings = {
  modelPath: '',
  beams: 1,
  topK: 5,
  maxTokens: 128,
  hoverEnabled: true,
  hoverAggregation: 'lastLayerMean',
  hoverLayer: 1,
  hoverHead: 1,
  debounceMs: 300,
  targetLanguage: '',
  threads: 0,
  kernel: 'auto',
  kernelPrecision: DEFAULT_PRECISION,
  hoverLanguages: ['plaintext', 'markdown', 'comments'],
  codeText: 'commentsAndStrings',
};

/** The model and settings an explanation was computed with. */
export interface ResultContext {
  settings: LensSettings;
  model: ModelRef;
}

/**
 * What an explanation depends on: the model, what it is asked (beams, top-k, token budget, target language) and which
 * text of a selection it gets (code handling). Every cache of results (the explanation store, the hover cache, the
 * side view) is keyed by or cleared with this, so no view shows numbers computed under other settings.
 */
export function resultsKey({ settings: s, model }: ResultContext): string {
  return JSON.stringify([modelKey(model), s.beams, s.topK, s.maxTokens, s.targetLanguage, s.codeText, s.kernelPrecision]);
}

export function resultsChanged(before: ResultContext, after: ResultContext): boolean {
  return resultsKey(before) !== resultsKey(after);
}

/** Keys relative to the section, as declared in package.json `contributes.configuration`. */
export const KEYS = {
  modelPath: 'modelPath',
  beams: 'beams',
  topK: 'topK',
  maxTokens: 'maxTokens',
  hoverEnabled: 'hover.enabled',
  hoverAggregation: 'hover.aggregation',
  hoverLayer: 'hover.layer',
  hoverHead: 'hover.head',
  debounceMs: 'translation.debounceMs',
  targetLanguage: 'targetLanguage',
  threads: 'threads',
  kernel: 'kernel',
  kernelPrecision: 'kernelPrecision',
  hoverLanguages: 'hover.languages',
  codeText: 'code.explain',
} as const satisfies Record<keyof LensSettings, string>;

export interface ConfigLike {
  get<T>(key: string): T | undefined;
}

function int(value: unknown, fallback: number, min: number, max: number): number {
  const n = typeof value === 'number' && Number.isFinite(value) ? Math.round(value) : fallback;
  return Math.min(max, Math.max(min, n));
}

export function readSettings(config: ConfigLike): LensSettings {
  const agg = config.get<string>(KEYS.hoverAggregation);
  const modelPath = config.get<unknown>(KEYS.modelPath);
  const hoverEnabled = config.get<unknown>(KEYS.hoverEnabled);
  const targetLanguage = config.get<unknown>(KEYS.targetLanguage);
  const hoverLanguages = config.get<unknown>(KEYS.hoverLanguages);
  return {
    modelPath: typeof modelPath === 'string' ? modelPath.trim() : '',
    beams: int(config.get(KEYS.beams), DEFAULTS.beams, 1, 8),
    topK: int(config.get(KEYS.topK), DEFAULTS.topK, 1, 20),
    maxTokens: int(config.get(KEYS.maxTokens), DEFAULTS.maxTokens, 8, 512),
    hoverEnabled: typeof hoverEnabled === 'boolean' ? hoverEnabled : DEFAULTS.hoverEnabled,
    hoverAggregation: (HOVER_AGGREGATIONS as readonly string[]).includes(agg ?? '') ? (agg as HoverAggregation) : DEFAULTS.hoverAggregation,
    hoverLayer: int(config.get(KEYS.hoverLayer), DEFAULTS.hoverLayer, 1, 64),
    hoverHead: int(config.get(KEYS.hoverHead), DEFAULTS.hoverHead, 1, 64),
    debounceMs: int(config.get(KEYS.debounceMs), DEFAULTS.debounceMs, 0, 5000),
    targetLanguage: typeof targetLanguage === 'string' ? targetLanguage.trim() : '',
    threads: int(config.get(KEYS.threads), DEFAULTS.threads, 0, 16),
    kernel: isKernelSetting(config.get(KEYS.kernel)) ? (config.get(KEYS.kernel) as KernelSetting) : DEFAULTS.kernel,
    kernelPrecision: isPrecision(config.get(KEYS.kernelPrecision)) ? (config.get(KEYS.kernelPrecision) as Precision) : DEFAULTS.kernelPrecision,
    hoverLanguages: Array.isArray(hoverLanguages)
      ? hoverLanguages.filter((x): x is string => typeof x === 'string').map((x) => x.trim()).filter(Boolean).slice(0, 100)
      : [...DEFAULTS.hoverLanguages],
    codeText: config.get(KEYS.codeText) === 'everything' ? 'everything' : 'commentsAndStrings',
  };
}

/** The display name the engine should give the model ("bundled" for the shipped checkpoint). */
export const BUNDLED_NAME = 'bundled';

export interface ResolvedModel {
  dir: string;
  name: string;
  bundled: boolean;
}

/**
 * Turns the `modelPath` setting into an absolute folder: empty = bundled checkpoint, `~` = home,
 * relative paths are resolved against the first workspace folder (or the home folder without one).
 */
export function resolveModelDir(modelPath: string, bundledDir: string, workspaceDir: string | undefined, homeDir: string): ResolvedModel {
  const raw = modelPath.trim();
  if (!raw) return { dir: bundledDir, name: BUNDLED_NAME, bundled: true };
  let p = raw;
  if (p === '~') p = homeDir;
  else if (p.startsWith('~/') || p.startsWith('~\\')) p = path.join(homeDir, p.slice(2));
  const dir = path.resolve(workspaceDir ?? homeDir, p);
  if (path.resolve(dir) === path.resolve(bundledDir)) return { dir: bundledDir, name: BUNDLED_NAME, bundled: true };
  return { dir, name: path.basename(dir) || dir, bundled: false };
}
