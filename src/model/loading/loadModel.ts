/** Loads a Hugging Face Marian folder: config, generation settings, weights and tokenizer, with errors that name the file. */
import * as path from 'node:path';
import type { GenerationSettings, MarianConfig } from './config';
import { FILE_CAPS, readSmallModelFile } from './files';
import type { ModelSummary } from '../../shared/explanation';
import type { MarianModel } from '../marian';
import { loadMarianNetwork } from './loadNetwork';
import type { KernelPath, KernelSetting, Precision } from '../kernels/kernelChoice';
import { MarianTokenizer } from '../tokenizer/marianTokenizer';

export interface LoadedModel {
  folder: string;
  config: MarianConfig;
  generation: GenerationSettings;
  model: MarianModel;
  tokenizer: MarianTokenizer;
  summary: ModelSummary;
  /** Longest source (tokens, eos included) the position table allows. */
  maxSourceTokens: number;
  /** The matrix-product kernels it runs on, and why not the ones asked for (see kernels/kernelChoice.ts). */
  kernel?: { path: KernelPath; precision?: Precision; note?: string };
}

export function loadModelFolder(folder: string, opts: { name?: string; kernel?: KernelSetting; precision?: Precision; onNote?: (line: string) => void } = {}): LoadedModel {
  const { dir, config, generation, model, kernel } = loadMarianNetwork(folder, { kernel: opts.kernel, precision: opts.precision, onNote: opts.onNote });
  // vocab.json is checked against vocab_size (entry count, every id) before any map is built from it
  const tokenizer = MarianTokenizer.fromFolder(dir, { vocabSize: config.vocabSize });
  const langs = readLanguages(dir);
  const summary: ModelSummary = {
    name: opts.name ?? path.basename(dir),
    dModel: config.dModel,
    encoderLayers: config.encoderLayers,
    decoderLayers: config.decoderLayers,
    encoderHeads: config.encoderHeads,
    decoderHeads: config.decoderHeads,
    vocabSize: config.vocabSize,
    activation: config.activation,
    ...langs,
    parameters: countParameters(model),
    languageCodes: [...tokenizer.languageCodes],
  };
  return { folder: dir, config, generation, model, tokenizer, summary, maxSourceTokens: config.maxPositions, kernel };
}

function countParameters(model: MarianModel): number {
  const seen = new Set<Float32Array>();
  const visit = (v: unknown): void => {
    if (v instanceof Float32Array) seen.add(v);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) visit(x);
  };
  visit(model.weights);
  let n = 0;
  for (const a of seen) n += a.length;
  return n;
}

function readLanguages(dir: string): { sourceLang?: string; targetLang?: string } {
  try {
    const t = JSON.parse(readSmallModelFile(path.join(dir, 'tokenizer_config.json'), FILE_CAPS.json).toString('utf8')) as Record<string, unknown>;
    return {
      sourceLang: typeof t.source_lang === 'string' ? t.source_lang : undefined,
      targetLang: typeof t.target_lang === 'string' ? t.target_lang : undefined,
    };
  } catch {
    return {}; // optional file: languages are informational only
  }
}
